/**
 * Every setting a Fledge Lambda reads from its environment, declared once (VARIABLES: name,
 * parser, default, which Lambda kinds cannot run without it) and parsed one way: each variable's
 * zod schema parses its trimmed text (blank counts as unset), and a section reads all its
 * variables before it throws, so one ConfigurationError names every missing and every invalid
 * variable at once. The CDK stack (infra/aws) and local mode (infra/local/main.ts) set these
 * names; no other file in functions/ reads process.env (Powertools reads its POWERTOOLS_* itself).
 *
 * Sections (what callers use):
 *   runtimeConfig()   where task and event Lambdas run: cluster, listener, network, roles, domain
 *   apiConfig()       the operator's limits on requests: TTL, quotas, pinning, secrets
 *   accessPolicy()    who may do what (docs/security.md "Callers and tenancy")
 *   healPolicy()      bounds on self-healing (README "Self-healing")
 *   fargatePrice()    the price environment costs are estimated at (README "Cost")
 *   cleanupConfig()   the scheduled cleanup (statemachines/cleanup.asl.json)
 *   installationId(), clusterArnIfSet(), localMode(), idleSleepAfterMs(), tableName(),
 *   stateMachineArn(kind), dynamodbEndpoint()
 * The first five are parsed once per process (resetConfig() after a test changes the
 * environment); the rest are read on every call, as tests and local mode change them between runs.
 */
import { z } from 'zod';
import { DEFAULT_OIDC_REFUSED_EVENTS, isGithubEventName, type AccessPolicy } from '#domain/caller.ts';
import { parseDuration } from '#domain/durations.ts';
import type { HealPolicy } from '#domain/healing.ts';
import { installationIdProblem } from '#domain/resource-names.ts';
import { parseIdleSleepAfter } from '#domain/scaling.ts';
import { DEFAULT_SECRET_ROOT, ownsSecrets, partitionOf, type SecretScope } from '#domain/secret-ownership.ts';
import { arnVariable, type StartedWorkflowKind } from '#contract/workflows.ts';
import { tablePrice } from '#contract/fargate-prices.ts';
import { fargatePriceSchema, type FargatePrice } from '#domain/cost.ts';
import { parseShardPool, shardFromListener, shardIdOf, shardNamed, type Shard } from '#domain/shards.ts';
import { SHARD_POOL_IN_TABLE, SHARD_POOL_ITEM_NAME } from '#contract/shard-pool-item.ts';

/**
 * The Lambda kinds by the environment the CDK stack gives them (infra/aws/fledge-stack.ts):
 * `task` the workflow task Lambdas (never a state machine ARN), `events` the event handlers and
 * the cleanup Lambdas (they start workflows), `api` the HTTP handlers.
 */
export type LambdaKind = 'task' | 'events' | 'api';

// ------------------------------------------------------------------ parsers

/** A parser throws this with what was wrong (the variable's name is put in front). */
class Invalid extends Error {}

