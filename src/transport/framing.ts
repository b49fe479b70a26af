// Splits one connection's byte stream into messages (docs/api.md). A message is one JSON value: it
// ends where the value ends, so several values back to back (`{…}{…}`) are that many messages and
// a value with no newline after it is answered at once (one-shot clients send one and wait). A
// newline also ends a message: a value still open there is a syntax error. Bytes that can no
// longer become JSON are reported at once, and the rest of their line is dropped.
// Pure: the caller feeds chunks and acts on the returned events.
import { JsonScanner } from './json-scanner.js';
import { TRANSPORT_DEFAULTS } from './limits.js';

export type FrameEvent =
  | { readonly kind: 'message'; readonly text: string }
  | { readonly kind: 'invalid-json'; readonly bytes: number }
  | { readonly kind: 'invalid-utf8'; readonly bytes: number }
  /** `open`: the message's line had not ended, so more of it may still be on its way. */
  | { readonly kind: 'oversized'; readonly bytes: number; readonly open: boolean };

const LF = 0x0a;

const isBlank = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === 0x0d;

export class MessageReader {
  readonly #maxBytes: number;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  readonly #scanner = new JsonScanner();
  /** Bytes of the message in progress from earlier chunks. */
  #pieces: Uint8Array[] = [];
  #held = 0;
  /** A value has begun and not ended. */
  #inValue = false;
  /** After a syntax error: bytes are dropped up to the next newline; how many so far. */
  #skipping = false;
  #skipped = 0;
  #failed = false;

  constructor(maxMessageBytes: number = TRANSPORT_DEFAULTS.maxMessageBytes) {
    this.#maxBytes = maxMessageBytes;
  }

  /** True while part of a message has arrived but not the rest (a bad line being dropped too). */
  get hasPartial(): boolean {
    return (this.#inValue || this.#skipping) && !this.#failed;
  }

  /**
   * Feeds one chunk. After an 'oversized' event the reader is spent: that message and all later
   * input are dropped, since the connection is closed after its reply.
   */
  push(chunk: Uint8Array): FrameEvent[] {
    const events: FrameEvent[] = [];
    let i = 0;
    while (i < chunk.length && !this.#failed) {
      if (this.#skipping) {
        i = this.#skipLine(chunk, i, events);
        continue;
      }
      let start = 0;
      if (!this.#inValue) {
        while (i < chunk.length && isBlank(chunk[i]!)) i++;
        if (i === chunk.length) break;
        if (chunk[i] === LF) {
          i++;
          continue;
        }
        this.#inValue = true;
        start = i;
      }
      const { stop, at } = this.#scanner.scan(chunk, i, chunk.length);
      switch (stop) {
        case 'value-end':
          this.#emit(chunk.subarray(start, at), events);
          i = at;
          break;
        case 'newline':
          if (this.#scanner.completesAtEnd()) this.#emit(chunk.subarray(start, at), events);
          else this.#invalid(chunk.subarray(start, at).length, events);
          i = at + 1;
          break;
        case 'invalid':
          this.#invalid(at - start, events);
          this.#skipping = true;
          i = at;
          break;
        case 'need-more':
          this.#hold(chunk.subarray(start), events);
          i = chunk.length;
          break;
      }
    }
    return events;
  }

  /** The peer finished sending: a value it left open is complete only if it is a number. */
  end(): FrameEvent[] {
    const events: FrameEvent[] = [];
    if (this.#inValue && !this.#failed) {
      if (this.#scanner.completesAtEnd()) this.#emit(new Uint8Array(0), events);
      else this.#invalid(0, events);
    }
    this.#reset();
    return events;
  }

  /** Drops the bad line's bytes up to its newline; returns where to go on. */
  #skipLine(chunk: Uint8Array, from: number, events: FrameEvent[]): number {
    const newline = chunk.indexOf(LF, from);
    const dropped = (newline < 0 ? chunk.length : newline) - from;
    this.#skipped += dropped;
    if (this.#skipped > this.#maxBytes) {
      this.#fail(this.#skipped, events, newline < 0);
      return chunk.length;
    }
    if (newline < 0) return chunk.length;
    this.#skipping = false;
    this.#skipped = 0;
    return newline + 1;
  }

  #hold(tail: Uint8Array, events: FrameEvent[]): void {
    if (this.#held + tail.length > this.#maxBytes) {
      this.#fail(this.#held + tail.length, events, true);
      return;
    }
    // A copy, so a small tail does not pin the whole chunk it came in.
    this.#pieces.push(Buffer.from(tail));
    this.#held += tail.length;
  }

  /** The message in progress ends with `last`, its final bytes from the current chunk. */
  #emit(last: Uint8Array, events: FrameEvent[]): void {
    const bytes = this.#pieces.length === 0 ? last : Buffer.concat([...this.#pieces, last]);
    if (bytes.length > this.#maxBytes) {
      this.#fail(bytes.length, events, false);
      return;
    }
    this.#reset();
    try {
      events.push({ kind: 'message', text: this.#decoder.decode(bytes) });
    } catch {
      events.push({ kind: 'invalid-utf8', bytes: bytes.length });
    }
  }

  /** The message in progress cannot be JSON; `last` bytes of it came in the current chunk. */
  #invalid(last: number, events: FrameEvent[]): void {
    const bytes = this.#held + last;
    this.#reset();
    events.push({ kind: 'invalid-json', bytes });
  }

  #fail(bytes: number, events: FrameEvent[], open: boolean): void {
    this.#reset();
    this.#failed = true;
    events.push({ kind: 'oversized', bytes, open });
  }

  #reset(): void {
    this.#pieces = [];
    this.#held = 0;
    this.#inValue = false;
    this.#skipping = false;
    this.#skipped = 0;
    this.#scanner.reset();
  }
}
