/**
 * Operator settings of the AWS deployment, read from CDK context (`cdk.json`, `cdk.context.json`
 * or `cdk synth -c key=value`). Every key is optional; the defaults are documented in cdk.json
 * (`//` keys) and README. Nothing here contacts AWS: synth works offline.
 */
import { parseDuration } from '#domain/durations.ts';
import { installationIdProblem } from '#domain/resource-names.ts';
import { ENVIRONMENTS_PER_SHARD, shardsNeeded } from '#domain/shards.ts';
import { DEFAULT_SECRET_ROOT, ownsSecrets } from '#domain/secret-ownership.ts';
import { DEFAULT_OIDC_REFUSED_EVENTS, isGithubEventName } from '#domain/caller.ts';
import { fargatePriceSchema, type FargatePrice } from '#domain/cost.ts';

export interface FledgeConfig {
  /**
   * Scopes the names of target groups and alarms to this installation, so two stacks can share
   * an account and region (context `installationId`, 2-8 lowercase letters and digits; default:
   * derived from the stack name, functions/domain/resource-names.ts `installationIdFor`).
   * Changing it on a deployed stack orphans the target groups and alarms of live environments.
   */
  installationId?: string;
  /** Deploy into this account/region (both optional; without them the stack is environment-agnostic). */
  account?: string;
  region?: string;
  /** An existing VPC. Without it the stack creates one (2 AZs). */
  vpcId?: string;
  /** With `vpcId`: the subnets of the shared ALB (public) and of the tasks (private). */
  publicSubnetIds: string[];
  privateSubnetIds: string[];
  /** With `vpcId` and explicit subnet ids: their availability zones, in the same order (optional). */
  availabilityZones: string[];
  /** New VPC only: NAT gateways. 1 (default): tasks in private subnets behind one NAT; 0: tasks in public subnets with public IPs. */
  natGateways: number;
  /** ACM certificate for the HTTPS listener; without it the ALB listens on plain HTTP (with a synth warning). */
  certificateArn?: string;
  /** Environments answer at `<scheme>://<name>.<baseDomain>`. */
  baseDomain: string;
  /** True when `baseDomain` was not configured (the default is a placeholder). */
  baseDomainIsDefault: boolean;
  /** Maximum environment ttl, as a duration string ("30d"). */
  maxTtl: string;
  /**
   * How many environments the installation must hold (context `maxEnvironments`, default 99):
   * the stack creates `shardCount` = ceil(maxEnvironments / 99) load balancers (shards).
   */
  maxEnvironments: number;
  /** load balancers in the pool: `shardsNeeded(maxEnvironments)` */
  shardCount: number;
  /**
   * The operator's Route 53 hosted zone of `baseDomain` (context `hostedZoneId`): required with more
   * than one shard, where each environment gets its own alias record to its shard's ALB.
   */
  hostedZoneId?: string;
  /** Shard ids (`s1`, `s2`...) closed to new environments (context `closedShards`): draining for replacement. */
  closedShards: string[];
  /** live environments at most; at most the pool's capacity, `shardCount * MAX_ENVIRONMENTS_PER_ALB` (default: that capacity) */
  quotaGlobal: number;
  quotaPerRepository: number;
  /** Retention of every log group the stack creates (days; a value CloudWatch Logs accepts). */
  logRetentionDays: number;
  /**
   * First segment of every repository's secret namespace: repository `owner/name` owns
   * `secret:<root>/owner/name/*` and `parameter/<root>/owner/name/*` of the stack's account and
   * region (docs/security.md "Secrets"). Context `secretRoot`, default `fledge`.
   */
  secretRoot: string;
  /**
   * Optional further limit: ARN prefixes (may end in `*`) inside `<root>/`; the API accepts and
   * the task execution role reads only secrets under them. Empty: the whole namespace root.
   */
  secretArnPrefixes: string[];
  /**
   * The repositories (`owner/name`, spelled as in `labels.repository`) whose environments may
   * reference secrets (context `secretRepositories`). Each gets its own task execution role that
   * reads only its namespace (infra/aws/network.ts); an unlisted repository may reference none.
   */
  secretRepositories: string[];
  /** DynamoDB encryption: a customer managed KMS key ARN, or AWS-managed (`aws/dynamodb`) when absent. */
  tableKmsKeyArn?: string;
  /** Stage throttling of the HTTP API. */
  apiThrottleRateLimit: number;
  apiThrottleBurstLimit: number;
  /** E-mail address subscribed to the alarm topic (optional). */
  alarmEmail?: string;
  /** Where the ALB may be reached from. */
  albIngressCidrs: string[];
  /** Environments without requests for this long sleep (context `idleSleepAfter`, default "2h"; "off" for never). */
  idleSleepAfter?: string;
  idleSleepAfterMs?: number;
  /** How often the cleanup runs, in minutes (context `cleanupRate`: "15m", "1h"; 1m to 24h). */
  cleanupRateMinutes: number;
  /** Unused shared task definition revisions older than this are collected (context `taskDefinitionGrace`, FLEDGE_CLEANUP_TASK_DEFINITION_GRACE; 1h to 30d). */
  taskDefinitionGrace: string;
  /** Whether the `fledge.dev/pin` label may keep an environment from expiring (FLEDGE_ALLOW_PINNING). */
  allowPinning: boolean;
  /** Heals per environment per hour before it goes DEGRADED (FLEDGE_HEAL_MAX_PER_HOUR). */
  healMaxPerHour: number;
  /** The wait after the first failed heal, doubled after each further one (FLEDGE_HEAL_BACKOFF, e.g. "30s"). */
  healBackoff: string;
  /** Issuer of the CI API's JWT authorizer (context `oidcIssuer`, default GitHub Actions'). */
  oidcIssuer: string;
  /** Audiences the JWT authorizer accepts (context `oidcAudiences`, at most 50); none: no CI API. */
  oidcAudiences: string[];
  /**
   * The GitHub owners whose OIDC tokens the CI API accepts (context `oidcRepositoryOwners`,
   * FLEDGE_OIDC_OWNERS): owner ids (digits, matched against `repository_owner_id`) or names
   * (matched against `repository_owner`, ignoring case). Required with `oidcAudiences`.
   */
  oidcRepositoryOwners: string[];
  /**
   * The GitHub events (`event_name` claim) whose tokens the API refuses, operators' too (context
   * `oidcRefusedEvents`, FLEDGE_OIDC_REFUSED_EVENTS). Default `DEFAULT_OIDC_REFUSED_EVENTS`
   * (pull_request_target, workflow_run: jobs that run with the base repository's identity and
   * may run a fork's code); empty: every event is accepted (a synth info note says what that means).
   */
  oidcRefusedEvents: string[];
  /** Operator patterns: IAM ARN patterns (`arn:...`) and OIDC subject patterns, `*` a wildcard (context `operators`, FLEDGE_OPERATORS). */
  operators: string[];
  /** IAM ARN pattern -> repositories its principals act for (context `iamRepositories`, FLEDGE_IAM_REPOSITORIES). */
  iamRepositories: Record<string, string[]>;
  /** The operator's Fargate prices instead of the table's (context `fargatePrices`, FLEDGE_FARGATE_PRICES; README "Cost"). */
  fargatePrices?: FargatePrice;
}

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * The events that trigger workflows, as GitHub Docs "Events that trigger workflows" lists them
 * (the `event_name` claim is one of them). An `oidcRefusedEvents` entry outside it is most
 * likely a typo that refuses nothing: synth warns (not fails: GitHub adds events now and then).
 */