/** A zod schema from a parse function that throws on a bad value. */
function parsed<T>(parse: (raw: string) => T) {
  return z.string().transform((raw, ctx): T => {
    try {
      return parse(raw);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
}

const text = z.string();
const list = parsed((raw) => raw.split(',').map((part) => part.trim()).filter(Boolean));

function positiveInt(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Invalid(`must be a positive integer, got "${raw}"`);
  return value;
}

/** `true`/`1` or `false`/`0`, any case. */
function flag(raw: string): boolean {
  const value = raw.toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new Invalid(`must be true or false, got "${raw}"`);
}

/** The API's durations (`90m`, `72h`, `30d`: functions/domain/durations.ts). */
function duration(raw: string): number {
  const ms = parseDuration(raw);
  if (ms === undefined) throw new Invalid(`must be a duration like "30d", got "${raw}"`);
  return ms;
}

const INTERVAL_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The cleanup's intervals: `0`, `500ms`, `30s`, `5m`, `1h`, `2d`. */
function interval(raw: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(raw);
  if (!match || (match[2] === undefined && match[1] !== '0')) throw new Invalid(`must be a duration like "30s", "5m" or "1h", got "${raw}"`);
  return Number(match[1]) * INTERVAL_UNITS[match[2] ?? 'ms']!;
}

/** The heal backoff: `30s`, `2m`, `500ms`, or a plain number of seconds, up to an hour. */
function seconds(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw);
  if (!match) throw new Invalid(`must look like "30s", "2m" or a number of seconds, got "${raw}"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const result = unit === 'ms' ? value / 1000 : unit === 'm' ? value * 60 : value;
  if (result <= 0 || result > 3600) throw new Invalid(`must be between 1ms and 1h, got "${raw}"`);
  return result;
}

/** A JSON array of strings or a comma-separated list; `*` in an entry is a wildcard (functions/domain/caller.ts). */
function patternList(raw: string): string[] {
  let items: unknown = raw.split(',');
  if (raw.startsWith('[')) {
    try {
      items = JSON.parse(raw);
    } catch {
      throw new Invalid('must be a JSON array of strings or a comma-separated list');
    }
  }
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) throw new Invalid('must be a list of strings');
  return items.map((item: string) => item.trim()).filter(Boolean);
}

function repositoryMap(raw: string): AccessPolicy['iamRepositories'] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Invalid('must be a JSON object of IAM ARN pattern -> repository (or list of repositories)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Invalid('must be a JSON object');
  return Object.entries(value as Record<string, unknown>).map(([pattern, entry]) => {
    const repositories = typeof entry === 'string' ? [entry] : entry;
    if (!pattern.startsWith('arn:')) throw new Invalid(`"${pattern}" is not an IAM ARN pattern`);
    if (!Array.isArray(repositories) || repositories.length === 0 || !repositories.every((r) => typeof r === 'string' && r.trim() !== '')) {
      throw new Invalid(`"${pattern}" must map to a repository or a non-empty list of repositories`);
    }
    return { pattern, repositories: repositories.map((r: string) => r.trim()) };
  });
}

/** A GitHub owner id (digits) or login (letters, digits, single hyphens; 39 characters at most). */
const OWNER_ENTRY = /^(?:\d{1,20}|[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))$/;

function owners(raw: string): string[] {
  const entries = patternList(raw);
  const bad = entries.find((owner) => !OWNER_ENTRY.test(owner));
  if (bad !== undefined) throw new Invalid(`"${bad}" is neither a GitHub owner id (digits) nor an owner name`);
  return entries;
}

/** `none`: no event is refused (the operator opted out). */
function refusedEvents(raw: string): readonly string[] {
  if (raw === 'none') return [];
  const events = patternList(raw);
  const bad = events.find((event) => !isGithubEventName(event));
  if (bad !== undefined) throw new Invalid(`"${bad}" is not a GitHub event name (lowercase letters and _, e.g. pull_request_target)`);
  return events;
}

/** `{"vcpuHour": 0.04048, "gbHour": 0.004445}`: USD per vCPU-hour and per GB-hour (functions/domain/cost.ts). */
function fargatePriceJson(raw: string): FargatePrice {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Invalid('must be a JSON object like {"vcpuHour": 0.04048, "gbHour": 0.004445}');
  }
  const result = fargatePriceSchema.safeParse(value);
  if (!result.success) throw new Invalid(`must be {"vcpuHour": <USD>, "gbHour": <USD>} (numbers from 0 to 100): ${result.error.issues.map((i) => `${i.path.join('.') || 'value'} ${i.message}`).join('; ')}`);
  return result.data;
}


function repositories(raw: string): string[] {
  const entries = raw.split(',').map((repository) => repository.trim()).filter(Boolean);
  const bad = entries.find((repository) => !ownsSecrets(repository));
  if (bad !== undefined) throw new Invalid(`must list repositories as owner/name, got "${bad}"`);
  return entries;
}

// ------------------------------------------------------------------ the variables

interface Variable {
  schema: z.ZodType<unknown, string>;
  /** used (and parsed) when the variable is unset or blank */
  default?: string;
  /** the Lambda kinds that cannot run without it; unset, it is optional */
  requiredBy?: readonly LambdaKind[];
  /** a blank value is a value (not "unset") */
  blankIsSet?: true;
}

const WHERE_TASKS_RUN = ['task', 'events'] as const;
const EVERY_KIND = ['task', 'events', 'api'] as const;
const STARTS_WORKFLOWS = ['events', 'api'] as const;

export const VARIABLES = {
  // where task and event Lambdas run (runtimeConfig)
  /** scopes target group and alarm names to this installation (functions/domain/resource-names.ts) */
  FLEDGE_INSTALLATION_ID: {
    schema: parsed((raw) => {
      const problem = installationIdProblem(raw);
      if (problem) throw new Invalid(problem);
      return raw;
    }),
    requiredBy: WHERE_TASKS_RUN,
  },
  /** the single table (docs/design.md) */
  TABLE_NAME: { schema: text, requiredBy: EVERY_KIND },
  FLEDGE_CLUSTER_ARN: { schema: text, requiredBy: WHERE_TASKS_RUN },
  /** the first load balancer's listener (shard s1); with FLEDGE_SHARDS unset, the only one */
  FLEDGE_LISTENER_ARN: { schema: text, requiredBy: WHERE_TASKS_RUN },
  /** the first load balancer's waker target group, when FLEDGE_SHARDS is unset (a sleeping environment's rule forwards to it) */
  FLEDGE_WAKER_TARGET_GROUP_ARN: { schema: text },
  /** the pool of load balancers: a JSON array of shards (functions/domain/shards.ts); unset, one from FLEDGE_LISTENER_ARN */
  FLEDGE_SHARDS: { schema: parsed(parseShardPool) },
  /**
   * `table`: the pool is the state table's item POOL#shards/POOL (functions/contract/shard-pool-item.ts),
   * which the Lambda wrappers load (functions/commands/shard-pool.ts); it wins over FLEDGE_SHARDS.
   * The CDK stack sets it: a pool past 2 load balancers does not fit Lambda's 4 KB of variables.
   */
  FLEDGE_SHARD_POOL: { schema: z.enum([SHARD_POOL_IN_TABLE], { error: (issue) => `must be "${SHARD_POOL_IN_TABLE}" or unset, got "${String(issue.input)}"` }) },
  /** the operator's Route 53 hosted zone: per-environment alias records when there is more than one shard */
  FLEDGE_HOSTED_ZONE_ID: { schema: parsed((raw) => raw.replace(/^\/?hostedzone\//, '')) },
  /** the installation's VPC: the orphan reconciliation only touches target groups in it */
  FLEDGE_VPC_ID: { schema: text },
  FLEDGE_SUBNET_IDS: { schema: list, requiredBy: WHERE_TASKS_RUN },
  FLEDGE_SECURITY_GROUP_IDS: { schema: list, requiredBy: WHERE_TASKS_RUN },
  FLEDGE_EXECUTION_ROLE_ARN: { schema: text, requiredBy: WHERE_TASKS_RUN },
  FLEDGE_TASK_ROLE_ARN: { schema: text, requiredBy: WHERE_TASKS_RUN },
  FLEDGE_LOG_GROUP: { schema: text, requiredBy: WHERE_TASKS_RUN },
  FLEDGE_BASE_DOMAIN: { schema: parsed((raw) => raw.replace(/^\.+|\.+$/g, '')), requiredBy: WHERE_TASKS_RUN },
  FLEDGE_URL_SCHEME: { schema: z.enum(['http', 'https'], { error: (issue) => `must be http or https, got "${String(issue.input)}"` }), default: 'https' },
  FLEDGE_ASSIGN_PUBLIC_IP: { schema: parsed((raw) => (/^(ENABLED|TRUE)$/i.test(raw) ? 'ENABLED' as const : 'DISABLED' as const)), default: 'DISABLED' },
  /** how long a DELETED record stays readable before DynamoDB TTL removes it */
  FLEDGE_DELETED_RETENTION: { schema: parsed(duration), default: '30d' },
  /** Lambda sets AWS_REGION (and AWS_DEFAULT_REGION) in every function */
  AWS_REGION: { schema: text },
  AWS_DEFAULT_REGION: { schema: text },

  // the operator's limits on requests (apiConfig)
  FLEDGE_MAX_TTL: { schema: parsed(duration), default: '30d' },
  // 99: what one shared ALB holds (100 target groups, one of them the waker's: infra/aws/config.ts MAX_ENVIRONMENTS_PER_ALB)
  FLEDGE_QUOTA_GLOBAL: { schema: parsed(positiveInt), default: '99' },
  FLEDGE_QUOTA_PER_REPOSITORY: { schema: parsed(positiveInt), default: '20' },
  /** whether the `fledge.dev/pin` label may keep an environment from expiring */
  FLEDGE_ALLOW_PINNING: { schema: parsed(flag), default: 'true' },
  FLEDGE_VERSION: { schema: text, default: '0.1.0' },
  /** the installation's own account and partition (CDK; local mode: 000000000000): secrets must live there */
  FLEDGE_ACCOUNT_ID: { schema: text.regex(/^\d{12}$/, { error: (issue) => `must be a 12-digit account id, got "${String(issue.input)}"` }) },
  FLEDGE_PARTITION: { schema: text },
  /** the namespace root of repositories' secrets */
  FLEDGE_SECRET_ROOT: {
    schema: text.regex(/^[A-Za-z0-9_.-]+$/, { error: (issue) => `must be one path segment of letters, digits and _.-, got "${String(issue.input)}"` }),
    default: DEFAULT_SECRET_ROOT,
  },
  /** the operator's own secret ARN prefixes, comma-separated */
  FLEDGE_SECRET_ARN_PREFIXES: { schema: list, default: '' },
  /** repositories that may use secrets (`owner/name`, comma-separated); unset: none on AWS, every one in local mode */
  FLEDGE_SECRET_REPOSITORIES: { schema: parsed(repositories), blankIsSet: true },

  /** the operator's Fargate prices (USD per vCPU-hour and GB-hour), instead of the table's for the region (functions/contract/fargate-prices.ts) */
  FLEDGE_FARGATE_PRICES: { schema: parsed(fargatePriceJson) },

  // who may do what (accessPolicy)
  /** IAM ARN patterns and OIDC subject patterns of operators */
  FLEDGE_OPERATORS: { schema: parsed(patternList), default: '' },
  /** JSON object: IAM ARN pattern -> repository or list of repositories */
  FLEDGE_IAM_REPOSITORIES: { schema: parsed(repositoryMap), default: '{}' },
  /** GitHub owners (ids or names) whose OIDC tokens are accepted; unset: none, except in local mode (every owner: the issuer is ours) */
  FLEDGE_OIDC_OWNERS: { schema: parsed(owners) },
  /** GitHub events whose tokens are refused; `none` for none */
  FLEDGE_OIDC_REFUSED_EVENTS: { schema: parsed(refusedEvents), default: DEFAULT_OIDC_REFUSED_EVENTS.join(',') },

  // self-healing (healPolicy)
  /** heals per environment per hour */
  FLEDGE_HEAL_MAX_PER_HOUR: {
    schema: parsed((raw) => {
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 1 || value > 60) throw new Invalid(`must be an integer between 1 and 60, got "${raw}"`);
      return value;
    }),
    default: '3',
  },
  /** the first wait after a heal, doubled after each further one (local mode sets 5s) */
  FLEDGE_HEAL_BACKOFF: { schema: parsed(seconds), default: '30s' },

  // the scheduled cleanup (cleanupConfig)
  /** expired environments (and stuck ones) handled per run; the rest wait for the next run */
  FLEDGE_CLEANUP_MAX_PER_RUN: { schema: parsed(positiveInt), default: '100' },
  /** an operation whose status has not moved for this long is checked for a lost execution */
  FLEDGE_CLEANUP_STUCK_AFTER: { schema: parsed(interval), default: '1h' },
  /** tagged resources younger than this are never treated as orphans */
  FLEDGE_CLEANUP_ORPHAN_GRACE: { schema: parsed(interval), default: '5m' },
  /** environments whose orphaned resources one run removes */
  FLEDGE_CLEANUP_MAX_ORPHANS_PER_RUN: { schema: parsed(positiveInt), default: '25' },
  /**
   * a shared `fledge-td-*` revision no live environment, no service and no plan step has used for this long is
   * deregistered and deleted (docs/design.md "Shared task definitions"); CDK context `taskDefinitionGrace`
   */
  FLEDGE_CLEANUP_TASK_DEFINITION_GRACE: { schema: parsed(interval), default: '24h' },
  /** local mode only: the cleanup's clock runs this far ahead, so expiry can be shown without waiting */
  FLEDGE_LOCAL_CLOCK_OFFSET: { schema: parsed(interval), default: '0' },

  /** environments without requests for this long are put to sleep (`2h`; unset or `off`: never) */
  FLEDGE_IDLE_SLEEP_AFTER: { schema: parsed(parseIdleSleepAfter) },

  // the workflows the API and the event handlers start (infra/aws/workflows.ts; locally the runner's)
  FLEDGE_CREATE_STATE_MACHINE_ARN: { schema: text, requiredBy: STARTS_WORKFLOWS },
  FLEDGE_UPDATE_STATE_MACHINE_ARN: { schema: text, requiredBy: STARTS_WORKFLOWS },
  FLEDGE_TEARDOWN_STATE_MACHINE_ARN: { schema: text, requiredBy: STARTS_WORKFLOWS },
  FLEDGE_SCALE_STATE_MACHINE_ARN: { schema: text, requiredBy: STARTS_WORKFLOWS },
  FLEDGE_HEAL_STATE_MACHINE_ARN: { schema: text, requiredBy: STARTS_WORKFLOWS },

  // local mode (infra/local/main.ts)
  /** `true` in local mode */
  FLEDGE_LOCAL_MODE: { schema: parsed((raw) => raw === 'true'), default: 'false' },
  /** `oidc` when local mode runs with --auth oidc (requests carry tokens) */
  FLEDGE_LOCAL_AUTH: { schema: text },
  /** DynamoDB Local */
  FLEDGE_DYNAMODB_ENDPOINT: { schema: text },

  // read by Powertools itself (and functions/runtime/powertools.ts); declared so the stack spells them once
  POWERTOOLS_SERVICE_NAME: { schema: text },
  POWERTOOLS_METRICS_NAMESPACE: { schema: text },
  POWERTOOLS_LOG_LEVEL: { schema: text },
} as const satisfies Record<string, Variable>;

export type VariableName = keyof typeof VARIABLES;
type Declared = typeof VARIABLES;
type Parsed<N extends VariableName> = z.output<Declared[N]['schema']>;
/** Required and defaulted variables always have a value; optional ones may not. */
type ValueOf<N extends VariableName> = Declared[N] extends { default: string } | { requiredBy: readonly [LambdaKind, ...LambdaKind[]] }
  ? Parsed<N>
  : Parsed<N> | undefined;

/** The environment of a Lambda, as the CDK stack and local mode write it: only declared names. */
export type LambdaEnvironment = { [N in VariableName]?: string };

type Env = Readonly<Record<string, string | undefined>>;

/** Every missing and every invalid variable of one read, in one message. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  constructor(
    readonly missing: readonly string[],
    readonly invalid: readonly string[],
  ) {
    super(
      `Fledge configuration (Lambda environment) is ${missing.length ? 'incomplete' : 'invalid'}: ` +
        [...(missing.length ? [`set ${missing.join(', ')}`] : []), ...invalid].join('; '),
    );
  }
}

/** The variable's trimmed text; undefined when unset (or blank, unless a blank is a value for it). */
function givenText(env: Env, name: VariableName): string | undefined {
  const raw = env[name]?.trim();
  return raw === '' && !(VARIABLES[name] as Variable).blankIsSet ? undefined : raw;
}

/** Parses the named variables of `env`; throws one ConfigurationError for all that are missing or invalid. */
export function readVariables<const N extends VariableName>(env: Env, names: readonly N[]): { [K in N]: ValueOf<K> } {
  const values: Record<string, unknown> = {};
  const missing: string[] = [];
  const invalid: string[] = [];
  for (const name of names) {
    const variable: Variable = VARIABLES[name];
    const given = givenText(env, name) ?? variable.default;
    if (given === undefined) {
      if (variable.requiredBy?.length) missing.push(name);
      continue;
    }
    const result = variable.schema.safeParse(given);
    if (result.success) values[name] = result.data;
    else {
      for (const issue of result.error.issues) invalid.push(issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`);
    }
  }
  if (missing.length || invalid.length) throw new ConfigurationError(missing, invalid);
  return values as { [K in N]: ValueOf<K> };
}

