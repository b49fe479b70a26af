// An incremental JSON syntax checker over raw bytes (RFC 8259): it says where a JSON value ends
// and the first byte at which the input can no longer be JSON, without building the value. The
// framer uses it to cut back-to-back values apart and to refuse garbage at once instead of
// waiting for a newline. Scanning bytes is safe: every byte of a multi-byte UTF-8 character is
// >= 0x80, which the grammar only allows inside strings (the decoder checks the UTF-8 later).

/** Why a scan stopped. */
export type ScanStop =
  /** Every byte was consumed and the value is not finished yet. */
  | 'need-more'
  /** A top-level value ended just before the returned index. */
  | 'value-end'
  /** The byte at the returned index cannot continue any JSON value. */
  | 'invalid'
  /** The byte at the returned index is a newline (never consumed: lines are the framer's). */
  | 'newline';

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

// States. A value begins in VALUE (or ARRAY_FIRST, where `]` may also come).
const VALUE = 0;
const ARRAY_FIRST = 1;
const OBJECT_FIRST = 2;
const KEY = 3;
const AFTER_KEY = 4;
const AFTER_VALUE = 5;
const STRING = 6;
const ESCAPE = 7;
const UNICODE = 8;
const LITERAL = 9;
const NUM_MINUS = 10;
const NUM_ZERO = 11;
const NUM_INT = 12;
const NUM_DOT = 13;
const NUM_FRAC = 14;
const NUM_E = 15;
const NUM_E_SIGN = 16;
const NUM_EXP = 17;

const isWhitespace = (byte: number): boolean => byte === SPACE || byte === TAB || byte === CR;
const isDigit = (byte: number): boolean => byte >= ZERO && byte <= NINE;
const isHex = (byte: number): boolean => isDigit(byte) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66);
const isNumberByte = (byte: number): boolean =>
  isDigit(byte) || byte === DOT || byte === MINUS || byte === PLUS || byte === LOWER_E || byte === UPPER_E;
/** A number that ends here is complete: it does not end on `-`, `.`, `e` or an exponent sign. */
const isCompleteNumber = (state: number): boolean =>
  state === NUM_ZERO || state === NUM_INT || state === NUM_FRAC || state === NUM_EXP;

