/**
 * Names of the account-wide resources Fledge makes per environment, scoped to one
 * installation (one CDK stack, or one local-mode process), pure.
 *
 * Two installations in one account and region share the namespaces of target groups
 * (account/region-wide names) and CloudWatch alarms (likewise), so every such name carries the
 * installation id. ECS services are scoped by their cluster and listener rules by their
 * listener: those keep the environment's name.
 *
 * - **Installation id**: 2-8 characters, a lowercase letter then lowercase letters and digits
 *   (no hyphen, so `fledge-<installation>-` is an unambiguous prefix), never `internal`
 *   (a target group name must not start with `internal-`). On AWS the CDK context
 *   `installationId`, or derived from the stack name (`installationIdFor`); locally
 *   `FLEDGE_INSTALLATION_ID` or `local`. Lambdas read it from `FLEDGE_INSTALLATION_ID`.
 * - **Target group**: `<installation>-<readable prefix of the name>-<8 hex digits>`, at most 32
 *   characters, letters, digits and hyphens, never beginning or ending with a hyphen (Elastic
 *   Load Balancing CreateTargetGroup, "Name": https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html).
 *   The hash is SHA-256 over installation and full name, so two names that share the readable
 *   prefix still differ (a collision needs 2^32 tries on average; a installation holds at most
 *   99 environments). Deterministic: every workflow and Lambda derives the same name, and the
 *   plan (`ResourcePlan.targetGroup.Name`) carries it into the ASL.
 * - **Alarms**: `fledge-<installation>-<name>-<kind>` (CloudWatch alarm names: up to 255
 *   characters, functions/domain/alarms.ts).
 *
 * Earlier versions named the target group exactly after the environment and the alarms
 * `fledge-<name>-<kind>`: `legacyTargetGroupName` and `legacyAlarmName` name them, so that
 * environments created then can still be found (update, heal, teardown, idle sleep).
 */
import { createHash } from 'node:crypto';

export const INSTALLATION_ID_PATTERN = /^[a-z][a-z0-9]{1,7}$/;
/** Elastic Load Balancing's limit on target group names. */
export const TARGET_GROUP_NAME_MAX = 32;
const HASH_DIGITS = 8;

/** Why `id` cannot be an installation id, or undefined when it can. */
export function installationIdProblem(id: string): string | undefined {
  if (!INSTALLATION_ID_PATTERN.test(id)) {
    return `must be 2-8 characters, a lowercase letter followed by lowercase letters or digits, got "${id}"`;
  }
  if (id === 'internal') return 'must not be "internal" (target group names must not start with "internal-")';
  return undefined;
}

/** Throws when `id` is not a valid installation id; returns it otherwise. */
export function checkInstallationId(id: string): string {
  const problem = installationIdProblem(id);
  if (problem) throw new Error(`installation id ${problem}`);
  return id;
}

/**
 * The default installation id of a stack: the first letters of its name (lowercased, up to 4,
 * `f` when it has none) and 4 hex digits of SHA-256 over the whole name, so stacks named alike
 * ("FledgeA", "FledgeB") still differ. Stack names are unique within an account and region,
 * which is the scope of target group and alarm names.
 */
export function installationIdFor(stackName: string): string {
  const letters = stackName.toLowerCase().replace(/[^a-z0-9]/g, '').replace(/^[0-9]+/, '').slice(0, 4) || 'f';
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, 4);
  const id = `${letters}${hash}`;
  return id === 'internal' ? `f${id.slice(1)}` : id;
}

/**
 * The target group of environment `name` in installation `installationId`:
 * `<installation>-<prefix of the name>-<hash>`, at most 32 characters.
 */
export function targetGroupName(installationId: string, name: string): string {
  const hash = createHash('sha256').update(`${installationId}\u0000${name}`).digest('hex').slice(0, HASH_DIGITS);
  const room = TARGET_GROUP_NAME_MAX - installationId.length - HASH_DIGITS - 2;
  // a prefix of a DNS label: no trailing hyphen (the separator follows)
  const prefix = name.slice(0, room).replace(/-+$/, '');
  return prefix ? `${installationId}-${prefix}-${hash}` : `${installationId}-${hash}`;
}

/** The target group of an environment created by an earlier version (named exactly after it). */
export const legacyTargetGroupName = (name: string) => name;