/** The variables `kind` cannot run without that `environment` lacks (the CDK stack checks at synth). */
export function missingVariables(kind: LambdaKind, environment: Readonly<Record<string, string | undefined>>): VariableName[] {
  return (Object.keys(VARIABLES) as VariableName[]).filter((name) => {
    const requiredBy: readonly LambdaKind[] | undefined = (VARIABLES[name] as Variable).requiredBy;
    return requiredBy?.includes(kind) && !environment[name];
  });
}

// ------------------------------------------------------------------ sections

export interface RuntimeConfig {
  /** scopes target group and alarm names to this installation (functions/domain/resource-names.ts) */
  installationId: string;
  tableName: string;
  clusterArn: string;
  /** the first shard's listener (FLEDGE_LISTENER_ARN); an environment's own is its shard's (`shards`) */
  listenerArn: string;
  /** the pool of load balancers, in creation order (s1 first): the table's (FLEDGE_SHARD_POOL=table), else FLEDGE_SHARDS, else one shard */
  shards: Shard[];
  /** the operator's Route 53 hosted zone (FLEDGE_HOSTED_ZONE_ID) */
  hostedZoneId?: string;
  /** per-environment alias records: with a hosted zone and more than one shard (one shard: the wildcard record is enough) */
  perEnvironmentDns: boolean;
  /** the installation's VPC (unset in older stacks) */
  vpcId?: string;
  subnetIds: string[];
  securityGroupIds: string[];
  executionRoleArn: string;
  taskRoleArn: string;
  logGroup: string;
  /** region of the log group (awslogs needs it); the Lambda's own region */
  region: string;
  baseDomain: string;
  urlScheme: 'http' | 'https';
  assignPublicIp: 'ENABLED' | 'DISABLED';
  /** how long a DELETED record stays readable before DynamoDB TTL removes it */
  deletedRetentionMs: number;
}