export const GITHUB_WORKFLOW_EVENTS: ReadonlySet<string> = new Set([
  'branch_protection_rule', 'check_run', 'check_suite', 'create', 'delete', 'deployment', 'deployment_status', 'discussion',
  'discussion_comment', 'fork', 'gollum', 'issue_comment', 'issues', 'label', 'merge_group', 'milestone', 'page_build', 'project',
  'project_card', 'project_column', 'public', 'pull_request', 'pull_request_review', 'pull_request_review_comment',
  'pull_request_target', 'push', 'registry_package', 'release', 'repository_dispatch', 'schedule', 'status', 'watch',
  'workflow_call', 'workflow_dispatch', 'workflow_run',
]);

/** HTTP API quota "Audiences per authorizer" (not adjustable): https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html */
export const MAX_JWT_AUDIENCES = 50;

/** A GitHub owner id (digits) or login (letters, digits and hyphens, 39 characters at most). */
const GITHUB_OWNER = /^(?:\d{1,20}|[A-Za-z0-9][A-Za-z0-9-]{0,38})$/;

/** `fargatePrices`: `{"vcpuHour": <USD>, "gbHour": <USD>}` (cdk.json, or a JSON string from -c). */
function fargatePrices(read: ContextReader): FargatePrice | undefined {
  let value = read('fargatePrices');
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new ConfigError('context fargatePrices must be a JSON object like {"vcpuHour": 0.04048, "gbHour": 0.004445}');
    }
  }
  const result = fargatePriceSchema.safeParse(value);
  if (!result.success) {
    throw new ConfigError(`context fargatePrices must be {"vcpuHour": <USD>, "gbHour": <USD>} (numbers from 0 to 100), got ${JSON.stringify(value)}`);
  }
  return result.data;
}

