/** RFC 7396 JSON Merge Patch: objects merge key by key, null removes a key, anything else replaces. */
import { ValidationFailed } from './errors.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The deepest patch merged. Request bodies are already limited to 32 levels
 * (functions/lambda/http-handler.ts MAX_JSON_DEPTH); this bound keeps the recursion finite
 * for any other caller too.
 */
export const MAX_PATCH_DEPTH = 64;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function mergePatch(target: unknown, patch: unknown): Json {
  return merge(target, patch, 0, []);
}

function merge(target: unknown, patch: unknown, depth: number, path: string[]): Json {
  if (!isObject(patch)) return patch as Json;
  if (depth >= MAX_PATCH_DEPTH) {
    throw new ValidationFailed(`the patch nests objects deeper than ${MAX_PATCH_DEPTH} levels`, [
      { path: path.join('.'), message: `nested deeper than ${MAX_PATCH_DEPTH} levels` },
    ]);
  }
  // own data properties only (Object.defineProperty): a key such as `__proto__` or `constructor`
  // is merged as a key, never read from or written to the prototype
  const result: Record<string, Json> = {};
  if (isObject(target)) {
    for (const [key, value] of Object.entries(target)) Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (value !== undefined) {
      const current = Object.hasOwn(result, key) ? result[key] : undefined;
      Object.defineProperty(result, key, { value: merge(current, value, depth + 1, [...path, key]), enumerable: true, writable: true, configurable: true });
    }
  }
  return result;
}
