/**
 * Writes JSON compactly but readably: a value goes on one line when it fits in 120 columns
 * (a Retry entry, an ErrorEquals list, a Catch), a list of strings that does not fit is
 * filled line by line, anything else is indented by two like JSON.stringify(value, null, 2).
 */
import type { Json } from './asl.ts';

const WIDTH = 120;

function oneLine(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`;
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([key, item]) => `${JSON.stringify(key)}: ${oneLine(item)}`).join(', ')} }`;
}

/** `value` as it goes after `prefix` characters on a line indented by `indent`. */
function format(value: Json, indent: string, prefix: number): string {
  const flat = oneLine(value);
  // +1: the comma that may follow
  if (value === null || typeof value !== 'object' || indent.length + prefix + flat.length + 1 <= WIDTH) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item === 'string')) return `[\n${fill(value.map(oneLine), inner)}\n${indent}]`;
    return `[\n${value.map((item) => inner + format(item, inner, 0)).join(',\n')}\n${indent}]`;
  }
  const lines = Object.entries(value).map(([key, item]) => {
    const head = `${JSON.stringify(key)}: `;
    return inner + head + format(item, inner, head.length);
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/** As many items on a line as fit. */
function fill(items: string[], indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line && indent.length + line.length + item.length + 2 > WIDTH) {
      lines.push(`${line},`);
      line = item;
    } else {
      line = line ? `${line}, ${item}` : item;
    }
  }
  lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

export function formatJson(value: Json): string {
  return `${format(value, '', 0)}\n`;
}