/**
 * `tablePool`: the pool loaded from the state table (setShardPool), used when FLEDGE_SHARD_POOL
 * is `table`; not loaded then is an error, never a silent fallback to one shard.
 */
export function readRuntimeConfig(env: Env, tablePool: readonly Shard[] | undefined = loadedShardPool): RuntimeConfig {
  const v = readVariables(env, [
    'FLEDGE_INSTALLATION_ID', 'TABLE_NAME', 'FLEDGE_CLUSTER_ARN', 'FLEDGE_LISTENER_ARN', 'FLEDGE_VPC_ID', 'FLEDGE_SUBNET_IDS', 'FLEDGE_SECURITY_GROUP_IDS',
    'FLEDGE_EXECUTION_ROLE_ARN', 'FLEDGE_TASK_ROLE_ARN', 'FLEDGE_LOG_GROUP', 'FLEDGE_BASE_DOMAIN', 'FLEDGE_URL_SCHEME', 'FLEDGE_ASSIGN_PUBLIC_IP',
    'FLEDGE_DELETED_RETENTION', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'FLEDGE_SHARDS', 'FLEDGE_WAKER_TARGET_GROUP_ARN', 'FLEDGE_HOSTED_ZONE_ID',
    'FLEDGE_SHARD_POOL',
  ]);
  if (v.FLEDGE_SHARD_POOL && !tablePool) throw new ShardPoolNotLoaded();
  const shards = (v.FLEDGE_SHARD_POOL ? [...tablePool!] : undefined) ?? v.FLEDGE_SHARDS ?? [shardFromListener(v.FLEDGE_LISTENER_ARN, v.FLEDGE_WAKER_TARGET_GROUP_ARN ?? '')];
  return {
    installationId: v.FLEDGE_INSTALLATION_ID,
    tableName: v.TABLE_NAME,
    clusterArn: v.FLEDGE_CLUSTER_ARN,
    listenerArn: v.FLEDGE_LISTENER_ARN,
    shards,
    ...(v.FLEDGE_HOSTED_ZONE_ID ? { hostedZoneId: v.FLEDGE_HOSTED_ZONE_ID } : {}),
    perEnvironmentDns: Boolean(v.FLEDGE_HOSTED_ZONE_ID) && shards.length > 1,
    ...(v.FLEDGE_VPC_ID ? { vpcId: v.FLEDGE_VPC_ID } : {}),
    subnetIds: v.FLEDGE_SUBNET_IDS,
    securityGroupIds: v.FLEDGE_SECURITY_GROUP_IDS,
    executionRoleArn: v.FLEDGE_EXECUTION_ROLE_ARN,
    taskRoleArn: v.FLEDGE_TASK_ROLE_ARN,
    logGroup: v.FLEDGE_LOG_GROUP,
    region: v.AWS_REGION ?? v.AWS_DEFAULT_REGION ?? 'us-east-1',
    baseDomain: v.FLEDGE_BASE_DOMAIN,
    urlScheme: v.FLEDGE_URL_SCHEME,
    assignPublicIp: v.FLEDGE_ASSIGN_PUBLIC_IP,
    deletedRetentionMs: v.FLEDGE_DELETED_RETENTION,
  };
}

