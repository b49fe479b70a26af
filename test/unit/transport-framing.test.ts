import { expect } from 'chai';
import fc from 'fast-check';
import { MessageReader, type FrameEvent } from '../../src/transport/index.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

function feed(reader: MessageReader, ...chunks: (string | Buffer)[]): FrameEvent[] {
  return chunks.flatMap((chunk) => reader.push(typeof chunk === 'string' ? bytes(chunk) : chunk));
}

const texts = (events: FrameEvent[]): string[] =>
  events.map((event) => (event.kind === 'message' ? event.text : `<${event.kind}>`));

describe('transport framing (MessageReader)', () => {
  it('splits on newlines, accepts \\r\\n endings and ignores blank lines', () => {
    const reader = new MessageReader();
    expect(texts(feed(reader, 'one\ntwo\r\n\n  \r\n\tthree\n'))).to.deep.equal(['one', 'two', '\tthree']);
    expect(reader.hasPartial).to.equal(false);
  });

  it('joins a line split across chunks and holds it until its newline', () => {
    const reader = new MessageReader();
    expect(feed(reader, '12', '34')).to.deep.equal([]);
    expect(reader.hasPartial).to.equal(true);
    expect(texts(feed(reader, '5\nsix'))).to.deep.equal(['12345']);
    expect(reader.hasPartial).to.equal(true);
  });

  it('emits a complete object or array that has no newline after it', () => {
    const reader = new MessageReader();
    expect(texts(feed(reader, '{"action":"list_allocations"}'))).to.deep.equal(['{"action":"list_allocations"}']);
    expect(texts(feed(reader, '[1,[2,{"a":[]}]]  '))).to.deep.equal(['[1,[2,{"a":[]}]]  ']);
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

  it('does not treat a scalar or two values without a newline as complete', () => {
    const reader = new MessageReader();
    expect(feed(reader, '42')).to.deep.equal([]);
    expect(texts(feed(reader, '\n'))).to.deep.equal(['42']);
    expect(feed(reader, '{}{}')).to.deep.equal([]);
    expect(feed(reader, '{} x')).to.deep.equal([]);
    expect(texts(feed(reader, '\n'))).to.deep.equal(['{}{}{} x']);
  });

  it('emits an unbalanced line at its newline for the RPC layer to reject', () => {
    const reader = new MessageReader();
    expect(texts(feed(reader, '{"a":1\n', '}]\n'))).to.deep.equal(['{"a":1', '}]']);
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
    expect(feed(reader, Buffer.from([0x22, 0xe2, 0x82, 0x0a]))[0]?.kind).to.equal('invalid-utf8');
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
    const events = feed(reader, 'ok\n' + 'z'.repeat(17) + '\nlater\n');
    expect(events).to.deep.equal([
      { kind: 'message', text: 'ok' },
      { kind: 'oversized', bytes: 17 },
    ]);
    expect(feed(reader, 'more\n')).to.deep.equal([]);
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
      expect(reader.bufferedBytes).to.be.at.most(limit + 1);
    }
    expect(sent).to.be.at.most(limit + chunk.length);
    expect(events).to.deep.equal([{ kind: 'oversized', bytes: sent }]);
    expect(reader.bufferedBytes).to.equal(0);
  });

  it('does not hold whitespace that is not part of a message', () => {
    const reader = new MessageReader(8);
    for (let i = 0; i < 100; i++) expect(feed(reader, '        ')).to.deep.equal([]);
    expect(reader.bufferedBytes).to.equal(0);
    expect(reader.hasPartial).to.equal(false);
    expect(texts(feed(reader, '[1]'))).to.deep.equal(['[1]']);
  });

  it('hands over what is left at the end of input, newline or not', () => {
    const reader = new MessageReader();
    feed(reader, 'first\n{"unfinished"');
    expect(texts(reader.end())).to.deep.equal(['{"unfinished"']);
    expect(reader.end()).to.deep.equal([]);
    feed(reader, '  ');
    expect(reader.end()).to.deep.equal([]);
  });

  it('yields the same messages however the stream is cut into chunks', () => {
    const jsonText = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value));
    fc.assert(
      fc.property(
        fc.array(jsonText, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        (messages, cutSeeds, crlf) => {
          const stream = bytes(messages.map((message) => message + (crlf ? '\r\n' : '\n')).join(''));
          const cuts = [...new Set(cutSeeds.map((seed) => seed % (stream.length + 1)))].sort((a, b) => a - b);
          const reader = new MessageReader();
          const events: FrameEvent[] = [];
          let from = 0;
          for (const cut of [...cuts, stream.length]) {
            events.push(...reader.push(stream.subarray(from, cut)));
            from = cut;
          }
          // A scalar cut right before its newline stays pending until the newline arrives, and
          // an object or array may be emitted early; either way each message comes out once.
          expect(texts(events)).to.deep.equal(messages);
        },
      ),
    );
  });
});
