/**
 * `npm start`: the whole control plane on this machine, no AWS account (infra/local/README.md).
 *
 *   DynamoDB Local (child process, data under .fledge/ or in memory)
 *   + the simulated ECS/ELB/CloudWatch/Auto Scaling (infra/local/simulator)
 *   + the local Step Functions runner (infra/local/workflow-runner.ts, the same ASL files)
 *   + a local EventBridge (simulator events -> functions/events/*)
 *   + the cleanup schedule
 *   + the HTTP front on 127.0.0.1 (API Gateway v2 events -> functions/api/*)
 *
 * Flags: --in-memory, --port <n> (default $PORT or 4000), --data-dir <dir> (default
 * $FLEDGE_DATA_DIR or .fledge), --auth oidc (a local issuer; /v1 needs its tokens; without it the
 * API is open), --shards <n> (load balancers in the simulated pool, default $FLEDGE_SIM_SHARDS or 1).
 * Ctrl-C / SIGTERM stops everything, DynamoDB Local included.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { resetClients, useClients } from '../../functions/adapters/aws-clients.ts';
import { everyEnvironment, getEnvironment } from '../../functions/adapters/environment-store.ts';
import { hasOperationInFlight } from '../../functions/domain/lifecycle.ts';
import { DEFAULT_OIDC_REFUSED_EVENTS } from '../../functions/domain/caller.ts';
import type { LambdaEnvironment } from '../../functions/runtime/config.ts';
import { startDynamoDbLocal, reservePort, LocalStartupError, LOCAL_CREDENTIALS, type LocalLogger } from './dynamodb-local.ts';
import { startHttpFront, fakeLambdaContext } from './http-front.ts';
import { createLocalIssuer, DEFAULT_LOCAL_AUDIENCE, LOCAL_OPERATOR_SUBJECT, type LocalIssuer } from './local-issuer.ts';
import { loadHandlerModule } from './handler-modules.ts';
import { createWorkflowRunner } from './workflow-runner.ts';
import { arnVariable, STARTED_WORKFLOW_KINDS, WORKFLOW_KINDS, WORKFLOWS } from '../../functions/contract/workflows.ts';
import { checkShardCount, createSimulator, simulatorOptionsFromEnv, type SimEvent, type Simulator } from './simulator/index.ts';
import { DeliveryLog } from './event-deliveries.ts';
import { HEAL_EVENT_RULES, matchesPattern, serviceArnPrefixOf, type ClusterTarget } from '../../functions/contract/heal-events.ts';
import { createLocalWaker, IDLE_SLEEP_MODULE, startIdleSleepSchedule } from './scaling.ts';
import { localPool, poolCapacity, publishShardPool, shardSlotsUsed } from './shard-pool.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ACCOUNT_ID = '000000000000';

// ------------------------------------------------------------------ options

interface Options {
  inMemory: boolean;
  port: number;
  dataDir: string;
  /** `--auth oidc`: tokens from the local issuer are required on /v1 (infra/local/local-issuer.ts) */
  auth: 'none' | 'oidc';
  /** `--shards <n>`: the simulated pool's load balancers (undefined: FLEDGE_SIM_SHARDS, else 1) */
  shards?: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      'in-memory': { type: 'boolean', default: false },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      auth: { type: 'string' },
      shards: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm start -- [--in-memory] [--port <n>] [--data-dir <dir>] [--auth oidc]\n' +
        '  --in-memory     keep DynamoDB Local in memory (nothing survives a restart)\n' +
        '  --port <n>      HTTP port on 127.0.0.1 (default $PORT or 4000)\n' +
        '  --data-dir <d>  where DynamoDB Local keeps its data (default $FLEDGE_DATA_DIR or .fledge)\n' +
        '  --auth oidc     run a local OIDC issuer and require its tokens on /v1, checked as API Gateway\'s\n' +
        '                  JWT authorizer does (POST /_local/token hands one out); without it the API is open\n' +
        '  --shards <n>    load balancers in the simulated pool, 1-50 (default $FLEDGE_SIM_SHARDS or 1); each holds\n' +
        '                  99 environments, and with more than one every environment gets a record in the simulated zone\n',
    );
    process.exit(0);
  }
  const rawPort = values.port ?? process.env.PORT ?? '4000';
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LocalStartupError(`--port must be a port number (1-65535), got "${rawPort}"`);
  const auth = values.auth ?? 'none';
  if (auth !== 'none' && auth !== 'oidc') throw new LocalStartupError(`--auth must be "oidc" (or left out for an open API), got "${auth}"`);
  let shards: number | undefined;
  if (values.shards !== undefined) {
    shards = Number(values.shards);
    try {
      checkShardCount(shards, '--shards');
    } catch (error) {
      throw new LocalStartupError((error as Error).message.replace(`"${shards}"`, `"${values.shards}"`));
    }
  }
  return { inMemory: values['in-memory'] ?? false, port, dataDir: resolve(values['data-dir'] ?? process.env.FLEDGE_DATA_DIR ?? '.fledge'), auth, shards };
}

