/**
 * Which task execution role a task definition names (docs/security.md "Secrets"). Pure.
 *
 * - An environment without secrets runs under the installation's shared execution role, which
 *   pulls images and writes logs but reads no secret at all.
 * - An environment with secrets runs under its repository's own execution role, which the
 *   stack creates for every repository the operator lists in the CDK context
 *   `secretRepositories` (infra/aws/network.ts) and which reads only that repository's
 *   namespace (`<root>/<owner>/<name>/*`). So even a task definition that names another
 *   repository's secret cannot read it: the API refuses it, and IAM would too.
 *
 * The role's name is computed here, the one place both the stack (at synth) and the workflows
 * (at run time) take it from: `fledge-<installation>-sec-<16 hex digits of SHA-256 over the
 * repository>-<region>`, at most 7 + 8 + 5 + 16 + 1 + 14 = 51 characters of IAM's role name
 * alphabet (IAM CreateRole, "RoleName": up to 64 of `[\w+=,.@-]`). The region is in it because
 * IAM is global: "names must be unique within the account" (CreateRole), and the installation
 * id is only unique per account and region, so the same stack name deployed in two regions of
 * one account would otherwise create the same role twice (the second deploy fails). 64 bits of hash: two repositories of one
 * installation share a role name only by a collision no one can aim at without 2^32 tries per
 * listed repository. The repository is hashed as written (`labels.repository`, case and all):
 * Secrets Manager and SSM names are case-sensitive, so is the namespace.
 */
import { createHash } from 'node:crypto';
import { ownsSecrets, secretReferencesOf, type SecretsHolder } from './secret-ownership.ts';

const ROLE_NAME_HASH_DIGITS = 16;
/** `arn:<partition>:iam::<account>:role/<path><name>` */
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(.+)$/;

/** `fledge-<installation>-sec-<hash>`: the role name without its region (the stack's construct id). */
export function secretExecutionRoleKey(installationId: string, repository: string): string {
  const hash = createHash('sha256').update(repository).digest('hex').slice(0, ROLE_NAME_HASH_DIGITS);
  return `fledge-${installationId}-sec-${hash}`;
}

/** The name of `repository`'s execution role in installation `installationId` of `region` (a CDK token at synth is fine: it is only appended). */
export function secretExecutionRoleName(installationId: string, repository: string, region: string): string {
  return `${secretExecutionRoleKey(installationId, repository)}-${region}`;
}

/** The ARN of `repository`'s execution role (roles live at path `/`). */
export function secretExecutionRoleArn(partition: string, account: string, installationId: string, repository: string, region: string): string {
  return `arn:${partition}:iam::${account}:role/${secretExecutionRoleName(installationId, repository, region)}`;
}

/**
 * The execution role of a spec's task definition: its repository's role when it (or a sidecar) has secrets,
 * the shared role (`sharedExecutionRoleArn`, whose partition and account it shares) otherwise.
 * A spec with secrets but no repository that can own any (the API refuses those) keeps the
 * shared role, which reads no secret: its tasks fail to start rather than read anything.
 */
export function executionRoleArnFor(
  spec: SecretsHolder,
  settings: { executionRoleArn: string; installationId: string; region: string },
): string {
  const repository = spec.labels.repository;
  // a sidecar's secrets are read by the same role (one execution role per task definition)
  if (secretReferencesOf(spec).length === 0 || !ownsSecrets(repository)) return settings.executionRoleArn;
  const shared = ROLE_ARN.exec(settings.executionRoleArn);
  if (!shared) throw new Error(`FLEDGE_EXECUTION_ROLE_ARN is not an IAM role ARN: "${settings.executionRoleArn}"`);
  return secretExecutionRoleArn(shared[1]!, shared[2]!, settings.installationId, repository, settings.region);
}

/**
 * Whether a task definition's execution role is one of this installation's: the shared role, or
 * a repository's role (`fledge-<installation>-sec-<hash>-<region>`) in the same account and partition.
 */
export function isInstallationExecutionRole(arn: string | undefined, sharedExecutionRoleArn: string, installationId: string): boolean {
  if (arn === undefined) return false;
  if (arn === sharedExecutionRoleArn) return true;
  const shared = ROLE_ARN.exec(sharedExecutionRoleArn);
  const candidate = ROLE_ARN.exec(arn);
  if (!shared || !candidate || shared[1] !== candidate[1] || shared[2] !== candidate[2]) return false;
  return new RegExp(`^fledge-${installationId}-sec-[0-9a-f]{${ROLE_NAME_HASH_DIGITS}}-[a-z]{2}(-[a-z]+)+-\\d$`).test(candidate[3]!);
}
