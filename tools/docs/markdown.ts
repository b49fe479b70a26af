// The few pieces of GitHub-flavoured Markdown the API reference is written with. Table cells are
// split on `|` before anything else is parsed, so every pipe in a cell is escaped, code included.

/** Prose for a table cell or a line: `<` would open an HTML tag (`"node<N>"`), `|` a new cell. */
export function text(value: string): string {
  return value.replaceAll('<', '\\<').replaceAll('|', '\\|');
}

/** A code span; only the pipe needs escaping inside one. */
export function code(value: string): string {
  return `\`${value.replaceAll('|', '\\|')}\``;
}

/** A fenced block; the language names the highlighting. */
export function block(body: string, language = 'json'): string {
  return `\`\`\`${language}\n${body}\n\`\`\``;
}

/** A table of cells that are already Markdown. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The anchor GitHub gives a heading: lower case, punctuation other than `-` and `_` dropped. */
export function anchor(heading: string): string {
  return `#${heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replaceAll(' ', '-')}`;
}

/** A JSON text indented for reading, with arrays of plain values on one line; key order is the text's own. */
export function indented(json: string): string {
  return layout(JSON.parse(json), '');
}

function layout(value: unknown, indent: string): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item !== 'object' || item === null)) return `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
    return `[\n${value.map((item) => inner + layout(item, inner)).join(',\n')}\n${indent}]`;
  }
  const members = Object.entries(value);
  if (members.length === 0) return '{}';
  return `{\n${members.map(([key, member]) => `${inner}${JSON.stringify(key)}: ${layout(member, inner)}`).join(',\n')}\n${indent}}`;
}
