/**
 * Writes docs/api.md from the OpenAPI document (functions/contract/openapi.ts): `npm run build:api-docs`.
 * A small renderer of our own (operations, parameters, answers, schemas as tables) so the
 * reference reads well on GitHub without a site; test/infra/openapi.test.ts fails when the
 * committed file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '#contract/openapi.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- the document is walked as plain JSON */
type Json = any;

export const API_DOCS_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'api.md');
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

const anchor = (name: string) => name.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
const cell = (text: unknown) => String(text ?? '').replace(/\|/g, '\\|').replace(/\n+/g, ' ');
const code = (text: unknown) => `\`${String(text).replace(/`/g, "'")}\``;

function refName(ref: string): string {
  return ref.split('/').pop()!;
}

/** A schema's type in a few words: `string`, `integer 1-100`, `Environment[]`, `"USD"`, `map of string`. */
export function typeOf(schema: Json): string {
  if (!schema || Object.keys(schema).length === 0) return 'any';
  if (schema.$ref) return `[${refName(schema.$ref)}](#${anchor(refName(schema.$ref))})`;
  if (schema.const !== undefined) return code(JSON.stringify(schema.const));
  if (schema.enum) return schema.enum.map((value: unknown) => code(JSON.stringify(value))).join(' \\| ');
  if (schema.anyOf || schema.oneOf) return (schema.anyOf ?? schema.oneOf).map(typeOf).join(' \\| ');
  const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type ?? 'object'];
  return types
    .map((type) => {
      if (type === 'array') return `${typeOf(schema.items)}[]`;
      if (type === 'object' && schema.additionalProperties && typeof schema.additionalProperties === 'object' && !schema.properties) {
        // `map of (string | null)`: values that may be null, told apart from a map that may be null
        const values = typeOf(schema.additionalProperties);
        return `map of ${values.includes(' \\| ') ? `(${values})` : values}`;
      }
      if (type === 'string' && schema.format) return `string (${schema.format})`;
      return type;
    })
    .join(' \\| ');
}

/** The constraints worth a reader's eye: bounds, patterns, defaults. */
function constraints(schema: Json): string {
  const parts: string[] = [];
  const bound = (low: unknown, high: unknown, unit = '') => {
    // zod's z.int() bounds every integer by the safe-integer range: no news to a reader
    const safe = (n: unknown) => (typeof n === 'number' && Math.abs(n) >= Number.MAX_SAFE_INTEGER ? undefined : n);
    const [from, to] = [safe(low), safe(high)];
    if (from !== undefined && to !== undefined) parts.push(`${from}-${to}${unit}`);
    else if (from !== undefined) parts.push(`≥ ${from}${unit}`);
    else if (to !== undefined) parts.push(`≤ ${to}${unit}`);
  };
  bound(schema.minimum, schema.maximum);
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
  bound(schema.minLength, schema.maxLength, ' characters');
  bound(schema.minItems, schema.maxItems, ' items');
  if (schema.pattern && schema.format === undefined) parts.push(`pattern ${code(schema.pattern)}`);
  if (schema.propertyNames?.pattern) parts.push(`keys match ${code(schema.propertyNames.pattern)}`);
  if (schema.default !== undefined) parts.push(`default ${code(JSON.stringify(schema.default))}`);
  return parts.join('; ');
}

function describe(schema: Json): string {
  return [schema.description, constraints(schema)].filter(Boolean).join('. ');
}

/** Rows of an object's fields; inline objects are flattened as `parent.child`. */
function fieldRows(schema: Json, prefix = ''): string[] {
  const required = new Set<string>(schema.required ?? []);
  const rows: string[] = [];
  for (const [name, field] of Object.entries<Json>(schema.properties ?? {})) {
    rows.push(`| ${code(prefix + name)} | ${typeOf(field)} | ${required.has(name) ? 'yes' : ''} | ${cell(describe(field))} |`);
    if (field.properties && !field.$ref) rows.push(...fieldRows(field, `${prefix}${name}.`));
  }
  return rows;
}

