// Splits one connection's byte stream into messages (SPEC §3): one per line, and also a complete
// JSON object or array that arrived with no newline after it (one-shot clients send one and wait).
// Pure: the caller feeds chunks and acts on the returned events.
//
// Completeness is tracked byte by byte as chunks arrive (string, escape and bracket depth), so a
// message is never re-parsed. Scanning raw bytes is safe: every byte of a multi-byte UTF-8
// character is >= 0x80, so none can look like a quote, backslash, bracket or newline.

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

export type FrameEvent =
  | { readonly kind: 'message'; readonly text: string }
  | { readonly kind: 'invalid-utf8'; readonly bytes: number }
  | { readonly kind: 'oversized'; readonly bytes: number };

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const isWhitespace = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === CR;

/**
 * What the current message looks like so far. empty: whitespace at most (nothing worth keeping);
 * open: inside a top-level object or array; complete: that object or array has closed, followed by
 * whitespace at most; line: anything else, which only a newline (or the end of input) ends.
 */
type Shape = 'empty' | 'open' | 'complete' | 'line';

export class MessageReader {
  readonly #maxBytes: number;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  #pieces: Uint8Array[] = [];
  #held = 0;
  #shape: Shape = 'empty';
  #depth = 0;
  #inString = false;
  #escaped = false;
  #failed = false;

  constructor(maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES) {
    this.#maxBytes = maxMessageBytes;
  }

  /** True while part of a message has arrived but not the rest. */
  get hasPartial(): boolean {
    return this.#shape !== 'empty' && !this.#failed;
  }

  /** Bytes held for the incomplete message: never more than the limit (plus a trailing `\r`). */
  get bufferedBytes(): number {
    return this.#held;
  }

  /**
   * Feeds one chunk. After an 'oversized' event the reader is spent: that message and all later
   * input are dropped, since the connection is closed after its reply.
   */
  push(chunk: Uint8Array): FrameEvent[] {
    const events: FrameEvent[] = [];
    if (this.#failed) return events;
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === LF) {
        this.#endMessage(chunk.subarray(start, i), events);
        if (this.#failed) return events;
        start = i + 1;
      } else {
        this.#scan(byte);
      }
    }
    const tail = chunk.subarray(start);
    if (this.#shape === 'empty') this.#reset();
    else if (this.#shape === 'complete') this.#endMessage(tail, events);
    else if (this.#held + tail.length - (tail.at(-1) === CR ? 1 : 0) > this.#maxBytes) {
      this.#fail(this.#held + tail.length, events);
    } else {
      // A copy, so a small tail does not pin the whole chunk it came in.
      this.#pieces.push(Buffer.from(tail));
      this.#held += tail.length;
    }
    return events;
  }

  /** The peer finished sending: whatever it sent last is a message, newline or not. */
  end(): FrameEvent[] {
    const events: FrameEvent[] = [];
    if (this.hasPartial) this.#endMessage(new Uint8Array(0), events);
    this.#reset();
    return events;
  }

  #scan(byte: number): void {
    switch (this.#shape) {
      case 'line':
        return;
      case 'empty':
        if (isWhitespace(byte)) return;
        if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
          this.#shape = 'open';
          this.#depth = 1;
        } else {
          this.#shape = 'line';
        }
        return;
      case 'complete':
        if (!isWhitespace(byte)) this.#shape = 'line';
        return;
      case 'open':
        this.#scanInside(byte);
    }
  }

  #scanInside(byte: number): void {
    if (this.#inString) {
      if (this.#escaped) this.#escaped = false;
      else if (byte === BACKSLASH) this.#escaped = true;
      else if (byte === QUOTE) this.#inString = false;
    } else if (byte === QUOTE) {
      this.#inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      this.#depth++;
    } else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --this.#depth === 0) {
      this.#shape = 'complete';
    }
  }

  /** Ends the current message with `last`, its final bytes from the current chunk. */
  #endMessage(last: Uint8Array, events: FrameEvent[]): void {
    if (this.#shape === 'empty') {
      this.#reset();
      return;
    }
    let bytes = this.#pieces.length === 0 ? last : Buffer.concat([...this.#pieces, last]);
    if (bytes.at(-1) === CR) bytes = bytes.subarray(0, -1);
    if (bytes.length > this.#maxBytes) {
      this.#fail(bytes.length, events);
      return;
    }
    this.#reset();
    try {
      events.push({ kind: 'message', text: this.#decoder.decode(bytes) });
    } catch {
      events.push({ kind: 'invalid-utf8', bytes: bytes.length });
    }
  }

  #fail(bytes: number, events: FrameEvent[]): void {
    this.#reset();
    this.#failed = true;
    events.push({ kind: 'oversized', bytes });
  }

  #reset(): void {
    this.#pieces = [];
    this.#held = 0;
    this.#shape = 'empty';
    this.#depth = 0;
    this.#inString = false;
    this.#escaped = false;
  }
}
