/**
 * Spec rules as ECS and ELB enforce them (issue 12 "Accepted, then failing inside AWS"), the
 * reserved key `__proto__`, and a merge patch that cannot recurse without bound.
 */
import { describe, expect, it } from 'vitest';
import { environmentSpecSchema } from '../../../functions/domain/environment-spec.ts';
import { applyPatch, parseSpec } from '../../../functions/domain/spec-validation.ts';
import { MAX_PATCH_DEPTH, mergePatch } from '../../../functions/domain/merge-patch.ts';
import { ValidationFailed } from '../../../functions/domain/errors.ts';
import { spec } from '../../support/records.ts';

const schema = environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 });
/** the operator's defaults (FLEDGE_MAX_TTL 30d, FLEDGE_ALLOW_PINNING true) */
const RULES = { maxTtlMs: 30 * 86_400_000, allowPinning: true };
const issues = (input: unknown) => {
  const result = schema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fledge/db-AbCdEf';

function validationErrors(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailed);
    return (error as ValidationFailed).errors;
  }
  throw new Error('expected a ValidationFailed');
}

describe('image references as ECS takes them (at most 255 characters before any @digest)', () => {
  const name = (length: number) => `ghcr.io/acme/${'a'.repeat(length - 'ghcr.io/acme/'.length)}`;

  it('accepts 255 characters, with or without a digest after them', () => {
    expect(name(255)).toHaveLength(255);
    expect(issues({ image: name(255) })).toEqual([]);
    expect(issues({ image: `${name(255)}@sha256:${'c'.repeat(64)}` })).toEqual([]);
  });

  it('refuses 256 characters, and a long reference of any shape, naming the limit', () => {
    expect(issues({ image: name(256) })).toEqual(['image: must be at most 255 characters before any @digest (an ECS limit)']);
    expect(issues({ image: `${name(200)}:${'t'.repeat(60)}` })).toEqual(['image: must be at most 255 characters before any @digest (an ECS limit)']);
    expect(issues({ image: 'a'.repeat(60_000) })).toHaveLength(1);
  });
});

describe('health-check paths as ELB takes them (1-1024 visible ASCII characters, starting with /)', () => {
  it.each(['/', '/healthz', '/health?ready=1&x=%20', `/${'p'.repeat(1023)}`])('accepts %s', (path) => {
    expect(issues({ image: 'web', healthCheck: { path } })).toEqual([]);
  });

  it.each([
    ['with a space', '/health check'],
    ['with a tab', '/health\tz'],
    ['with non-ASCII', '/santé'],
    ['with a newline', '/a\nb'],
    ['not starting with /', 'health'],
    ['empty', ''],
    ['of 1025 characters', `/${'p'.repeat(1024)}`],
  ])('refuses a path %s', (_what, path) => {
    const found = issues({ image: 'web', healthCheck: { path } });
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((issue) => issue.startsWith('healthCheck.path: '))).toBe(true);
  });
});

describe('variables named in both environment and secrets', () => {
  it('are refused with a 400 naming both paths', () => {
    const errors = validationErrors(() => parseSpec({ image: 'web', environment: { DB: 'x', OK: 'y' }, secrets: { DB: SECRET } }, RULES));
    expect(errors.map((e) => e.path).sort()).toEqual(['environment.DB', 'secrets.DB']);
    expect(errors.find((e) => e.path === 'environment.DB')!.message).toContain('secrets.DB');
  });

  it('are refused when a PATCH brings them together', () => {
    const current = spec({ secrets: { DB: SECRET } });
    const errors = validationErrors(() => applyPatch(current, { environment: { DB: 'plain' } }, RULES));
    expect(errors.map((e) => e.path).sort()).toEqual(['environment.DB', 'secrets.DB']);
  });
});

describe('__proto__, constructor and prototype as names', () => {
  const body = (map: 'environment' | 'secrets' | 'labels', key: string, value: string) => JSON.parse(`{"image":"web","${map}":{"${key}":${JSON.stringify(value)}}}`);

  it.each([
    ['environment', 'x'],
    ['secrets', SECRET],
    ['labels', 'x'],
  ] as const)('refuses __proto__ in %s (never drops it silently)', (map, value) => {
    const errors = validationErrors(() => parseSpec(body(map, '__proto__', value), RULES));
    expect(errors).toEqual([expect.objectContaining({ path: `${map}.__proto__` })]);
  });

  it('refuses __proto__ in a PATCH of any map, and as a body field', () => {
    for (const map of ['environment', 'secrets', 'labels', 'healthCheck']) {
      const errors = validationErrors(() => applyPatch(spec(), JSON.parse(`{"${map}":{"__proto__":{"path":"/x"}}}`), RULES));
      expect(errors[0]!.path).toBe(`${map}.__proto__`);
    }
    expect(validationErrors(() => parseSpec(JSON.parse('{"image":"web","__proto__":{"port":1}}'), RULES))[0]!.message).toMatch(/__proto__/);
  });

  it('keeps constructor and prototype as ordinary variable names, through a PATCH too', () => {
    const parsed = parseSpec(JSON.parse('{"image":"web","environment":{"constructor":"c","prototype":"p"}}'), RULES);
    expect(Object.entries(parsed.environment)).toEqual([['constructor', 'c'], ['prototype', 'p']]);
    const patched = applyPatch(parsed, JSON.parse('{"environment":{"constructor":null,"hasOwnProperty":"h"}}'), RULES);
    expect(Object.entries(patched.environment)).toEqual([['prototype', 'p'], ['hasOwnProperty', 'h']]);
  });
});

describe('merge patch depth', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i++) value = { k: value };
    return value;
  };

  it(`merges up to ${MAX_PATCH_DEPTH} levels`, () => {
    expect(mergePatch({}, nested(MAX_PATCH_DEPTH))).toEqual(nested(MAX_PATCH_DEPTH));
  });

  it('refuses a deeper patch with a 400 (never a stack overflow), even thousands of levels deep', () => {
    expect(validationErrors(() => mergePatch({}, nested(MAX_PATCH_DEPTH + 1)))[0]!.message).toMatch(/deeper than 64/);
    expect(validationErrors(() => mergePatch({}, nested(100_000)))).toHaveLength(1);
  });

  it('never writes a prototype: __proto__ in a patch is merged as an own key', () => {
    const merged = mergePatch({}, JSON.parse('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.hasOwn(merged, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