function schemaSection(name: string, schema: Json): string[] {
  const lines = [`### ${name}`, ''];
  if (schema.description) lines.push(schema.description, '');
  if (schema.properties) {
    lines.push('| field | type | required | notes |', '|---|---|---|---|', ...fieldRows(schema));
    if (schema.additionalProperties !== false) lines.push('', 'Other fields may be present.');
  } else {
    lines.push(`${typeOf(schema)}${constraints(schema) ? `: ${constraints(schema)}` : ''}`);
  }
  return [...lines, ''];
}

function contentCell(content: Json): string {
  if (!content) return '';
  return Object.entries<Json>(content)
    .map(([type, media]) => `${code(type)} ${typeOf(media.schema)}`)
    .join('<br>');
}

function headerCell(headers: Json): string {
  if (!headers) return '';
  return Object.entries<Json>(headers)
    .map(([name, header]) => `${code(name)}${header.required ? '' : ' (optional)'}`)
    .join(', ');
}

function operationSection(method: string, path: string, operation: Json): string[] {
  const title = `${method.toUpperCase()} ${path}`;
  const lines = [`### ${code(title)}`, '', `**${operation.summary}** (operation ${code(operation.operationId)})`, ''];
  if (operation.description) lines.push(operation.description, '');
  const parameters: Json[] = operation.parameters ?? [];
  if (parameters.length) {
    lines.push('| parameter | in | type | required | notes |', '|---|---|---|---|---|');
    for (const parameter of parameters) {
      lines.push(`| ${code(parameter.name)} | ${parameter.in} | ${typeOf(parameter.schema)} | ${parameter.required ? 'yes' : ''} | ${cell(describe({ ...parameter.schema, description: parameter.description ?? parameter.schema?.description }))} |`);
    }
    lines.push('');
  }
  if (operation.requestBody) {
    lines.push(`Body${operation.requestBody.required ? ' (required)' : ''}: ${contentCell(operation.requestBody.content).replace(/<br>/g, ', or ')}`, '');
  }
  lines.push('| status | when | body | headers |', '|---|---|---|---|');
  for (const [status, response] of Object.entries<Json>(operation.responses)) {
    lines.push(`| ${status} | ${cell(response.description)} | ${contentCell(response.content)} | ${headerCell(response.headers)} |`);
  }
  return [...lines, ''];
}

/** docs/api.md as text. */
export function renderApiDocs(document: Json = openApiDocument()): string {
  const lines = [
    `# ${document.info.title} reference (${document.info.version})`,
    '',
    '<!-- Generated from the OpenAPI document by `npm run build:api-docs` (scripts/api-docs.ts): do not edit by hand. -->',
    '',
    `${document.info.description}`,
    '',
    `The OpenAPI ${document.openapi} document itself is served at \`GET /v1/openapi.json\` and generated from the zod schemas the handlers validate with (\`functions/contract/openapi.ts\`).`,
    '',
    '## Servers and authentication',
    '',
    ...document.servers.map((server: Json) => `- ${code(server.url)}: ${server.description}`),
    '',
    'Every operation needs one of these (API Gateway checks them on AWS; local mode is open unless started with `--auth oidc`):',
    '',
    ...Object.entries<Json>(document.components.securitySchemes).map(([name, scheme]) => `- ${code(name)} (${scheme.type}${scheme.scheme ? ` ${scheme.scheme}` : ''}): ${scheme.description}`),
    '',
    '## Operations',
    '',
    '| route | what |',
    '|---|---|',
  ];
  const sections: string[] = [];
  for (const [path, item] of Object.entries<Json>(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const title = `${method.toUpperCase()} ${path}`;
      lines.push(`| [${code(title)}](#${anchor(title)}) | ${cell(operation.summary)} |`);
      sections.push(...operationSection(method, path, operation));
    }
  }
  lines.push('', ...sections, '## Schemas', '');
  for (const [name, schema] of Object.entries<Json>(document.components.schemas)) lines.push(...schemaSection(name, schema));
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = renderApiDocs();
  writeFileSync(API_DOCS_PATH, text);
  console.log(`docs/api.md: ${text.split('\n').length - 1} lines`);
}
