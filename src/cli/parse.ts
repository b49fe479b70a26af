// Argument parsers for commander: text in, typed value out, InvalidArgumentError with the reason.
import { InvalidArgumentError } from 'commander';

export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError('expected a positive integer.');
  }
  return value;
}

/** A file mode in octal, as chmod takes it: "660" or "0660". */
export function octalMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text)) throw new InvalidArgumentError('expected an octal file mode such as 0660.');
  return Number.parseInt(text, 8);
}

/** The params of a call: by name, so a JSON object. */
export function jsonParams(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON (${error instanceof Error ? error.message : String(error)}).`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError('params are by name: expected a JSON object such as \'{"service_name":"nova"}\'.');
  }
  return value as Record<string, unknown>;
}
