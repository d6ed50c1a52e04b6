/**
 * Where the workflow task Lambdas and the ECS event handler run: the cluster, the shared
 * listener, the network and roles of the tasks, the base domain. Read from the Lambda
 * environment once (CDK sets it on AWS, infra/local sets it locally); a missing variable is
 * one clear error naming every missing variable, not a `undefined` deep in a request.
 */
import { parseDuration } from '#domain/durations.ts';
import { installationIdProblem } from '#domain/resource-names.ts';

export interface RuntimeConfig {
  /** scopes target group and alarm names to this installation (functions/domain/resource-names.ts) */
  installationId: string;
  tableName: string;
  clusterArn: string;
  listenerArn: string;
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

const REQUIRED = {
  installationId: 'FLEDGE_INSTALLATION_ID',
  tableName: 'TABLE_NAME',
  clusterArn: 'FLEDGE_CLUSTER_ARN',
  listenerArn: 'FLEDGE_LISTENER_ARN',
  subnetIds: 'FLEDGE_SUBNET_IDS',
  securityGroupIds: 'FLEDGE_SECURITY_GROUP_IDS',
  executionRoleArn: 'FLEDGE_EXECUTION_ROLE_ARN',
  taskRoleArn: 'FLEDGE_TASK_ROLE_ARN',
  logGroup: 'FLEDGE_LOG_GROUP',
  baseDomain: 'FLEDGE_BASE_DOMAIN',
} as const;

/** The variables a task Lambda needs (for the CDK stack and local mode to set). */
export const RUNTIME_VARIABLES = [
  ...Object.values(REQUIRED),
  'FLEDGE_URL_SCHEME',
  'FLEDGE_ASSIGN_PUBLIC_IP',
  'FLEDGE_DELETED_RETENTION',
] as const;

function list(value: string): string[] {
  return value.split(',').map((part) => part.trim()).filter(Boolean);
}

function readConfig(env: NodeJS.ProcessEnv): RuntimeConfig {
  const missing = Object.values(REQUIRED).filter((name) => !env[name]?.trim());
  if (missing.length > 0) {
    throw new Error(`Fledge runtime configuration is incomplete: set ${missing.join(', ')}`);
  }
  const get = (name: string) => (env[name] as string).trim();
  const scheme = (env.FLEDGE_URL_SCHEME ?? 'https').trim() || 'https';
  if (scheme !== 'http' && scheme !== 'https') throw new Error(`FLEDGE_URL_SCHEME must be http or https, got "${scheme}"`);
  const publicIp = (env.FLEDGE_ASSIGN_PUBLIC_IP ?? 'DISABLED').trim().toUpperCase();
  const assignPublicIp = publicIp === 'ENABLED' || publicIp === 'TRUE' ? 'ENABLED' : 'DISABLED';
  const retention = (env.FLEDGE_DELETED_RETENTION ?? '30d').trim() || '30d';
  const deletedRetentionMs = parseDuration(retention);
  if (deletedRetentionMs === undefined) {
    throw new Error(`FLEDGE_DELETED_RETENTION must be a duration like "30d", got "${retention}"`);
  }
  const subnetIds = list(get(REQUIRED.subnetIds));
  const installation = installationId(env);
  const securityGroupIds = list(get(REQUIRED.securityGroupIds));
  return {
    installationId: installation,
    tableName: get(REQUIRED.tableName),
    clusterArn: get(REQUIRED.clusterArn),
    listenerArn: get(REQUIRED.listenerArn),
    subnetIds,
    securityGroupIds,
    executionRoleArn: get(REQUIRED.executionRoleArn),
    taskRoleArn: get(REQUIRED.taskRoleArn),
    logGroup: get(REQUIRED.logGroup),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    baseDomain: get(REQUIRED.baseDomain).replace(/^\.+|\.+$/g, ''),
    urlScheme: scheme,
    assignPublicIp,
    deletedRetentionMs,
  };
}

/**
 * `FLEDGE_INSTALLATION_ID`, checked (set by the CDK stack from context `installationId` or the
 * stack name, locally by infra/local/main.ts). For handlers that need only this of the runtime
 * configuration (the heal trigger).
 */
export function installationId(env: NodeJS.ProcessEnv = process.env): string {
  const id = env.FLEDGE_INSTALLATION_ID?.trim();
  if (!id) throw new Error('Fledge runtime configuration is incomplete: set FLEDGE_INSTALLATION_ID');
  const problem = installationIdProblem(id);
  if (problem) throw new Error(`FLEDGE_INSTALLATION_ID ${problem}`);
  return id;
}

let config: RuntimeConfig | undefined;

export function runtimeConfig(): RuntimeConfig {
  config ??= readConfig(process.env);
  return config;
}

/** For tests and local mode, after changing the environment. */
export function resetRuntimeConfig(): void {
  config = undefined;
}

/** The cluster name is the last segment of its ARN (`arn:aws:ecs:r:a:cluster/<name>`). */
export function clusterName(clusterArn: string): string {
  return clusterArn.slice(clusterArn.lastIndexOf('/') + 1);
}

export function environmentUrl(name: string, cfg: RuntimeConfig = runtimeConfig()): string {
  return `${cfg.urlScheme}://${name}.${cfg.baseDomain}`;
}