/** `iamRepositories`: a JSON object (cdk.json, or a JSON string from -c) of ARN pattern -> repository or list. */
function repositoryMap(read: ContextReader, key: string): Record<string, string[]> {
  let value = read(key);
  if (value === undefined || value === null || value === '') return {};
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new ConfigError(`context ${key} must be a JSON object of IAM ARN pattern -> repository or list of repositories`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`context ${key} must be an object`);
  const map: Record<string, string[]> = {};
  for (const [pattern, repositories] of Object.entries(value as Record<string, unknown>)) {
    if (!pattern.startsWith('arn:')) throw new ConfigError(`context ${key}: ${pattern} is not an IAM ARN pattern`);
    const list = typeof repositories === 'string' ? [repositories] : repositories;
    if (!Array.isArray(list) || list.length === 0 || !list.every((r) => typeof r === 'string' && /^[^/\s]+\/[^/\s]+$/.test(r))) {
      throw new ConfigError(`context ${key}: ${pattern} must map to a repository (owner/name) or a non-empty list of them`);
    }
    map[pattern] = list as string[];
  }
  return map;
}

export const DEFAULT_BASE_DOMAIN = 'preview.example.com';

/**
 * The environments one ALB (one shard) can serve: functions/domain/shards.ts ENVIRONMENTS_PER_SHARD
 * (99: 100 target groups per ALB, a hard limit, one of them the waker's; 100 rules by default:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html).
 */
export const MAX_ENVIRONMENTS_PER_ALB = ENVIRONMENTS_PER_SHARD;
/** AWS's default quota "Application Load Balancers per Region" (adjustable), same page. */
export const DEFAULT_ALBS_PER_REGION = 50;
export const MAX_ENVIRONMENTS = DEFAULT_ALBS_PER_REGION * MAX_ENVIRONMENTS_PER_ALB;
export const DEFAULT_MAX_ENVIRONMENTS = MAX_ENVIRONMENTS_PER_ALB;

export { shardsNeeded };

/** The id of the `index`th shard (0-based): `s1`, `s2`, ... in creation order. */
export function shardId(index: number): string {
  return `s${index + 1}`;
}

/** A Route 53 hosted zone id: `Z` and upper-case letters and digits (a `/hostedzone/` prefix is accepted and dropped). */
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;

