/** Operator settings the API reads from its Lambda environment (same defaults locally and on AWS). */
import { parseDuration } from '#domain/durations.ts';
import { DEFAULT_SECRET_ROOT, ownsSecrets, partitionOf, type SecretScope } from '#domain/secret-ownership.ts';

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

function flag(name: string, fallback: boolean): boolean {
  const raw = process.env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`${name} must be true or false, got "${process.env[name]}"`);
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

/**
 * The installation's own account and region (CDK passes FLEDGE_ACCOUNT_ID and FLEDGE_PARTITION;
 * Lambda sets AWS_REGION; local mode: 000000000000 and its region), the namespace root
 * (FLEDGE_SECRET_ROOT), the operator's prefixes (FLEDGE_SECRET_ARN_PREFIXES, comma-separated) and
 * the repositories that may use secrets (FLEDGE_SECRET_REPOSITORIES, comma-separated `owner/name`:
 * on AWS unset means none; in local mode, FLEDGE_LOCAL_MODE=true, unset means every repository,
 * since the simulator checks no IAM role).
 */
function secretScope(): SecretScope {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? '';
  const account = process.env.FLEDGE_ACCOUNT_ID?.trim();
  if (account && !/^\d{12}$/.test(account)) throw new Error(`FLEDGE_ACCOUNT_ID must be a 12-digit account id, got "${account}"`);
  const root = process.env.FLEDGE_SECRET_ROOT?.trim() || DEFAULT_SECRET_ROOT;
  if (!/^[A-Za-z0-9_.-]+$/.test(root)) throw new Error(`FLEDGE_SECRET_ROOT must be one path segment of letters, digits and _.-, got "${root}"`);
  return {
    partition: process.env.FLEDGE_PARTITION?.trim() || partitionOf(region),
    region,
    account: account || undefined,
    root,
    prefixes: (process.env.FLEDGE_SECRET_ARN_PREFIXES ?? '').split(',').map((prefix) => prefix.trim()).filter(Boolean),
    repositories: secretRepositories(),
  };
}

function secretRepositories(): string[] | undefined {
  const raw = process.env.FLEDGE_SECRET_REPOSITORIES;
  if (raw === undefined && process.env.FLEDGE_LOCAL_MODE === 'true') return undefined;
  const repositories = (raw ?? '').split(',').map((repository) => repository.trim()).filter(Boolean);
  const bad = repositories.find((repository) => !ownsSecrets(repository));
  if (bad !== undefined) throw new Error(`FLEDGE_SECRET_REPOSITORIES must list repositories as owner/name, got "${bad}"`);
  return repositories;
}

let config: ApiConfig | undefined;

export function apiConfig(): ApiConfig {
  if (config) return config;
  const maxTtl = process.env.FLEDGE_MAX_TTL ?? '30d';
  const maxTtlMs = parseDuration(maxTtl);
  if (maxTtlMs === undefined) throw new Error(`FLEDGE_MAX_TTL must be a duration like "30d", got "${maxTtl}"`);
  config = {
    maxTtlMs,
    // 99: what one shared ALB holds (100 target groups, one of them the waker's: infra/aws/config.ts MAX_ENVIRONMENTS_PER_ALB)
    quotaGlobal: positiveInt('FLEDGE_QUOTA_GLOBAL', 99),
    quotaPerRepository: positiveInt('FLEDGE_QUOTA_PER_REPOSITORY', 20),
    allowPinning: flag('FLEDGE_ALLOW_PINNING', true),
    version: process.env.FLEDGE_VERSION ?? '0.1.0',
    secretScope: secretScope(),
  };
  return config;
}

/** For tests and local mode, after changing the environment. */
export function resetApiConfig(): void {
  config = undefined;
}
