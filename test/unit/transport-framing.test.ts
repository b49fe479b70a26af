import { expect } from 'chai';
import fc from 'fast-check';
import { MessageReader, type FrameEvent } from '../../src/transport/index.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

function feed(reader: MessageReader, ...chunks: (string | Buffer)[]): FrameEvent[] {
  return chunks.flatMap((chunk) => reader.push(typeof chunk === 'string' ? bytes(chunk) : chunk));
}

/** Feeds `stream` to a new reader in chunks cut at the given places (taken modulo its length). */
function feedCut(stream: Buffer, cutSeeds: readonly number[]): FrameEvent[] {
  const cuts = [...new Set(cutSeeds.map((seed) => seed % (stream.length + 1)))].sort((a, b) => a - b);
  const reader = new MessageReader();
  const events: FrameEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    events.push(...reader.push(stream.subarray(from, cut)));
    from = cut;
  }
  return events;
}

const texts = (events: FrameEvent[]): string[] =>
  events.map((event) => (event.kind === 'message' ? event.text : `<${event.kind}>`));

describe('transport framing (MessageReader)', () => {
  it('splits on newlines, accepts \\r\\n endings and ignores blank lines', () => {
    const reader = new MessageReader();
    expect(texts(feed(reader, '1\n"two"\r\n\n  \r\n\t[3]\n'))).to.deep.equal(['1', '"two"', '[3]']);
    expect(reader.hasPartial).to.equal(false);
  });

  it('holds a number split across chunks until something ends it', () => {
    const reader = new MessageReader();
    expect(feed(reader, '12', '34')).to.deep.equal([]);
    expect(reader.hasPartial).to.equal(true);
    expect(texts(feed(reader, '5\n"six'))).to.deep.equal(['12345']);
    expect(reader.hasPartial).to.equal(true);
    expect(texts(feed(reader, '"'))).to.deep.equal(['"six"']);
  });

  it('emits a complete object or array that has no newline after it', () => {
    const reader = new MessageReader();
    expect(texts(feed(reader, '{"action":"list_allocations"}'))).to.deep.equal(['{"action":"list_allocations"}']);
    expect(texts(feed(reader, '[1,[2,{"a":[]}]]  '))).to.deep.equal(['[1,[2,{"a":[]}]]']);
    expect(reader.hasPartial).to.equal(false);
    // The newline that may follow later is then just a blank line.
    expect(feed(reader, '\n')).to.deep.equal([]);
  });

  it('waits for the closing bracket of a value sent in pieces', () => {
    const reader = new MessageReader();
    expect(feed(reader, '{"a":{"b"', ':[1,2]}')).to.deep.equal([]);
    expect(texts(feed(reader, '}'))).to.deep.equal(['{"a":{"b":[1,2]}}']);
  });

  it('is not fooled by brackets, quotes and backslashes inside strings', () => {
    const tricky = [
      '{"a":"}"}',
      '{"a":"\\"}"}',
      '{"a":"\\\\"}',
      '{"a":"\\\\\\"]}"}',
      '{"a":"{[\\n]"}',
      '["\\u005c", "}}}"]',
    ];
    for (const text of tricky) {
      expect(() => JSON.parse(text) as unknown, text).to.not.throw();
      for (let cut = 0; cut <= text.length; cut++) {
        const events = feed(new MessageReader(), text.slice(0, cut), text.slice(cut));
        expect(texts(events), `${text} cut at ${cut}`).to.deep.equal([text]);
      }
    }
  });

  it('cuts values sent back to back into that many messages, in one chunk', () => {
    const reader = new MessageReader();
    expect(texts(feed(reader, '{"a":1}{"b":[2]}'))).to.deep.equal(['{"a":1}', '{"b":[2]}']);
    expect(texts(feed(reader, '[1] [2]\t"three""four"true null{}'))).to.deep.equal(['[1]', '[2]', '"three"', '"four"', 'true', 'null', '{}']);
    expect(texts(feed(reader, '1 -2.5e3,'))).to.deep.equal(['1', '-2.5e3', '<invalid-json>']);
    expect(reader.hasPartial, 'the rest of a bad line is being dropped').to.equal(true);
  });

  it('waits for a number that may go on, and ends it at a newline, a space or the next value', () => {
    const reader = new MessageReader();
    expect(feed(reader, '42')).to.deep.equal([]);
    expect(texts(feed(reader, '\n'))).to.deep.equal(['42']);
    expect(texts(feed(reader, '7', '0{}'))).to.deep.equal(['70', '{}']);
    expect(texts(feed(reader, '-0.5 '))).to.deep.equal(['-0.5']);
  });

  it('answers bytes that can no longer be JSON at once, drops the rest of their line, and goes on', () => {
    const reader = new MessageReader();
    expect(texts(feed(reader, 'not json'))).to.deep.equal(['<invalid-json>']);
    expect(feed(reader, ' more garbage {"not":"this"}')).to.deep.equal([]);
    expect(texts(feed(reader, '\n{"ok":1}'))).to.deep.equal(['{"ok":1}']);
    for (const bad of ['01', '1.5.3', '1e5e', '{"a":1,}', '{"a" 1}', '[1 2]', '{1:2}', 'nul1', '01', '-x', '1.e5', '"\\x"', '"\\u12G4"', '{"a":1}}', ']', '\u00e9']) {
      const events = feed(new MessageReader(), bad);
      expect(events.at(-1), bad).to.deep.include({ kind: 'invalid-json' });
    }
  });

  it('answers a value still open at its newline as not JSON', () => {
    const reader = new MessageReader();
    expect(texts(feed(reader, '{"a":1\n', '{"b":"x\n', '[1.\n'))).to.deep.equal(['<invalid-json>', '<invalid-json>', '<invalid-json>']);
    expect(reader.hasPartial).to.equal(false);
  });

  it('decodes a multi-byte character split between chunks', () => {
    const reader = new MessageReader();
    const whole = bytes('{"name":"nœud-é-€-𝄞"}');
    for (let cut = 0; cut <= whole.length; cut++) {
      expect(texts(feed(reader, whole.subarray(0, cut), whole.subarray(cut)))).to.deep.equal([whole.toString()]);
    }
  });

  it('reports invalid UTF-8 as an event and goes on with the next message', () => {
    const reader = new MessageReader();
    const bad = Buffer.concat([bytes('{"a":"'), Buffer.from([0xff, 0xfe]), bytes('"}\n')]);
    const events = feed(reader, bad, '{"b":1}\n');
    expect(events).to.deep.equal([
      { kind: 'invalid-utf8', bytes: bad.length - 1 },
      { kind: 'message', text: '{"b":1}' },
    ]);
    // A truncated sequence counts as invalid too.
    expect(feed(reader, Buffer.from([0x22, 0xe2, 0x82, 0x22]))[0]?.kind).to.equal('invalid-utf8');
  });

  it('accepts a message of exactly the limit, with or without \\r', () => {
    const limit = 64;
    const exact = `"${'x'.repeat(limit - 2)}"`;
    expect(texts(feed(new MessageReader(limit), exact + '\n'))).to.deep.equal([exact]);
    expect(texts(feed(new MessageReader(limit), exact + '\r', '\n'))).to.deep.equal([exact]);
    const object = `{"k":"${'y'.repeat(limit - 8)}"}`;
    expect(object.length).to.equal(limit);
    expect(texts(feed(new MessageReader(limit), object))).to.deep.equal([object]);
  });

  it('reports a line over the limit that arrives in one chunk, then drops everything after it', () => {
    const reader = new MessageReader(16);
    const events = feed(reader, '1\n"' + 'z'.repeat(15) + '"\n2\n');
    expect(events).to.deep.equal([
      { kind: 'message', text: '1' },
      { kind: 'oversized', bytes: 17, open: false },
    ]);
    expect(feed(reader, '3\n')).to.deep.equal([]);
    expect(reader.hasPartial).to.equal(false);
  });

  it('reports an oversized message as soon as it passes the limit, holding no more than that', () => {
    const limit = 1000;
    const reader = new MessageReader(limit);
    const chunk = '[' + '1,'.repeat(100);
    let events: FrameEvent[] = [];
    let sent = 0;
    while (events.length === 0) {
      events = feed(reader, chunk);
      sent += chunk.length;
    }
    expect(sent).to.be.at.most(limit + chunk.length);
    expect(events, 'the rest of the message may still come').to.deep.equal([{ kind: 'oversized', bytes: sent, open: true }]);
    expect(reader.hasPartial, 'nothing held after it').to.equal(false);
  });

  it('does not hold whitespace that is not part of a message: it never counts towards the limit', () => {
    const reader = new MessageReader(8);
    for (let i = 0; i < 100; i++) expect(feed(reader, '        ')).to.deep.equal([]);
    expect(reader.hasPartial).to.equal(false);
    expect(texts(feed(reader, '[1]'))).to.deep.equal(['[1]']);
  });

  it('hands over what is left at the end of input, newline or not', () => {
    const reader = new MessageReader();
    expect(texts(feed(reader, '1\n{"unfinished"'))).to.deep.equal(['1']);
    expect(texts(reader.end())).to.deep.equal(['<invalid-json>']);
    expect(reader.end()).to.deep.equal([]);
    feed(reader, '  ');
    expect(reader.end()).to.deep.equal([]);
    feed(reader, '42');
    expect(texts(reader.end())).to.deep.equal(['42']);
  });

  it('drops a bad line over the limit as an oversized message', () => {
    const reader = new MessageReader(16);
    expect(texts(feed(reader, 'x' + 'y'.repeat(10), 'z'.repeat(10)))).to.deep.equal(['<invalid-json>', '<oversized>']);
    expect(feed(reader, '\n1\n')).to.deep.equal([]);
  });

  it('cuts values written with no separator at all, however the stream is cut into chunks', () => {
    const containers = fc.oneof(fc.array(fc.jsonValue({ maxDepth: 2 })), fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), fc.string());
    fc.assert(
      fc.property(fc.array(containers.map((value) => JSON.stringify(value)), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (messages, cutSeeds) => {
        expect(texts(feedCut(bytes(messages.join('')), cutSeeds))).to.deep.equal(messages);
      }),
    );
  });

  it('agrees with JSON.parse on every line: a message exactly when the line is JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ unit: 'binary-ascii', maxLength: 24 }), fc.stringMatching(/^[-+.eE0-9 {}[\],:"tfnrul]{0,12}$/)), (line) => {
        fc.pre(!line.includes('\n'));
        let valid = true;
        try {
          JSON.parse(line);
        } catch {
          valid = false;
        }
        fc.pre(line.trim() !== '');
        const events = feed(new MessageReader(), line + '\n');
        if (valid) {
          expect(texts(events)).to.deep.equal([line.trim()]);
        } else if (!events.some((e) => e.kind === 'invalid-json')) {
          // Not one value but several back to back, such as `0 1`: each one is JSON.
          expect(events.length).to.be.at.least(2);
          for (const text of texts(events)) expect(() => JSON.parse(text) as unknown, text).to.not.throw();
        }
      }),
    );
  });

  it('yields the same messages however the stream is cut into chunks', () => {
    const jsonText = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value));
    fc.assert(
      fc.property(
        fc.array(jsonText, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        (messages, cutSeeds, crlf) => {
          const events = feedCut(bytes(messages.map((message) => message + (crlf ? '\r\n' : '\n')).join('')), cutSeeds);
          // A scalar cut right before its newline stays pending until the newline arrives, and
          // an object or array may be emitted early; either way each message comes out once.
          expect(texts(events)).to.deep.equal(messages);
        },
      ),
    );
  });
});