export interface ApiConfig {
  maxTtlMs: number;
  quotaGlobal: number;
  quotaPerRepository: number;
  /** whether the `fledge.dev/pin` label may keep an environment from expiring (FLEDGE_ALLOW_PINNING, default true) */
  allowPinning: boolean;
  version: string;
  /** which secrets an environment's repository owns (docs/security.md "Secrets") */
  secretScope: SecretScope;
}

export function readApiConfig(env: Env): ApiConfig {
  const v = readVariables(env, [
    'FLEDGE_MAX_TTL', 'FLEDGE_QUOTA_GLOBAL', 'FLEDGE_QUOTA_PER_REPOSITORY', 'FLEDGE_ALLOW_PINNING', 'FLEDGE_VERSION', 'AWS_REGION', 'AWS_DEFAULT_REGION',
    'FLEDGE_ACCOUNT_ID', 'FLEDGE_PARTITION', 'FLEDGE_SECRET_ROOT', 'FLEDGE_SECRET_ARN_PREFIXES', 'FLEDGE_SECRET_REPOSITORIES', 'FLEDGE_LOCAL_MODE',
  ]);
  const region = v.AWS_REGION ?? v.AWS_DEFAULT_REGION ?? '';
  return {
    maxTtlMs: v.FLEDGE_MAX_TTL,
    quotaGlobal: v.FLEDGE_QUOTA_GLOBAL,
    quotaPerRepository: v.FLEDGE_QUOTA_PER_REPOSITORY,
    allowPinning: v.FLEDGE_ALLOW_PINNING,
    version: v.FLEDGE_VERSION,
    secretScope: {
      partition: v.FLEDGE_PARTITION ?? partitionOf(region),
      region,
      account: v.FLEDGE_ACCOUNT_ID,
      root: v.FLEDGE_SECRET_ROOT,
      prefixes: v.FLEDGE_SECRET_ARN_PREFIXES,
      // unset: no repository on AWS; every repository in local mode, since the simulator checks no IAM role
      repositories: v.FLEDGE_SECRET_REPOSITORIES ?? (v.FLEDGE_LOCAL_MODE ? undefined : []),
    },
  };
}