/** `maxEnvironments`, `hostedZoneId`, `closedShards` and the quotas they bound (synth checks). */
function pool(read: ContextReader): Pick<FledgeConfig, 'maxEnvironments' | 'shardCount' | 'hostedZoneId' | 'closedShards' | 'quotaGlobal' | 'quotaPerRepository'> {
  const maxEnvironments = int(read, 'maxEnvironments', DEFAULT_MAX_ENVIRONMENTS, 1, Number.MAX_SAFE_INTEGER);
  if (maxEnvironments > MAX_ENVIRONMENTS) {
    throw new ConfigError(
      `context maxEnvironments is ${maxEnvironments}, which needs ${shardsNeeded(maxEnvironments)} Application Load Balancers (${MAX_ENVIRONMENTS_PER_ALB} environments each); ` +
        `AWS's default quota is ${DEFAULT_ALBS_PER_REGION} Application Load Balancers per Region, so set maxEnvironments to at most ${MAX_ENVIRONMENTS} ` +
        '(Elastic Load Balancing "Quotas for your Application Load Balancers")',
    );
  }
  const shardCount = shardsNeeded(maxEnvironments);
  const capacity = shardCount * MAX_ENVIRONMENTS_PER_ALB;

  const rawZone = str(read, 'hostedZoneId')?.replace(/^\/?hostedzone\//, '');
  if (rawZone !== undefined && !HOSTED_ZONE_ID.test(rawZone)) {
    throw new ConfigError(`context hostedZoneId must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ, got ${JSON.stringify(rawZone)}`);
  }
  if (shardCount > 1 && rawZone === undefined) {
    throw new ConfigError(
      `context maxEnvironments is ${maxEnvironments}, which needs ${shardCount} load balancers, and then each environment's name must point at its own one: ` +
        'set hostedZoneId to the Route 53 hosted zone of baseDomain, where Fledge writes one alias record per environment ' +
        `(or set maxEnvironments to at most ${MAX_ENVIRONMENTS_PER_ALB}: one load balancer, the wildcard record is enough)`,
    );
  }

  const closedShards = [...new Set(list(read, 'closedShards') ?? [])];
  for (const id of closedShards) {
    if (!/^s[1-9]\d*$/.test(id) || Number(id.slice(1)) > shardCount) {
      throw new ConfigError(`context closedShards: ${JSON.stringify(id)} is not a shard of this pool (s1 to s${shardCount})`);
    }
  }
  if (closedShards.length === shardCount) {
    throw new ConfigError(`context closedShards closes every shard (${closedShards.join(', ')}): no new environment could be created; raise maxEnvironments to add an open one`);
  }

  const quotaGlobal = int(read, 'quotaGlobal', capacity, 1, Number.MAX_SAFE_INTEGER);
  if (quotaGlobal > capacity) {
    throw new ConfigError(
      `context quotaGlobal is ${quotaGlobal}, but the pool holds ${capacity} environments: ${shardCount} Application Load Balancer(s) of ${MAX_ENVIRONMENTS_PER_ALB} ` +
        '(100 target groups per ALB, a hard limit, one of them the waker\'s). Raise maxEnvironments (with hostedZoneId past one ALB) or lower quotaGlobal',
    );
  }
  const quotaPerRepository = int(read, 'quotaPerRepository', Math.min(20, quotaGlobal), 1, 10_000);
  if (quotaPerRepository > quotaGlobal) {
    throw new ConfigError(`context quotaPerRepository is ${quotaPerRepository}, above quotaGlobal (${quotaGlobal}): no repository can have more environments than the installation`);
  }
  return { maxEnvironments, shardCount, ...(rawZone ? { hostedZoneId: rawZone } : {}), closedShards, quotaGlobal, quotaPerRepository };
}

/** CloudWatch Logs accepts only these retention periods. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Reads a context value: anything `tryGetContext` returns (strings from `-c`, JSON from cdk.json). */
export type ContextReader = (key: string) => unknown;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function str(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(`context ${key} must be a string`);
  return value.trim() || undefined;
}

function int(read: ContextReader, key: string, fallback: number, min: number, max: number): number {
  const value = read(key);
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`context ${key} must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A list: JSON array (cdk.json) or a comma-separated string (`-c key=a,b`). */
function list(read: ContextReader, key: string): string[] | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  let items: unknown = value;
  if (typeof value === 'string') {
    items = value.trim().startsWith('[') ? JSON.parse(value) : value.split(',');
  }
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) {
    throw new ConfigError(`context ${key} must be a list of strings`);
  }
  return items.map((item: string) => item.trim()).filter(Boolean);
}

/** `idleSleepAfter`: "2h" by default, "off" for no idle sleep; at least 15 minutes (ALB metrics come by the minute). */
function idleSleep(read: ContextReader): Pick<FledgeConfig, 'idleSleepAfter' | 'idleSleepAfterMs'> {
  const raw = str(read, 'idleSleepAfter') ?? '2h';
  if (['off', 'false', '0'].includes(raw.toLowerCase())) return {};
  const ms = parseDuration(raw);
  if (ms === undefined || ms < 15 * 60_000) {
    throw new ConfigError(`context idleSleepAfter must be a duration of at least 15m like "2h" or "90m", or "off", got ${raw}`);
  }
  return { idleSleepAfter: raw, idleSleepAfterMs: ms };
}

export function readConfig(read: ContextReader): FledgeConfig {
  const vpcId = str(read, 'vpcId');
  const publicSubnetIds = list(read, 'publicSubnetIds') ?? [];
  const privateSubnetIds = list(read, 'privateSubnetIds') ?? [];
  const availabilityZones = list(read, 'availabilityZones') ?? [];
  if (!vpcId && (publicSubnetIds.length || privateSubnetIds.length)) {
    throw new ConfigError('context publicSubnetIds/privateSubnetIds need vpcId');
  }
  if (vpcId && privateSubnetIds.length && !publicSubnetIds.length) {
    throw new ConfigError('context privateSubnetIds needs publicSubnetIds (the ALB is internet-facing)');
  }
  if (publicSubnetIds.length === 1) {
    throw new ConfigError('context publicSubnetIds needs at least 2 subnets in different AZs (an ALB spans 2 or more)');
  }

  const baseDomainRaw = str(read, 'baseDomain');
  const baseDomain = (baseDomainRaw ?? DEFAULT_BASE_DOMAIN).toLowerCase().replace(/\.$/, '');
  if (!/^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(baseDomain)) {
    throw new ConfigError(`context baseDomain is not a DNS name: ${baseDomain}`);
  }

  const maxTtl = str(read, 'maxTtl') ?? '30d';
  if (parseDuration(maxTtl) === undefined) {
    throw new ConfigError(`context maxTtl must be a duration like "30d" or "72h", got ${maxTtl}`);
  }

  const logRetentionDays = int(read, 'logRetentionDays', 30, 1, 3653);
  if (!RETENTION_DAYS.includes(logRetentionDays)) {
    throw new ConfigError(`context logRetentionDays must be one of ${RETENTION_DAYS.join(', ')}`);
  }

  const certificateArn = str(read, 'certificateArn');
  if (certificateArn && !/^arn:aws[a-z-]*:acm:/.test(certificateArn)) {
    throw new ConfigError('context certificateArn must be an ACM certificate ARN');
  }
  const tableKmsKeyArn = str(read, 'tableKmsKeyArn');
  if (tableKmsKeyArn && !/^arn:aws[a-z-]*:kms:/.test(tableKmsKeyArn)) {
    throw new ConfigError('context tableKmsKeyArn must be a KMS key ARN');
  }

  const healBackoff = str(read, 'healBackoff') ?? '30s';
  if (!/^\d+(s|m)$/.test(healBackoff) || parseInt(healBackoff, 10) < 1 || (healBackoff.endsWith('m') ? parseInt(healBackoff, 10) * 60 : parseInt(healBackoff, 10)) > 3600) {
    throw new ConfigError(`context healBackoff must be a duration between 1s and 60m like "30s" or "2m", got ${healBackoff}`);
  }

  const cleanupRate = str(read, 'cleanupRate') ?? '15m';
  const cleanupRateMs = parseDuration(cleanupRate);
  if (cleanupRateMs === undefined || cleanupRateMs > 86_400_000) {
    throw new ConfigError(`context cleanupRate must be a duration between 1m and 24h like "15m" or "1h", got ${cleanupRate}`);
  }
  const taskDefinitionGrace = str(read, 'taskDefinitionGrace') ?? '24h';
  const taskDefinitionGraceMs = parseDuration(taskDefinitionGrace);
  if (taskDefinitionGraceMs === undefined || taskDefinitionGraceMs < 3_600_000 || taskDefinitionGraceMs > 30 * 86_400_000) {
    throw new ConfigError(`context taskDefinitionGrace must be a duration between 1h and 30d like "24h" or "7d", got ${taskDefinitionGrace}`);
  }
  const allowPinning = read('allowPinning');
  if (allowPinning !== undefined && allowPinning !== null && allowPinning !== '' && !['true', 'false', true, false].includes(allowPinning as string | boolean)) {
    throw new ConfigError(`context allowPinning must be true or false, got ${JSON.stringify(allowPinning)}`);
  }

  const installationId = str(read, 'installationId');
  const installationProblem = installationId === undefined ? undefined : installationIdProblem(installationId);
  if (installationProblem) throw new ConfigError(`context installationId ${installationProblem}`);

  const shardPool = pool(read);

  const secretRoot = str(read, 'secretRoot') ?? DEFAULT_SECRET_ROOT;
  // one path segment; SSM reserves names starting with aws or ssm (Parameter Store "Working with parameter hierarchies")
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(secretRoot) || /^(aws|ssm)/i.test(secretRoot) || /^\.+$/.test(secretRoot)) {
    throw new ConfigError(`context secretRoot must be one name segment of letters, digits and _.- (not starting with aws or ssm), got ${JSON.stringify(secretRoot)}`);
  }
  const secretArnPrefixes = list(read, 'secretArnPrefixes');
  const account = str(read, 'account');
  const region = str(read, 'region');
  for (const prefix of secretArnPrefixes ?? []) {
    const match = /^arn:aws[a-z-]*:(?:secretsmanager:([a-z0-9-]+):(\d{12}):secret:|ssm:([a-z0-9-]+):(\d{12}):parameter\/)(.*)$/.exec(prefix);
    if (!match) {
      throw new ConfigError(`context secretArnPrefixes: ${prefix} is not a Secrets Manager (…:secret:) or SSM (…:parameter/) ARN prefix`);
    }
    const [, smRegion, smAccount, ssmRegion, ssmAccount, name] = match;
    if (!name!.startsWith(`${secretRoot}/`)) {
      throw new ConfigError(`context secretArnPrefixes: ${prefix} lies outside the secret namespaces ${secretRoot}/<owner>/<repository>/ (context secretRoot)`);
    }
    if ((account && (smAccount ?? ssmAccount) !== account) || (region && (smRegion ?? ssmRegion) !== region)) {
      throw new ConfigError(`context secretArnPrefixes: ${prefix} is not in the stack's own account and region (environments reference only those)`);
    }
  }

  const secretRepositories = [...new Set(list(read, 'secretRepositories') ?? [])];
  for (const repository of secretRepositories) {
    if (!ownsSecrets(repository)) {
      throw new ConfigError(`context secretRepositories: ${JSON.stringify(repository)} is not a repository as owner/name (letters, digits and _.- on each side of one slash)`);
    }
  }

  const oidcIssuer = str(read, 'oidcIssuer') ?? GITHUB_ACTIONS_ISSUER;
  if (!/^https:\/\/[^\s?#]+$/.test(oidcIssuer)) throw new ConfigError(`context oidcIssuer must be an https URL without query or fragment, got ${oidcIssuer}`);
  // API Gateway compares the token's iss with the configured issuer as a string, and GitHub's iss
  // has no trailing slash (GitHub Docs "OpenID Connect reference": iss is
  // https://token.actions.githubusercontent.com): with one, every token would be a 401
  if (oidcIssuer.endsWith('/')) {
    throw new ConfigError(`context oidcIssuer must not end with "/": it is compared exactly with the tokens' iss claim, which has none (got ${oidcIssuer}; use ${oidcIssuer.replace(/\/+$/, '')})`);
  }
  const oidcAudiences = list(read, 'oidcAudiences') ?? [];
  // "Audiences per authorizer: 50", not adjustable: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
  if (oidcAudiences.length > MAX_JWT_AUDIENCES) {
    throw new ConfigError(`context oidcAudiences has ${oidcAudiences.length} audiences; an HTTP API JWT authorizer accepts at most ${MAX_JWT_AUDIENCES} (API Gateway quota "Audiences per authorizer")`);
  }
  const oidcRepositoryOwners = list(read, 'oidcRepositoryOwners') ?? [];
  for (const owner of oidcRepositoryOwners) {
    if (!GITHUB_OWNER.test(owner)) throw new ConfigError(`context oidcRepositoryOwners: ${JSON.stringify(owner)} is neither a GitHub owner id (digits) nor an owner name`);
  }
  // API Gateway's JWT authorizer checks only the signature, iss, aud and the times (API Gateway
  // Developer Guide, "Control access to HTTP APIs with JWT authorizers in API Gateway"), and any
  // workflow on github.com may ask for a token with our audience (core.getIDToken(audience), GitHub
  // Docs "OpenID Connect reference"): without an owner allow-list every repository could call
  if (oidcAudiences.length > 0 && oidcRepositoryOwners.length === 0) {
    throw new ConfigError(
      'context oidcAudiences needs oidcRepositoryOwners: any GitHub Actions workflow, in any repository on github.com, can get a token for any audience, ' +
        'so the CI API must be told whose repositories it serves. Set oidcRepositoryOwners to your GitHub organisations/users, preferably by id ' +
        '(digits, e.g. ["1234567"]; an id survives renames; `gh api users/<owner> --jq .id` prints it for an organisation or a user), or by name.',
    );
  }

  // a fork's pull request reaches a base repository's pull_request_target / workflow_run job,
  // whose token names the base repository (functions/domain/caller.ts DEFAULT_OIDC_REFUSED_EVENTS)
  const oidcRefusedEvents = [...new Set(list(read, 'oidcRefusedEvents') ?? DEFAULT_OIDC_REFUSED_EVENTS)];
  for (const event of oidcRefusedEvents) {
    if (!isGithubEventName(event)) throw new ConfigError(`context oidcRefusedEvents: ${JSON.stringify(event)} is not a GitHub event name (lowercase letters and _, as the event_name claim spells it, e.g. pull_request_target)`);
  }

  return {
    oidcIssuer,
    oidcAudiences,
    oidcRepositoryOwners,
    oidcRefusedEvents,
    operators: list(read, 'operators') ?? [],
    iamRepositories: repositoryMap(read, 'iamRepositories'),
    fargatePrices: fargatePrices(read),
    account,
    region,
    vpcId,
    publicSubnetIds,
    privateSubnetIds,
    availabilityZones,
    natGateways: int(read, 'natGateways', 1, 0, 2),
    certificateArn,
    baseDomain,
    baseDomainIsDefault: baseDomainRaw === undefined,
    maxTtl,
    installationId,
    ...shardPool,
    logRetentionDays,
    secretRoot,
    // Empty means the whole namespace root of the stack's account and region (secret:<root>/*, parameter/<root>/*).
    secretArnPrefixes: secretArnPrefixes ?? [],
    secretRepositories,
    tableKmsKeyArn,
    apiThrottleRateLimit: int(read, 'apiThrottleRateLimit', 50, 1, 10_000),
    apiThrottleBurstLimit: int(read, 'apiThrottleBurstLimit', 100, 1, 5_000),
    alarmEmail: str(read, 'alarmEmail'),
    albIngressCidrs: list(read, 'albIngressCidrs') ?? ['0.0.0.0/0'],
    ...idleSleep(read),
    cleanupRateMinutes: cleanupRateMs / 60_000,
    taskDefinitionGrace,
    allowPinning: allowPinning !== false && allowPinning !== 'false',
    healMaxPerHour: int(read, 'healMaxPerHour', 3, 1, 60),
    healBackoff,
  };
}
