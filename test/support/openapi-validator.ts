/**
 * Checks an HTTP answer against the OpenAPI document (functions/contract/openapi.ts): the
 * operation must describe its status, its content type and (with ajv, JSON Schema 2020-12, the
 * dialect of OpenAPI 3.1) its body, and its required headers must be there. The end-to-end
 * helper (test/e2e/local-api.ts) runs every answer it receives through it.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument, type OpenApiDocument } from '../../functions/contract/openapi.ts';

// ajv-formats is CommonJS: its default export arrives wrapped under an ESM import
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

/* eslint-disable @typescript-eslint/no-explicit-any -- the document is walked as plain JSON */
type Json = any;

export interface AnswerToCheck {
  method: string;
  /** the request path, with its query string or not */
  path: string;
  status: number;
  /** the `content-type` header ('' when none) */
  contentType: string;
  /** the body as text ('' when none) */
  text: string;
  headers: Headers;
}

export type Verdict =
  | { kind: 'valid'; operation: string }
  /** not an API request (`/_local/...`), or a `/v1` request no route takes (the front's 404/405, API Gateway's own) */
  | { kind: 'not-an-operation' }
  | { kind: 'invalid'; operation: string; problems: string[] };

const pointer = (...segments: string[]) => segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

function pathPattern(template: string): RegExp {
  return new RegExp(`^${template.split('/').map((segment) => (/^\{.+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);
}

export class OpenApiValidator {
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly paths: { template: string; pattern: RegExp; item: Json }[];

  constructor(private readonly document: OpenApiDocument = openApiDocument()) {
    // strict off: the document's schemas carry OpenAPI's own keywords (`example`, `x-...`)
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema(document as object, 'openapi.json');
    this.paths = Object.entries<Json>(document.paths ?? {}).map(([template, item]) => ({ template, pattern: pathPattern(template), item }));
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi.json#${ref}` });
      this.validators.set(ref, validate);
    }
    return validate;
  }

  check(answer: AnswerToCheck): Verdict {
    const path = answer.path.split('?')[0]!;
    if (!path.startsWith('/v1/')) return { kind: 'not-an-operation' };
    const method = answer.method.toLowerCase();
    const found = this.paths.find((p) => p.pattern.test(path));
    const operation: Json = found?.item[method];
    if (!found || !operation) {
      // local mode's front answers these itself, as API Gateway does for a route it does not have
      if (answer.status === 404 || answer.status === 405) return { kind: 'not-an-operation' };
      return { kind: 'invalid', operation: `${answer.method} ${path}`, problems: [`no operation of the document takes ${answer.method} ${path}, yet it answered ${answer.status}`] };
    }
    const name = `${answer.method.toUpperCase()} ${found.template}`;
    const response: Json = operation.responses?.[String(answer.status)];
    if (!response) {
      return { kind: 'invalid', operation: name, problems: [`status ${answer.status} is not described (described: ${Object.keys(operation.responses ?? {}).join(', ')}); body: ${answer.text.slice(0, 500)}`] };
    }
    const problems: string[] = [];
    for (const [header, described] of Object.entries<Json>(response.headers ?? {})) {
      if (described.required && answer.headers.get(header) === null) problems.push(`header ${header} is missing`);
    }
    const mediaType = answer.contentType.split(';')[0]!.trim().toLowerCase();
    const content: Json = response.content;
    if (!content) {
      if (answer.text !== '') problems.push(`a body is not described, got ${mediaType || 'no content type'}: ${answer.text.slice(0, 200)}`);
    } else if (!content[mediaType]) {
      problems.push(`content type "${mediaType}" is not described (described: ${Object.keys(content).join(', ')})`);
    } else {
      let body: unknown;
      try {
        body = JSON.parse(answer.text);
      } catch {
        problems.push(`the body is not JSON: ${answer.text.slice(0, 200)}`);
      }
      if (problems.length === 0) {
        const validate = this.validator(`/${pointer('paths', found.template, method, 'responses', String(answer.status), 'content', mediaType, 'schema')}`);
        if (!validate(body)) {
          for (const error of validate.errors ?? []) {
            problems.push(`body${error.instancePath || ''} ${error.message}${error.params ? ` ${JSON.stringify(error.params)}` : ''} (schema ${error.schemaPath})`);
          }
        }
      }
    }
    return problems.length ? { kind: 'invalid', operation: name, problems } : { kind: 'valid', operation: name };
  }
}

let shared: OpenApiValidator | undefined;

/** Throws, naming the operation and what does not match, unless the document describes the answer. */
export function assertDescribed(answer: AnswerToCheck): void {
  const verdict = (shared ??= new OpenApiValidator()).check(answer);
  if (verdict.kind !== 'invalid') return;
  throw new Error(
    `the answer ${answer.status} to ${answer.method} ${answer.path} does not match the OpenAPI document (${verdict.operation}):\n  - ${verdict.problems.slice(0, 20).join('\n  - ')}`,
  );
}