/** Parses the access policy (a malformed setting is a deployment error, not a request error). */
export function readAccessPolicy(env: Env): AccessPolicy {
  const v = readVariables(env, ['FLEDGE_OIDC_OWNERS', 'FLEDGE_OIDC_REFUSED_EVENTS', 'FLEDGE_OPERATORS', 'FLEDGE_IAM_REPOSITORIES', 'FLEDGE_LOCAL_MODE']);
  return {
    oidcOwners: v.FLEDGE_OIDC_OWNERS ?? (v.FLEDGE_LOCAL_MODE ? 'any' : []),
    oidcRefusedEvents: v.FLEDGE_OIDC_REFUSED_EVENTS,
    operators: v.FLEDGE_OPERATORS,
    iamRepositories: v.FLEDGE_IAM_REPOSITORIES,
  };
}

/**
 * The Fargate price environment costs are estimated at: the operator's (FLEDGE_FARGATE_PRICES),
 * else the table's for the Lambda's region; undefined when neither has one (views show no cost).
 */
export function readFargatePrice(env: Env): { price?: FargatePrice } {
  const v = readVariables(env, ['FLEDGE_FARGATE_PRICES', 'AWS_REGION', 'AWS_DEFAULT_REGION']);
  const price = v.FLEDGE_FARGATE_PRICES ?? tablePrice(v.AWS_REGION ?? v.AWS_DEFAULT_REGION);
  return price ? { price } : {};
}

