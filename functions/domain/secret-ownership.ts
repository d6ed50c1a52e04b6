/**
 * Which secrets an environment may reference (docs/security.md "Secrets"): only those its
 * repository owns. A repository `owner/name` owns a namespace in the installation's own
 * account and region, under the root `<root>` (default `fledge`):
 *   Secrets Manager  arn:<partition>:secretsmanager:<region>:<account>:secret:<root>/<owner>/<name>/...
 *   SSM parameter    arn:<partition>:ssm:<region>:<account>:parameter/<root>/<owner>/<name>/...
 * optionally narrowed further by the operator's `secretArnPrefixes`. Only repositories the
 * operator lists in `secretRepositories` may reference secrets at all: each of them has its own
 * task execution role reading only its namespace (functions/domain/execution-roles.ts,
 * infra/aws/network.ts), so IAM, not only this check, keeps repository A from B's secrets. Pure.
 */
import type { FieldError } from './errors.ts';

export interface SecretScope {
  partition: string;
  region: string;
  /** the installation's account id; undefined: unknown, so no secret can be accepted */
  account: string | undefined;
  /** first segment of every namespace (FLEDGE_SECRET_ROOT, default `fledge`) */
  root: string;
  /** operator's extra limit: ARN prefixes (a trailing `*` is ignored); empty = none */
  prefixes: string[];
  /**
   * The repositories that may reference secrets (context `secretRepositories`: each has its own
   * execution role); undefined: every repository (local mode, where nothing checks IAM).
   */
  repositories?: readonly string[];
}

export const DEFAULT_SECRET_ROOT = 'fledge';

/** `owner/name` with exactly one slash: namespaces of two repositories never nest (`acme` cannot own `acme/web`'s). */
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const ARN = /^arn:(aws[a-z-]*):(secretsmanager|ssm):([a-z0-9-]+):(\d{12}):(.+)$/;
/** Secrets Manager name characters (and `:` for ECS's json-key:version-stage:version-id suffix); SSM parameter names. */
const SECRET_REST = /^[A-Za-z0-9/_+=.@:-]+$/;
const PARAMETER_REST = /^[A-Za-z0-9/_.-]+$/;

export function ownsSecrets(repository: string | undefined): repository is string {
  return repository !== undefined && REPOSITORY.test(repository) && repository.split('/').every((part) => part !== '.' && part !== '..');
}

/** The namespace a repository owns, as a name prefix (`fledge/acme/web/`). */
export function secretNamespace(root: string, repository: string): string {
  return `${root}/${repository}/`;
}

/** The partition of a region (`cn-north-1` -> `aws-cn`), for installations that are not told theirs. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** Why `arn` is not a secret `repository` may reference, or undefined when it is. */
export function secretProblem(arn: string, repository: string | undefined, scope: SecretScope): string | undefined {
  const match = ARN.exec(arn);
  if (!match) return 'must be the ARN of a Secrets Manager secret or an SSM parameter';
  const [, partition, service, region, account, resource] = match as unknown as [string, string, string, string, string, string];
  if (!ownsSecrets(repository)) {
    return 'an environment references only secrets of its repository: set labels.repository (owner/name, fixed at create) to the repository that owns this secret';
  }
  if (scope.repositories !== undefined && !scope.repositories.includes(repository)) {
    return `repository "${repository}" may not use secrets in this installation: ask the operator to add it to secretRepositories (it then gets its own role that reads its secrets)`;
  }
  if (scope.account === undefined) return 'this installation does not know its AWS account (FLEDGE_ACCOUNT_ID), so it accepts no secrets';
  if (partition !== scope.partition || region !== scope.region || account !== scope.account) {
    return "must be a secret in this installation's own AWS account and region";
  }
  const namespace = secretNamespace(scope.root, repository);
  const name = service === 'secretsmanager' ? stripPrefix(resource, 'secret:') : stripPrefix(resource, 'parameter/');
  const wellFormed = name !== undefined && (service === 'secretsmanager' ? SECRET_REST : PARAMETER_REST).test(name);
  const segments = (name ?? '').split(':')[0]!.split('/');
  if (!wellFormed || segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return service === 'secretsmanager' ? 'must be a Secrets Manager secret ARN (...:secret:<name>)' : 'must be an SSM parameter ARN (...:parameter/<name>)';
  }
  if (!name!.startsWith(namespace) || name!.length === namespace.length) {
    return `must be a secret of repository "${repository}": a Secrets Manager secret or SSM parameter named ${namespace}<name>`;
  }
  const prefixes = scope.prefixes.map((prefix) => prefix.replace(/\*$/, ''));
  if (prefixes.length > 0 && !prefixes.some((prefix) => arn.startsWith(prefix))) {
    return 'is outside the secrets this installation allows (secretArnPrefixes)';
  }
  return undefined;
}

/** Every secret reference of a spec, the app's and its sidecars', with the path that names it (`secrets.X`, `sidecars.0.secrets.X`). */
export function secretReferencesOf(spec: SecretsHolder): { path: string; arn: string }[] {
  const containers: [string, Record<string, string>][] = [['', spec.secrets], ...(spec.sidecars ?? []).map((sidecar, index): [string, Record<string, string>] => [`sidecars.${index}.`, sidecar.secrets])];
  return containers.flatMap(([at, secrets]) => Object.entries(secrets).map(([name, arn]) => ({ path: `${at}secrets.${name}`, arn })));
}

/** What a spec holds secrets in: the app's map and each sidecar's. */
export interface SecretsHolder {
  secrets: Record<string, string>;
  labels: Record<string, string>;
  sidecars?: readonly { secrets: Record<string, string> }[] | undefined;
}

/** One `secrets.<NAME>` (or `sidecars.<i>.secrets.<NAME>`) error per secret the environment's repository does not own. */
export function secretOwnershipErrors(spec: SecretsHolder, scope: SecretScope): FieldError[] {
  const errors: FieldError[] = [];
  for (const { path, arn } of secretReferencesOf(spec)) {
    const problem = secretProblem(arn, spec.labels.repository, scope);
    if (problem) errors.push({ path, message: problem });
  }
  return errors;
}

function stripPrefix(text: string, prefix: string): string | undefined {
  return text.startsWith(prefix) ? text.slice(prefix.length) : undefined;
}