/** `30s`, `2m`, `1h`, `500ms` or a plain number of milliseconds. */
export function parseInterval(raw: string | undefined, fallbackMs: number, name: string): number {
  if (raw === undefined || raw.trim() === '') return fallbackMs;
  const match = /^(\d+)(ms|s|m|h)?$/.exec(raw.trim());
  if (!match) throw new LocalStartupError(`${name} must look like "30s", "2m" or a number of milliseconds, got "${raw}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms']!;
  return Number(match[1]) * unit;
}

// ------------------------------------------------------------------ Lambda-like invocation

type AnyHandler = (event: unknown, context: unknown) => Promise<unknown>;
const loadModuleHandler = (file: string) => loadHandlerModule<AnyHandler>(file);

const pascal = (kebab: string) => kebab.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');

/** `${PlanResourcesFunctionArn}` -> functions/tasks/plan-resources.ts, for every task module. */
function taskFunctions(region: string): Map<string, { arn: string; file: string; substitution: string }> {
  const dir = join(REPO_ROOT, 'functions', 'tasks');
  const out = new Map<string, { arn: string; file: string; substitution: string }>();
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (!entry.endsWith('.ts') || entry.endsWith('.test.ts')) continue;
    const kebab = entry.slice(0, -3);
    const arn = `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:fledge-local-${kebab}`;
    out.set(arn, { arn, file: join(dir, entry), substitution: `${pascal(kebab)}FunctionArn` });
  }
  return out;
}

/** Every `${Name}` the state machines use. */
function substitutionsUsed(): Set<string> {
  const dir = join(REPO_ROOT, 'statemachines');
  const names = new Set<string>();
  if (!existsSync(dir)) return names;
  for (const kind of WORKFLOW_KINDS) {
    for (const match of readFileSync(join(dir, WORKFLOWS[kind].asl), 'utf8').matchAll(/\$\{([A-Za-z0-9_]+)\}/g)) names.add(match[1]!);
  }
  return names;
}

/** The states that wait for steady state with a task token and poll on their TimeoutSeconds. */
const STEADY_STATE_WAITS = ['AwaitSteadyState', 'AwaitSteadyStateAfterConverging'];

// ------------------------------------------------------------------ local EventBridge

interface LocalRule {
  name: string;
  module: string;
  matches(event: SimEvent): boolean;
}

/** The EventBridge rules of the CDK stack, locally: which handler gets which event. */
const eventRules = (cluster: ClusterTarget): LocalRule[] => [
  {
    name: 'ecs-service-events',
    module: 'functions/events/ecs-service-events.ts',
    matches: (e) => e.source === 'aws.ecs' && (e['detail-type'] === 'ECS Service Action' || e['detail-type'] === 'ECS Deployment State Change'),
  },
  // alarm state changes and ECS failures start heals: the CDK stack's rules (functions/contract/heal-events.ts)
  ...HEAL_EVENT_RULES.map((rule) => {
    const pattern = rule.pattern(cluster, process.env.FLEDGE_INSTALLATION_ID ?? '');
    return {
      name: `heal-${rule.id}`,
      module: 'functions/events/heal-trigger.ts',
      matches: (e: SimEvent) => matchesPattern(pattern, e as unknown as Record<string, unknown>),
    };
  }),
];

function startEventBus(simulator: Simulator, log: LocalLogger, region: string, deliveries: DeliveryLog): void {
  const missingReported = new Set<string>();
  const rules = eventRules({ clusterArn: simulator.clusterArn, serviceArnPrefix: serviceArnPrefixOf(simulator.clusterArn) });
  simulator.onEvent(async (event) => {
    for (const rule of rules) {
      if (!rule.matches(event)) continue;
      const file = join(REPO_ROOT, rule.module);
      if (!existsSync(file)) {
        if (!missingReported.has(rule.name)) {
          missingReported.add(rule.name);
          log.warn('local EventBridge: no handler for this rule yet, its events are dropped', { rule: rule.name, module: rule.module });
        }
        continue;
      }
      const delivery = {
        rule: rule.name, eventId: event.id, detailType: event['detail-type'], resources: event.resources,
        ...(typeof event.detail.eventName === 'string' ? { eventName: event.detail.eventName } : {}),
      };
      // EventBridge retries a failed delivery; three attempts with backoff are enough locally
      for (let attempt = 1; attempt <= 3; attempt++) {
        try {
          const handler = await loadModuleHandler(file);
          const result = await handler(event, fakeLambdaContext(`fledge-local-${rule.name}`, region, ACCOUNT_ID, 60_000));
          log.debug('local EventBridge: delivered', { rule: rule.name, detailType: event['detail-type'], eventName: event.detail.eventName, result });
          deliveries.record({ ...delivery, at: new Date().toISOString(), result });
          break;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          log.warn('local EventBridge: delivery failed', { rule: rule.name, attempt, error: message });
          if (attempt < 3) await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
          else deliveries.record({ ...delivery, at: new Date().toISOString(), error: message });
        }
      }
    }
  });
}

// ------------------------------------------------------------------ restart: rebuild what AWS would still hold

const LIVE_WITH_RESOURCES = ['RUNNING', 'SCALING', 'SLEEPING', 'HEALING', 'DEGRADED', 'UPDATING'];

/**
 * The simulator is in memory, the table is not. After a restart with the same data
 * directory, the ECS/ELB resources a real account would still hold are rebuilt from the
 * recorded environments (running again on their recorded image), so the environments
 * answer again. Workflow executions are not persisted: an operation that was in flight is
 * reported, and a PUT (retry) or DELETE moves it on.
 */
async function rebuildSimulatedResources(simulator: Simulator, log: LocalLogger): Promise<void> {
  // every live environment (lists leave DELETED ones out)
  const live = await everyEnvironment({});
  if (live.length === 0) return;
  const { appliedResourcePlan } = await import('../../functions/commands/environment-queries.ts');
  let rebuilt = 0;
  for (const item of live) {
    const { name, status } = item;
    if (hasOperationInFlight(status)) {
      log.warn('restart: this environment had an operation in flight when local mode stopped; it is not resumed (PUT the spec again to retry, or DELETE it)', { environment: name, status });
    }
    if (!LIVE_WITH_RESOURCES.includes(status) || typeof item.listenerPriority !== 'number') continue;
    try {
      const plan = appliedResourcePlan(item, 'restart');
      const tags = [{ Key: 'fledge:environment', Value: name }, { Key: 'fledge:managed-by', Value: 'fledge' }];
      const td = (await simulator.call('ecs', 'RegisterTaskDefinition', {
        ...plan.taskDefinition,
        NetworkMode: 'awsvpc',
        RequiresCompatibilities: ['FARGATE'],
        Tags: tags,
      })) as { TaskDefinition: { TaskDefinitionArn: string } };
      const tg = (await simulator.call('elasticloadbalancingv2', 'CreateTargetGroup', {
        Name: plan.targetGroup.Name,
        Protocol: 'HTTP',
        Port: plan.targetGroup.Port,
        VpcId: simulator.config.vpcId,
        TargetType: 'ip',
        HealthCheckPath: plan.targetGroup.HealthCheckPath,
        HealthCheckIntervalSeconds: plan.targetGroup.HealthCheckIntervalSeconds,
        HealthCheckTimeoutSeconds: plan.targetGroup.HealthCheckTimeoutSeconds,
        HealthyThresholdCount: plan.targetGroup.HealthyThresholdCount,
        UnhealthyThresholdCount: plan.targetGroup.UnhealthyThresholdCount,
        Tags: tags,
      })) as { TargetGroups: { TargetGroupArn: string }[] };
      const targetGroupArn = tg.TargetGroups[0]!.TargetGroupArn;
      // records from before the pool have no shard: they are on s1
      const shardId = (item as { shard?: unknown }).shard ?? 's1';
      const shard = simulator.shards.find((s) => s.id === shardId);
      if (!shard) throw new Error(`its shard ${String(shardId)} is not in this pool of ${simulator.shards.length} (start with --shards ${simulator.shards.length + 1} or more)`);
      await simulator.call('elasticloadbalancingv2', 'CreateRule', {
        ListenerArn: shard.listenerArn,
        Priority: item.listenerPriority,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: plan.hostHeaders } }],
        Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
        Tags: tags,
      });
      await simulator.call('ecs', 'CreateService', {
        Cluster: simulator.clusterArn,
        ServiceName: name,
        TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
        DesiredCount: status === 'SLEEPING' ? 0 : plan.service.DesiredCount,
        LaunchType: 'FARGATE',
        NetworkConfiguration: plan.service.NetworkConfiguration,
        LoadBalancers: [{ TargetGroupArn: targetGroupArn, ContainerName: 'app', ContainerPort: plan.service.ContainerPort }],
        DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MaximumPercent: 200, MinimumHealthyPercent: 100 },
        Tags: tags.map(({ Key, Value }) => ({ Key, Value })),
        PropagateTags: 'SERVICE',
      });
      rebuilt += 1;
    } catch (error) {
      log.warn('restart: could not rebuild the simulated resources of an environment', { environment: name, error: String(error) });
    }
  }
  log.info('restart: simulated AWS resources rebuilt from the table', { environments: rebuilt, live: live.length });
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const startedAt = Date.now();
  const options = parseOptions(process.argv.slice(2));
  process.env.POWERTOOLS_SERVICE_NAME ??= 'fledge';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const logger = new Logger({ serviceName: 'fledge-local', logLevel: (process.env.FLEDGE_LOG_LEVEL ?? 'INFO') as 'INFO' });
  const log: LocalLogger = {
    debug: (m, f) => logger.debug(m, f ?? {}),
    info: (m, f) => logger.info(m, f ?? {}),
    warn: (m, f) => logger.warn(m, f ?? {}),
    error: (m, f) => logger.error(m, f ?? {}),
  };

  await reservePort(options.port, 'HTTP API');

  // fake credentials and region: nothing in local mode may reach a real AWS account
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'eu-west-1';
  Object.assign(process.env, {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;

  const tableName = process.env.FLEDGE_TABLE_NAME ?? 'fledge-local';
  // a fixed port lets a tool reach the table directly (the benchmark seeds records this way); default: a free one
  const dynamoPort = process.env.FLEDGE_DYNAMODB_LOCAL_PORT ? Number(process.env.FLEDGE_DYNAMODB_LOCAL_PORT) : undefined;
  if (dynamoPort !== undefined && !(Number.isInteger(dynamoPort) && dynamoPort >= 1 && dynamoPort <= 65535)) {
    throw new LocalStartupError(`FLEDGE_DYNAMODB_LOCAL_PORT must be a port number (1-65535), got "${process.env.FLEDGE_DYNAMODB_LOCAL_PORT}"`);
  }
  const dynamo = await startDynamoDbLocal({ tableName, inMemory: options.inMemory, dataDir: options.dataDir, logger: log, port: dynamoPort });
  const closers: (() => Promise<void> | void)[] = [() => dynamo.stop()];

  try {
    const fromEnv = simulatorOptionsFromEnv();
    const simulator = createSimulator({ ...fromEnv, shards: options.shards ?? fromEnv.shards, region, accountId: ACCOUNT_ID, logger: log });
    closers.unshift(() => simulator.stop());
    // FLEDGE_SIM_SEED replays a run's pseudo-random choices (hostile mode); FLEDGE_SIM_HOSTILE=1 is AWS at its worst
    log.info(`simulator: seed ${simulator.config.seed} (FLEDGE_SIM_SEED=${simulator.config.seed} replays this run)`, {
      hostile: simulator.hostile.enabled,
      drainMs: simulator.config.drainMs,
    });
    if (simulator.hostile.enabled) {
      log.warn(`simulator: HOSTILE mode is on (FLEDGE_SIM_HOSTILE=1, seed ${simulator.config.seed}): events are dropped, duplicated, delayed and reordered, reads lag, throttling is harsher; switch it with POST /_local/faults {"fault":"hostile","enabled":false}`);
    }

    const tasks = taskFunctions(region);
    // the waker: a Lambda target group on each simulated ALB, as on AWS (infra/local/scaling.ts)
    const waker = await createLocalWaker(simulator, region, ACCOUNT_ID);
    const pool = localPool(simulator, waker.targetGroupArns);
    log.info('simulator: pool of load balancers', { shards: pool.shards.map((s) => s.id), perEnvironmentDns: pool.hostedZoneId !== undefined, hostedZoneId: pool.hostedZoneId });
    if (simulator.shards.length > 1 && !pool.hostedZoneId) {
      log.warn('simulator: more than one load balancer but no simulated Route 53 zone: every name resolves to shard s1, so environments placed on other shards do not answer their pages');
    }
    tasks.set(waker.functionArn, { arn: waker.functionArn, file: waker.module, substitution: 'WakerFunctionArn' });
    // the names are functions/runtime/config.ts's (`satisfies` refuses one it does not declare)
    const baseEnv = {
      FLEDGE_LOCAL_MODE: 'true',
      // the simulated account: environments reference secrets of this account and region only (docs/security.md "Secrets")
      FLEDGE_ACCOUNT_ID: ACCOUNT_ID,
      // scopes target group and alarm names (functions/domain/resource-names.ts); checked by runtimeConfig()
      FLEDGE_INSTALLATION_ID: process.env.FLEDGE_INSTALLATION_ID?.trim() || 'local',
      TABLE_NAME: tableName,
      FLEDGE_DYNAMODB_ENDPOINT: dynamo.endpoint,
      FLEDGE_BASE_DOMAIN: `localhost:${options.port}`,
      FLEDGE_URL_SCHEME: 'http',
      FLEDGE_CLUSTER_ARN: simulator.clusterArn,
      FLEDGE_LISTENER_ARN: simulator.listenerArn,
      // the one shard while FLEDGE_SHARDS is unset: its waker (functions/domain/shards.ts shardFromListener)
      FLEDGE_WAKER_TARGET_GROUP_ARN: waker.targetGroupArn,
      FLEDGE_VPC_ID: simulator.config.vpcId,
      FLEDGE_SUBNET_IDS: 'subnet-0fledgelocal0001,subnet-0fledgelocal0002',
      FLEDGE_SECURITY_GROUP_IDS: 'sg-0fledgelocal000001',
      FLEDGE_EXECUTION_ROLE_ARN: `arn:aws:iam::${ACCOUNT_ID}:role/fledge-local-task-execution`,
      FLEDGE_TASK_ROLE_ARN: `arn:aws:iam::${ACCOUNT_ID}:role/fledge-local-task`,
      FLEDGE_LOG_GROUP: '/fledge/local/environments',
      FLEDGE_ASSIGN_PUBLIC_IP: 'DISABLED',
    } satisfies LambdaEnvironment;
    for (const [key, value] of Object.entries(baseEnv)) process.env[key] = value;
    // the pool (FLEDGE_SHARDS and FLEDGE_HOSTED_ZONE_ID, declared in functions/runtime/config.ts)
    process.env.FLEDGE_SHARDS = JSON.stringify(pool.shards);
    if (pool.hostedZoneId) process.env.FLEDGE_HOSTED_ZONE_ID = pool.hostedZoneId;
    else delete process.env.FLEDGE_HOSTED_ZONE_ID;
    // operator settings keep their AWS defaults unless set (the same defaults locally as on AWS)
    process.env.FLEDGE_HEAL_MAX_PER_HOUR ??= '3';
    // the global quota follows the pool's capacity, as the stack sets it from maxEnvironments
    if (pool.shards.length > 1) process.env.FLEDGE_QUOTA_GLOBAL ??= String(poolCapacity(pool.shards.length));
    // locally the heal backoff starts at 5 s (30 s on AWS)
    process.env.FLEDGE_HEAL_BACKOFF ??= '5s';

    const substitutions: Record<string, string> = {
      TableName: tableName,
      ClusterArn: simulator.clusterArn,
      ListenerArn: simulator.listenerArn,
      VpcId: simulator.config.vpcId,
      WakerTargetGroupArn: waker.targetGroupArn,
      // the heal workflow's DEGRADED notifications: recorded by the simulated SNS (GET /_local/resources)
      NotificationTopicArn: `arn:aws:sns:${region}:${ACCOUNT_ID}:fledge-local-environment-notifications`,
    };
    for (const task of tasks.values()) substitutions[task.substitution] = task.arn;
    for (const name of substitutionsUsed()) {
      if (!(name in substitutions)) {
        const kebab = name.replace(/FunctionArn$/, '').replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
        substitutions[name] = `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:fledge-local-${kebab}`;
        log.warn('a state machine refers to a function that does not exist yet', { substitution: name, expected: `functions/tasks/${kebab}.ts` });
      }
    }

    const invokeLambda = async (functionArn: string, payload: unknown): Promise<unknown> => {
      const task = tasks.get(functionArn);
      if (!task) {
        const error = new Error(`Function not found: ${functionArn}`);
        error.name = 'ResourceNotFoundException';
        throw error;
      }
      const handler = await loadModuleHandler(task.file);
      return handler(payload, fakeLambdaContext(functionArn.split(':').at(-1)!, region, ACCOUNT_ID, 900_000));
    };

    // The steady-state waits poll the service every TimeoutSeconds (30 s on AWS) when no ECS
    // event answers them first; locally tasks start in seconds, so they poll sooner.
    const steadyPollSeconds = parseInterval(process.env.FLEDGE_STEADY_STATE_POLL, 2_000, 'FLEDGE_STEADY_STATE_POLL') / 1000;
    const runner = createWorkflowRunner({
      substitutions,
      callAws: (service, action, params) => simulator.call(service, action, params),
      invokeLambda,
      logger: log,
      region,
      accountId: ACCOUNT_ID,
      timeoutOverrides: Object.fromEntries(STEADY_STATE_WAITS.map((state) => [state, steadyPollSeconds])),
    });
    closers.unshift(() => runner.close());
    for (const kind of STARTED_WORKFLOW_KINDS) process.env[arnVariable(kind)] = runner.stateMachineArn(kind);
    // one cleanup run at a time: a tick while the previous run still goes is skipped
    let cleanupRun: Promise<unknown> | undefined;
    const runCleanup = () => {
      if (cleanupRun) return log.debug('cleanup schedule: the previous run is still going; tick skipped');
      const name = `cleanup-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      cleanupRun = runner
        .startExecution('cleanup', name, {})
        .then((started) => runner.waitForExecution(started.executionArn))
        .catch((error: unknown) => log.warn('cleanup schedule: the run could not start', { error: String(error) }))
        .finally(() => (cleanupRun = undefined));
    };
    const listExecutions = () =>
      runner.listExecutions().map((e) => ({
        name: e.name, kind: e.kind, status: e.status, startDate: e.startDate.toISOString(),
        stopDate: e.stopDate?.toISOString() ?? null, stateTransitions: e.stateTransitions, error: e.error ?? null, cause: e.cause ?? null,
        statesEntered: e.statesEntered, retries: e.retries,
      }));

    resetClients();
    useClients({
      ecs: simulator.client('ecs'),
      elbv2: simulator.client('elasticloadbalancingv2'),
      cloudwatch: simulator.client('cloudwatch'),
      logs: simulator.client('logs'),
      route53: simulator.client('route53'),
      sfn: runner.sfnClient,
    });
    // the pool of load balancers from the table, as on AWS (FLEDGE_SHARD_POOL=table)
    const shards = await publishShardPool();
    log.info(`shard pool: ${shards.map((shard) => shard.id).join(', ')} in the table (item POOL#shards/POOL)`);

    // which rule carried each event to which handler, and its answer (GET /_local/deliveries)
    const deliveries = new DeliveryLog();
    startEventBus(simulator, log, region, deliveries);
    // idle sleep (EventBridge Scheduler on AWS): only when FLEDGE_IDLE_SLEEP_AFTER is set
    const idleSleep = startIdleSleepSchedule(
      async () => (await loadModuleHandler(IDLE_SLEEP_MODULE))({}, fakeLambdaContext('fledge-local-idle-sleep', region, ACCOUNT_ID, 60_000)),
      log,
    );
    if (idleSleep) closers.unshift(() => idleSleep.stop());
    if (!options.inMemory) await rebuildSimulatedResources(simulator, log);

    // the cleanup schedule (EventBridge Scheduler on AWS)
    const cleanupEveryMs = parseInterval(process.env.FLEDGE_CLEANUP_INTERVAL, 30_000, 'FLEDGE_CLEANUP_INTERVAL');
    const cleanupTimer = setInterval(() => runCleanup(), cleanupEveryMs);
    cleanupTimer.unref();
    closers.unshift(() => clearInterval(cleanupTimer));

    // --auth oidc: a local issuer (keys made now, JWKS on loopback); otherwise every caller is the operator `local`
    let issuer: LocalIssuer | undefined;
    if (options.auth === 'oidc') {
      const audiences = (process.env.FLEDGE_OIDC_AUDIENCES ?? DEFAULT_LOCAL_AUDIENCE).split(',').map((a) => a.trim()).filter(Boolean);
      issuer = await createLocalIssuer({ issuer: `http://127.0.0.1:${options.port}/_local/issuer`, audiences });
      process.env.FLEDGE_LOCAL_AUTH = 'oidc';
      // operator tokens ({"operator": true}) are operators through the same setting as on AWS
      process.env.FLEDGE_OPERATORS ??= LOCAL_OPERATOR_SUBJECT;
      if (!process.env.FLEDGE_OPERATORS.split(',').some((p) => p.trim() === LOCAL_OPERATOR_SUBJECT)) {
        log.warn(`FLEDGE_OPERATORS does not name ${LOCAL_OPERATOR_SUBJECT}: tokens from POST /_local/token {"operator": true} are refused (403)`);
      }
      log.info('auth: OIDC tokens required on /v1 (checked as API Gateway\'s JWT authorizer does); /_local/* stays open', {
        issuer: issuer.issuer, audiences, jwks: `http://127.0.0.1:${options.port}/_local/jwks.json`, operators: process.env.FLEDGE_OPERATORS,
        // as on AWS, only these owners' tokens are let in (functions/runtime/config.ts); unset: any owner (the issuer is ours)
        repositoryOwners: process.env.FLEDGE_OIDC_OWNERS?.trim() ? process.env.FLEDGE_OIDC_OWNERS : 'any (FLEDGE_OIDC_OWNERS not set)',
        // tokens of these GitHub events are refused, as on AWS (unset: the default list)
        refusedEvents: process.env.FLEDGE_OIDC_REFUSED_EVENTS?.trim() ? process.env.FLEDGE_OIDC_REFUSED_EVENTS : `${DEFAULT_OIDC_REFUSED_EVENTS.join(',')} (default)`,
      });
    } else {
      delete process.env.FLEDGE_LOCAL_AUTH;
      log.warn('auth: OFF. The API is open to anything that reaches 127.0.0.1; every caller is the operator "local". Start with --auth oidc to require tokens.');
    }

    const front = await startHttpFront({
      issuer,
      port: options.port,
      simulator,
      logger: log,
      region,
      accountId: ACCOUNT_ID,
      readEnvironment: async (name) => (await getEnvironment(name)) as Record<string, unknown> | undefined,
      invokeLambda,
      wakerFunctionArn: waker.functionArn,
      listExecutions,
      listDeliveries: () => deliveries.list(),
      shardSlots: () => shardSlotsUsed(tableName, simulator.shards.map((s) => s.id)),
    });
    closers.unshift(() => front.close());

    const url = `http://localhost:${options.port}`;
    log.info('Fledge local mode is ready', { url, dataDir: dynamo.dataDir ?? 'in memory', dynamodb: dynamo.endpoint, startupMs: Date.now() - startedAt });
    process.stdout.write(
      [
        '',
        `  Fledge (local mode) is listening on ${url}  (127.0.0.1 only)`,
        `  data: ${dynamo.dataDir ?? 'in memory (--in-memory): nothing is kept'}`,
        `  resources: ${url}/_local/resources`,
        issuer
          ? `  auth: OIDC tokens required; get one with  curl -sS -X POST ${url}/_local/token -H 'content-type: application/json' -d '{"repository":"acme/web"}'`
          : '  auth: OFF (open API; every caller is the operator "local"); --auth oidc requires tokens',
        '',
        '  Create an environment:',
        `    curl -sS -X PUT ${url}/v1/environments/hello -H 'content-type: application/json' -d '{"image":"nginx:1.27","port":80}'`,
        `  then open http://hello.localhost:${options.port}/`,
        '',
      ].join('\n') + '\n',
    );
  } catch (error) {
    await shutdown(closers, log, 1, error);
    return;
  }

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn('second signal: exiting at once', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('shutting down', { signal });
    void shutdown(closers, log, 0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function shutdown(closers: (() => Promise<void> | void)[], log: LocalLogger, code: number, cause?: unknown): Promise<void> {
  if (cause) reportFailure(cause, log);
  for (const close of closers) {
    try {
      await close();
    } catch (error) {
      log.warn('shutdown step failed', { error: String(error) });
    }
  }
  process.exit(code);
}

function reportFailure(error: unknown, log?: LocalLogger): void {
  if (error instanceof LocalStartupError) {
    process.stderr.write(`fledge: ${error.message}\n`);
  } else if (log) {
    log.error('local mode failed to start', { error: error instanceof Error ? error.stack : String(error) });
  } else {
    process.stderr.write(`fledge: ${error instanceof Error ? error.stack : String(error)}\n`);
  }
}

main().catch((error: unknown) => {
  reportFailure(error);
  process.exit(1);
});