export function readHealPolicy(env: Env): HealPolicy {
  const v = readVariables(env, ['FLEDGE_HEAL_MAX_PER_HOUR', 'FLEDGE_HEAL_BACKOFF']);
  return { maxPerHour: v.FLEDGE_HEAL_MAX_PER_HOUR, backoffSeconds: v.FLEDGE_HEAL_BACKOFF, windowMs: 3_600_000 };
}

export interface CleanupConfig {
  maxPerRun: number;
  stuckAfterMs: number;
  orphanGraceMs: number;
  maxOrphanEnvironmentsPerRun: number;
  /** unused shared task definition revisions older than this are collected */
  taskDefinitionGraceMs: number;
  /** added to the execution's start time to get the cleanup's "now" (0 on AWS) */
  clockOffsetMs: number;
  /** the live quotas, which each run reports the counters against (metrics) */
  quotaGlobal: number;
  quotaPerRepository: number;
}

export function readCleanupConfig(env: Env): CleanupConfig {
  const v = readVariables(env, [
    'FLEDGE_CLEANUP_MAX_PER_RUN', 'FLEDGE_CLEANUP_STUCK_AFTER', 'FLEDGE_CLEANUP_ORPHAN_GRACE', 'FLEDGE_CLEANUP_MAX_ORPHANS_PER_RUN', 'FLEDGE_LOCAL_MODE',
    'FLEDGE_CLEANUP_TASK_DEFINITION_GRACE',
    'FLEDGE_QUOTA_GLOBAL', 'FLEDGE_QUOTA_PER_REPOSITORY',
  ]);
  return {
    maxPerRun: v.FLEDGE_CLEANUP_MAX_PER_RUN,
    stuckAfterMs: v.FLEDGE_CLEANUP_STUCK_AFTER,
    orphanGraceMs: v.FLEDGE_CLEANUP_ORPHAN_GRACE,
    maxOrphanEnvironmentsPerRun: v.FLEDGE_CLEANUP_MAX_ORPHANS_PER_RUN,
    taskDefinitionGraceMs: v.FLEDGE_CLEANUP_TASK_DEFINITION_GRACE,
    // on AWS the cleanup judges expiry by the real start time; the offset is not even parsed there
    clockOffsetMs: v.FLEDGE_LOCAL_MODE ? readVariables(env, ['FLEDGE_LOCAL_CLOCK_OFFSET']).FLEDGE_LOCAL_CLOCK_OFFSET : 0,
    quotaGlobal: v.FLEDGE_QUOTA_GLOBAL,
    quotaPerRepository: v.FLEDGE_QUOTA_PER_REPOSITORY,
  };
}

// ------------------------------------------------------------------ the pool from the table

/** FLEDGE_SHARD_POOL=table, and the pool was not loaded before the configuration was read. */
export class ShardPoolNotLoaded extends Error {
  override readonly name = 'ShardPoolNotLoaded';
  constructor() {
    super(
      `FLEDGE_SHARD_POOL=${SHARD_POOL_IN_TABLE}: the pool of load balancers is the state table's item ${SHARD_POOL_ITEM_NAME}, ` +
        'which the Lambda wrapper loads before the handler (functions/commands/shard-pool.ts loadShardPool); it was not loaded',
    );
  }
}

let loadedShardPool: readonly Shard[] | undefined;

/**
 * The pool read from the state table (functions/commands/shard-pool.ts, every 60 s at most), or
 * undefined to forget it. runtimeConfig() stays synchronous for its callers: the next read uses it.
 */
