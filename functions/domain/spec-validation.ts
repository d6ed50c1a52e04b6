/** Turns request bodies into validated specs, and zod issues into the API's `errors[]`. */
import type { z } from 'zod';
import { environmentName, environmentPatchSchema, environmentSpecSchema, normalizedSpec, reservedKeyErrors, type EnvironmentSpec } from './environment-spec.ts';
import { ValidationFailed, type FieldError } from './errors.ts';
import { mergePatch } from './merge-patch.ts';
import { isPinned, PIN_LABEL } from './pinning.ts';
import { imageOwnershipErrors } from './image-ownership.ts';
import { secretOwnershipErrors, type SecretScope } from './secret-ownership.ts';

/** The operator's rules a spec is checked against (functions/runtime/config.ts apiConfig() holds them). */
export interface SpecRules {
  /** the longest `ttl` a spec may ask for */
  maxTtlMs: number;
  /** whether the `fledge.dev/pin` label may keep an environment from expiring */
  allowPinning: boolean;
}

function fieldErrors(error: z.ZodError, prefix: (string | number)[] = []): FieldError[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.'),
    message: issue.message,
  }));
}

let specSchema: { maxTtlMs: number; schema: ReturnType<typeof environmentSpecSchema> } | undefined;

/** Built once per maximum TTL (the schema is a tree of zod objects). */
function schema(maxTtlMs: number) {
  if (specSchema?.maxTtlMs !== maxTtlMs) specSchema = { maxTtlMs, schema: environmentSpecSchema({ maxTtlMs }) };
  return specSchema.schema;
}

export function parseName(name: unknown): string {
  const result = environmentName.safeParse(name);
  if (!result.success) throw new ValidationFailed('invalid environment name', fieldErrors(result.error, ['name']));
  return result.data;
}

export function parseSpec(body: unknown, rules: SpecRules): EnvironmentSpec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationFailed('the request body must be a JSON object', [{ path: '', message: 'expected an object' }]);
  }
  const reserved = reservedKeyErrors(body);
  if (reserved.length) throw new ValidationFailed('the environment spec is invalid', reserved);
  const result = schema(rules.maxTtlMs).safeParse(body);
  if (!result.success) {
    // a task too small for its sidecars says which sizes fit in the detail too: it is the fix
    const taskSize = result.error.issues.find((issue) => issue.code === 'custom' && issue.params?.taskSize === true);
    throw new ValidationFailed(taskSize ? `the environment spec is invalid: ${taskSize.message}` : 'the environment spec is invalid', fieldErrors(result.error));
  }
  if (isPinned(result.data) && !rules.allowPinning) {
    throw new ValidationFailed('pinning is not allowed by this installation', [
      { path: `labels.${PIN_LABEL}`, message: 'this installation does not allow pinning environments (FLEDGE_ALLOW_PINNING=false); remove the label' },
    ]);
  }
  return normalizedSpec(result.data);
}

/**
 * Only secrets and images of the installation's ECR that the environment's repository owns
 * (docs/security.md "Secrets", "Images"). Checked once the repository is settled: a caller acting
 * for one repository may leave `labels.repository` out.
 */
export function checkOwnership(spec: EnvironmentSpec, scope: SecretScope): EnvironmentSpec {
  const imageErrors = imageOwnershipErrors(spec, scope);
  const secretErrors = secretOwnershipErrors(spec, scope);
  if (imageErrors.length + secretErrors.length === 0) return spec;
  const what = [imageErrors.length ? 'images' : '', secretErrors.length ? 'secrets' : ''].filter(Boolean).join(' and ');
  throw new ValidationFailed(`the environment references ${what} its repository does not own`, [...imageErrors, ...secretErrors]);
}

/** Applies a PATCH body (RFC 7396 merge patch over the current spec) and validates the result. */
export function applyPatch(current: EnvironmentSpec, body: unknown, rules: SpecRules): EnvironmentSpec {
  const reserved = reservedKeyErrors(body);
  if (reserved.length) throw new ValidationFailed('the patch is invalid', reserved);
  const patch = environmentPatchSchema.safeParse(body);
  if (!patch.success) throw new ValidationFailed('the patch is invalid', fieldErrors(patch.error));
  // `labels: null` clears the labels a caller may clear: `repository` is fixed at create and stays
  // (removing it by name, `labels: {repository: null}`, is refused by the command: it is a 400)
  const data = patch.data.labels === null ? { ...patch.data, labels: clearedLabels(current.labels) } : patch.data;
  return parseSpec(mergePatch(current, data), rules);
}

/** The merge patch that removes every label but `repository`. */
function clearedLabels(labels: EnvironmentSpec['labels']): Record<string, null> {
  return Object.fromEntries(Object.keys(labels).filter((key) => key !== 'repository').map((key) => [key, null]));
}
