/**
 * Writes JSON compactly but readably: a value goes on one line when it fits in 120 columns
 * (a Retry entry, an ErrorEquals list, a Catch), a list of strings that does not fit is
 * filled line by line, a Retry entry that does not fit keeps its numbers on shared lines, and
 * anything else is indented by two like JSON.stringify(value, null, 2).
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
  const entries = Object.entries(value).map(([key, item]) => {
    const head = `${JSON.stringify(key)}: `;
    return { text: head + format(item, inner, head.length), scalar: item === null || typeof item !== 'object' };
  });
  // a Retry or Catch entry keeps its scalar fields (IntervalSeconds, MaxAttempts, ...) on shared lines
  if ('ErrorEquals' in value) return `{\n${packScalars(entries, inner)}\n${indent}}`;
  return `{\n${entries.map((entry) => inner + entry.text).join(',\n')}\n${indent}}`;
}

/** Each entry on its own line, except runs of scalar entries: as many of those on a line as fit. */
function packScalars(entries: { text: string; scalar: boolean }[], indent: string): string {
  const lines: string[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length) lines.push(fill(run, indent).trimStart());
    run = [];
  };
  for (const entry of entries) {
    if (entry.scalar) run.push(entry.text);
    else {
      flush();
      lines.push(entry.text);
    }
  }
  flush();
  return lines.map((line) => indent + line).join(',\n');
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