export function setShardPool(shards: readonly Shard[] | undefined): void {
  loadedShardPool = shards;
  delete cache.runtime;
}

/** Whether the pool is read from the state table (FLEDGE_SHARD_POOL=table), read on every call. */
export function shardPoolInTable(): boolean {
  return readVariables(process.env, ['FLEDGE_SHARD_POOL']).FLEDGE_SHARD_POOL === SHARD_POOL_IN_TABLE;
}

// ------------------------------------------------------------------ per process

const CACHED = { runtime: readRuntimeConfig, api: readApiConfig, heal: readHealPolicy, access: readAccessPolicy, price: readFargatePrice };
type Cached = { [K in keyof typeof CACHED]: ReturnType<(typeof CACHED)[K]> };
let cache: Partial<Cached> = {};

/** A section parsed once per process (until resetConfig()). */
function cached<K extends keyof Cached>(section: K): Cached[K] {
  return (cache[section] ??= CACHED[section](process.env) as Cached[K]) as Cached[K];
}

/** For tests and local mode, after changing the environment: the next read parses it again. */
export function resetConfig(): void {
  cache = {};
}

/** Where the workflow task Lambdas and the event handlers run (CDK sets it on AWS, infra/local locally). */
export const runtimeConfig = (): RuntimeConfig => cached('runtime');
/** Operator settings the API reads (same defaults locally and on AWS). */
export const apiConfig = (): ApiConfig => cached('api');
/** The operator's bounds on self-healing: the heal trigger, the heal task Lambdas and the API read it. */
export const healPolicy = (): HealPolicy => cached('heal');
/** Who may do what through the API (functions/lambda/principal.ts logs what it grants). */
export const accessPolicy = (): AccessPolicy => cached('access');
/** The Fargate price the API estimates costs at (README "Cost"); undefined: no price for this region. */
export const fargatePrice = (): FargatePrice | undefined => cached('price').price;

// Read on every call: cheap, and tests and local mode change these between runs.

/** The scheduled cleanup's settings. */
export function cleanupConfig(): CleanupConfig {
  return readCleanupConfig(process.env);
}

/** FLEDGE_INSTALLATION_ID, checked: for handlers that need only this of the runtime configuration (the heal trigger). */
export function installationId(): string {
  return readVariables(process.env, ['FLEDGE_INSTALLATION_ID']).FLEDGE_INSTALLATION_ID;
}

/** The Fledge cluster, when set: the heal trigger takes only its ECS events. */
export function clusterArnIfSet(): string | undefined {
  return givenText(process.env, 'FLEDGE_CLUSTER_ARN');
}

/** Idle sleep's threshold in ms; undefined when it is off. */
export function idleSleepAfterMs(): number | undefined {
  return readVariables(process.env, ['FLEDGE_IDLE_SLEEP_AFTER']).FLEDGE_IDLE_SLEEP_AFTER;
}

/** Local mode, and whether it requires tokens (--auth oidc). */
export function localMode(): { local: boolean; auth: boolean } {
  const v = readVariables(process.env, ['FLEDGE_LOCAL_MODE', 'FLEDGE_LOCAL_AUTH']);
  return { local: v.FLEDGE_LOCAL_MODE, auth: Boolean(v.FLEDGE_LOCAL_AUTH) };
}

export function tableName(): string {
  return readVariables(process.env, ['TABLE_NAME']).TABLE_NAME;
}

/** Set in local mode only: DynamoDB Local. */
export function dynamodbEndpoint(): string | undefined {
  return readVariables(process.env, ['FLEDGE_DYNAMODB_ENDPOINT']).FLEDGE_DYNAMODB_ENDPOINT;
}

/** The ARN of a workflow's state machine, from the variable the registry names (functions/contract/workflows.ts). */
export function stateMachineArn(kind: StartedWorkflowKind): string {
  const name = arnVariable(kind);
  return readVariables(process.env, [name])[name];
}

// ------------------------------------------------------------------ derived from the runtime configuration

/** The cluster name is the last segment of its ARN (`arn:aws:ecs:r:a:cluster/<name>`). */
export function clusterName(clusterArn: string): string {
  return clusterArn.slice(clusterArn.lastIndexOf('/') + 1);
}

/**
 * The shard an environment is on (its record's `shard`; s1 for a record older than the pool).
 * Every workflow but a create's placement uses it, closed or not: a closed shard's environments live on.
 */
export function shardOf(record: { shard?: string }, cfg: RuntimeConfig = runtimeConfig()): Shard {
  return shardNamed(cfg.shards, shardIdOf(record));
}

export function environmentUrl(name: string, cfg: RuntimeConfig = runtimeConfig()): string {
  return `${cfg.urlScheme}://${name}.${cfg.baseDomain}`;
}