const LITERALS: Readonly<Record<number, string>> = { 0x74: 'true', 0x66: 'false', 0x6e: 'null' };
const SIMPLE_ESCAPES = new Set([QUOTE, BACKSLASH, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

export class JsonScanner {
  #state = VALUE;
  /** Open containers, innermost last: OPEN_BRACE or OPEN_BRACKET. */
  #stack: number[] = [];
  #stringIsKey = false;
  #literal = '';
  #literalAt = 0;
  #hexDigits = 0;

  /** Back to the start of a new top-level value. */
  reset(): void {
    this.#state = VALUE;
    this.#stack.length = 0;
  }

  /**
   * At a newline or the end of input: whether the value scanned so far is complete. Only a
   * top-level number can be: every other value is reported complete by `scan` as it closes.
   */
  completesAtEnd(): boolean {
    return this.#stack.length === 0 && isCompleteNumber(this.#state);
  }

  /**
   * Scans bytes[from, to) from where the last scan stopped. Returns the stop and the index it
   * refers to: for 'need-more' that is `to`.
   */
  scan(bytes: Uint8Array, from: number, to: number): { stop: ScanStop; at: number } {
    let i = from;
    while (i < to) {
      const byte = bytes[i]!;
      if (byte === LF) return { stop: 'newline', at: i };
      switch (this.#state) {
        case STRING: {
          // The bulk of any message: run through plain string bytes in one tight loop.
          let b = byte;
          while (b !== QUOTE && b !== BACKSLASH && b >= SPACE) {
            if (++i === to) return { stop: 'need-more', at: to };
            b = bytes[i]!;
          }
          if (b === QUOTE) {
            if (this.#stringIsKey) this.#state = AFTER_KEY;
            else if (this.#valueDone()) return { stop: 'value-end', at: i + 1 };
          } else if (b === BACKSLASH) {
            this.#state = ESCAPE;
          } else {
            // A control character (a raw newline included) is not allowed in a string.
            return { stop: b === LF ? 'newline' : 'invalid', at: i };
          }
          break;
        }
        case ESCAPE:
          if (byte === 0x75) {
            this.#state = UNICODE;
            this.#hexDigits = 0;
          } else if (SIMPLE_ESCAPES.has(byte)) {
            this.#state = STRING;
          } else {
            return { stop: 'invalid', at: i };
          }
          break;
        case UNICODE:
          if (!isHex(byte)) return { stop: 'invalid', at: i };
          if (++this.#hexDigits === 4) this.#state = STRING;
          break;
        case LITERAL:
          if (byte !== this.#literal.charCodeAt(this.#literalAt)) return { stop: 'invalid', at: i };
          if (++this.#literalAt === this.#literal.length && this.#valueDone()) return { stop: 'value-end', at: i + 1 };
          break;
        case VALUE:
        case ARRAY_FIRST:
          if (isWhitespace(byte)) break;
          if (byte === CLOSE_BRACKET && this.#state === ARRAY_FIRST) {
            if (this.#close()) return { stop: 'value-end', at: i + 1 };
            break;
          }
          if (!this.#startValue(byte)) return { stop: 'invalid', at: i };
          break;
        case OBJECT_FIRST:
        case KEY:
          if (isWhitespace(byte)) break;
          if (byte === QUOTE) {
            this.#state = STRING;
            this.#stringIsKey = true;
          } else if (byte === CLOSE_BRACE && this.#state === OBJECT_FIRST) {
            if (this.#close()) return { stop: 'value-end', at: i + 1 };
          } else {
            return { stop: 'invalid', at: i };
          }
          break;
        case AFTER_KEY:
          if (isWhitespace(byte)) break;
          if (byte !== COLON) return { stop: 'invalid', at: i };
          this.#state = VALUE;
          break;
        case AFTER_VALUE: {
          if (isWhitespace(byte)) break;
          const open = this.#stack[this.#stack.length - 1];
          if (byte === COMMA) {
            this.#state = open === OPEN_BRACE ? KEY : VALUE;
          } else if ((byte === CLOSE_BRACE && open === OPEN_BRACE) || (byte === CLOSE_BRACKET && open === OPEN_BRACKET)) {
            if (this.#close()) return { stop: 'value-end', at: i + 1 };
          } else {
            return { stop: 'invalid', at: i };
          }
          break;
        }
        default: {
          // Inside a number: the byte continues it, or the number ended just before it.
          const next = this.#numberAfter(byte);
          if (next >= 0) {
            this.#state = next;
            break;
          }
          // `01`, `1.5.3`, `1e5e5`: a number may not run into what looks like more of a number.
          if (!isCompleteNumber(this.#state) || isNumberByte(byte)) return { stop: 'invalid', at: i };
          if (this.#valueDone()) return { stop: 'value-end', at: i };
          // Inside a container: the same byte comes next, as what follows the number.
          continue;
        }
      }
      i++;
    }
    return { stop: 'need-more', at: to };
  }

  /** Begins the value whose first byte this is; false if no value begins so. */
  #startValue(byte: number): boolean {
    if (byte === QUOTE) {
      this.#state = STRING;
      this.#stringIsKey = false;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      this.#stack.push(byte);
      this.#state = byte === OPEN_BRACE ? OBJECT_FIRST : ARRAY_FIRST;
    } else if (byte === MINUS) {
      this.#state = NUM_MINUS;
    } else if (isDigit(byte)) {
      this.#state = byte === ZERO ? NUM_ZERO : NUM_INT;
    } else {
      const literal = LITERALS[byte];
      if (literal === undefined) return false;
      this.#state = LITERAL;
      this.#literal = literal;
      this.#literalAt = 1;
    }
    return true;
  }

  /** The number state after `byte`, or -1 when the byte does not continue the number. */
  #numberAfter(byte: number): number {
    const digit = isDigit(byte);
    const exponent = byte === LOWER_E || byte === UPPER_E;
    switch (this.#state) {
      case NUM_MINUS:
        return byte === ZERO ? NUM_ZERO : digit ? NUM_INT : -1;
      case NUM_ZERO:
        return byte === DOT ? NUM_DOT : exponent ? NUM_E : -1;
      case NUM_INT:
        return digit ? NUM_INT : byte === DOT ? NUM_DOT : exponent ? NUM_E : -1;
      case NUM_DOT:
        return digit ? NUM_FRAC : -1;
      case NUM_FRAC:
        return digit ? NUM_FRAC : exponent ? NUM_E : -1;
      case NUM_E:
        return byte === PLUS || byte === MINUS ? NUM_E_SIGN : digit ? NUM_EXP : -1;
      default:
        return digit ? NUM_EXP : -1;
    }
  }

  /** Closes the innermost container; true if that ended the top-level value. */
  #close(): boolean {
    this.#stack.pop();
    return this.#valueDone();
  }

  /** A value ended: true at the top level, else the container expects `,` or its closer. */
  #valueDone(): boolean {
    if (this.#stack.length === 0) return true;
    this.#state = AFTER_VALUE;
    return false;
  }
}
