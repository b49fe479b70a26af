// One example exchange: the message as sent, then the reply indented for reading (on the wire it
// is one line).
import type { Exchange } from './capture.js';
import { block, indented } from './markdown.js';

function isJson(message: string): boolean {
  try {
    JSON.parse(message);
    return true;
  } catch {
    return false;
  }
}

export function exchangeBlocks({ sent, received }: Exchange): string {
  return [block(sent, isJson(sent) ? 'json' : 'text'), block(indented(received))].join('\n\n');
}
