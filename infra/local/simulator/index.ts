/**
 * The simulated AWS of local mode: ECS (Fargate), ELBv2, CloudWatch alarms, Application
 * Auto Scaling, SNS, CloudWatch Logs (what the tasks write), Route 53 (one hosted zone) and the
 * EventBridge events they emit, behind two doors:
 *  - `call(service, action, input)`: Step Functions aws-sdk integration style (service
 *    names as in `arn:aws:states:::aws-sdk:<service>:<action>`, PascalCase in and out);
 *  - `client(service).send(command)`: an SDK v3 client stand-in (`useClients`), dispatching
 *    on `command.constructor.name` with `command.input`, SDK v3 shapes in and out.
 * Both validate against AWS's service models, meter calls with AWS-like token buckets and
 * throw errors shaped like the SDK's.
 */
import { systemClock, type Clock } from './clock.ts';
import { randomInt } from 'node:crypto';
import { awsError, throttlingErrors, type SimService, type SimulatedAwsError, type ThrottledCall } from './errors.ts';
import { seededRandom, silentLogger, uuid, ENV_TAG, type HostileRates, type HostileState, type SimConfig, type SimContext, type SimEvent, type SimLogger } from './context.ts';
import { normalizeInput, toSfnOutput, type NameStyle } from './model.ts';
import { RateLimiter, AWS_RATE_LIMITS, type RateLimitTable } from './rate-limits.ts';
import { EcsSimulator, type ServiceRecord, type TaskRecord } from './ecs.ts';
import { ElbSimulator, forwardTargets, type LoadBalancerRecord } from './elbv2.ts';
import { CloudWatchSimulator } from './cloudwatch.ts';
import { AutoScalingSimulator } from './autoscaling.ts';
import { SnsSimulator } from './sns.ts';
import { LogsSimulator } from './logs.ts';
import { Route53Simulator } from './route53.ts';
import { FaultState, FaultTargetNotFound, InvalidFaultRequest, type FaultRequest, type FaultResult } from './faults.ts';

export { ManualClock, systemClock, type Clock } from './clock.ts';
export { SimulatedAwsError, awsError, throttlingError } from './errors.ts';
export { FaultTargetNotFound, InvalidFaultRequest, parseFaultRequest, FAULTS, type FaultRequest, type FaultResult } from './faults.ts';
export type { SimEvent, SimLogger, SimConfig, HostileRates } from './context.ts';
export { AWS_RATE_LIMITS, type RateLimitTable } from './rate-limits.ts';

export const SIM_SERVICES: readonly SimService[] = ['ecs', 'elasticloadbalancingv2', 'cloudwatch', 'applicationautoscaling', 'sns', 'logs', 'route53'];

const SERVICE_ALIASES: Record<string, SimService> = {
  ecs: 'ecs',
  elasticloadbalancingv2: 'elasticloadbalancingv2',
  elbv2: 'elasticloadbalancingv2',
  elasticloadbalancing: 'elasticloadbalancingv2',
  cloudwatch: 'cloudwatch',
  monitoring: 'cloudwatch',
  applicationautoscaling: 'applicationautoscaling',
  'application-autoscaling': 'applicationautoscaling',
  sns: 'sns',
  logs: 'logs',
  cloudwatchlogs: 'logs',
  'cloudwatch-logs': 'logs',
  route53: 'route53',
  'route-53': 'route53',
};

export interface SimulatorOptions extends Partial<SimConfig> {
  clock?: Clock;
  logger?: SimLogger;
  /** token buckets per action; `false` switches throttling off (unit tests) */
  rateLimits?: RateLimitTable | false;
  /** AWS at its worst from the start (FLEDGE_SIM_HOSTILE=1); the `hostile` fault switches it at run time */
  hostile?: boolean;
  /** override hostile mode's rates and times (tests) */
  hostileRates?: Partial<HostileRates>;
  /** the name of the simulated Route 53 hosted zone (the installation's base domain; default `localhost`) */
  hostedZoneName?: string;
  /** how many Application Load Balancers the pool has (FLEDGE_SIM_SHARDS; default 1): `<loadBalancerName>-s1`, ... */
  shards?: number;
}

/** One simulated load balancer as Fledge's configuration names a shard (functions/domain/shards.ts), less its waker. */
export interface SimShard {
  id: string;
  name: string;
  loadBalancerArn: string;
  listenerArn: string;
  /** the `LoadBalancer` CloudWatch dimension: app/<name>/<id> */
  loadBalancerDimension: string;
  dnsName: string;
  canonicalHostedZoneId: string;
}

/**
 * The simulated DNS the pages resolve through (the Route 53 simulator's hosted zone):
 * `resolveHost` answers the DNS name an alias record of this host names (the Host header as
 * sent, `<name>.localhost:<port>`), or undefined when the zone has no record for it.
 */
export interface SimulatedDns {
  hostedZoneId: string;
  resolveHost(hostname: string): string | undefined;
}

/** AWS's own limits, against which raised FLEDGE_SIM_MAX_* settings are reported at startup. */
export const AWS_ELB_LIMITS = {
  // Elastic Load Balancing User Guide for Application Load Balancers, "Quotas for your Application Load Balancers"
  targetGroupsPerLoadBalancer: 100, // not adjustable
  targetGroupsPerRegion: 3000,
  rulesPerLoadBalancer: 100, // excluding default rules; adjustable
  targetsPerLoadBalancer: 1000, // adjustable
  loadBalancersPerRegion: 50, // adjustable
} as const;

/** Reads/actions whose answers lag the mutations in hostile mode (eventual consistency). */
const STALE_READS: Partial<Record<SimService, readonly string[]>> = {
  ecs: ['DescribeServices', 'DescribeTasks', 'ListTasks'],
  elasticloadbalancingv2: ['DescribeTargetHealth'],
};

const isRead = (action: string) => /^(Describe|List|Get)/.test(action);

/** Configuration from FLEDGE_SIM_* variables (documented in infra/local/README.md). */
/**
 * The error codes the AWS SDK for JavaScript v3 retries as throttling in its default
 * ("standard") retry mode (@smithy/service-error-classification THROTTLING_ERROR_CODES); ECS's
 * ClientException and App Auto Scaling's ConcurrentUpdateException are not among them.
 */
const SDK_THROTTLING_CODES = new Set([
  'BandwidthLimitExceeded', 'EC2ThrottledException', 'LimitExceededException', 'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException',
  'SlowDown', 'ThrottledException', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'TransactionInProgressException',
]);

/**
 * A call as an AWS SDK v3 client (or the AWS CLI v2) makes it: the standard retry mode tries a
 * throttled request 3 times in all, waiting a random 0..min(20 s, 100 ms x 2^attempt) between
 * tries ("Retry behavior", AWS SDKs and Tools Reference Guide). Step Functions' own aws-sdk
 * integrations do not retry: their Retry blocks do.
 */
export async function withSdkRetries<T>(call: () => Promise<T>, maxAttempts = 3): Promise<{ result: T; attempts: number; totalRetryDelay: number }> {
  let totalRetryDelay = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return { result: await call(), attempts: attempt, totalRetryDelay };
    } catch (error) {
      const code = (error as { Code?: string }).Code ?? (error as Error).name;
      if (attempt >= maxAttempts || !(SDK_THROTTLING_CODES.has(code) || SDK_THROTTLING_CODES.has((error as Error).name))) throw error;
      const delay = Math.floor(Math.random() * Math.min(20_000, 100 * 2 ** attempt));
      totalRetryDelay += delay;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export function simulatorOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SimulatorOptions {
  const num = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
    return value;
  };
  const hostile = env.FLEDGE_SIM_HOSTILE;
  if (hostile !== undefined && !['', '0', '1', 'true', 'false', 'on', 'off'].includes(hostile)) {
    throw new Error(`FLEDGE_SIM_HOSTILE must be 1 or 0, got "${hostile}"`);
  }
  const seed = num('FLEDGE_SIM_SEED');
  // e.g. '{"eventDropRate":1,"eventDuplicateRate":0}': the benchmark loses every ECS event this way
  let hostileRates: Partial<HostileRates> | undefined;
  if (env.FLEDGE_SIM_HOSTILE_RATES) {
    const known = ['eventDropRate', 'eventDuplicateRate', 'eventMaxDelayMs', 'staleReadMs', 'steadyStateEveryMs', 'throttleRate'];
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.FLEDGE_SIM_HOSTILE_RATES);
    } catch {
      parsed = undefined;
    }
    const entries = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.entries(parsed) : undefined;
    if (!entries || entries.some(([key, value]) => !known.includes(key) || typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new Error(`FLEDGE_SIM_HOSTILE_RATES must be a JSON object of non-negative numbers with keys among ${known.join(', ')}`);
    }
    hostileRates = Object.fromEntries(entries) as Partial<HostileRates>;
  }
  if (seed !== undefined && (!Number.isInteger(seed) || seed > 0xffffffff)) throw new Error(`FLEDGE_SIM_SEED must be an integer 0..4294967295, got "${env.FLEDGE_SIM_SEED}"`);
  const shards = num('FLEDGE_SIM_SHARDS');
  if (shards !== undefined) checkShardCount(shards, 'FLEDGE_SIM_SHARDS');
  return {
    hostile: hostile === undefined || hostile === '' ? undefined : ['1', 'true', 'on'].includes(hostile),
    seed,
    ...(hostileRates ? { hostileRates } : {}),
    drainMs: num('FLEDGE_SIM_DRAIN_MS'),
    maxTargetGroupsPerRegion: num('FLEDGE_SIM_MAX_TARGET_GROUPS_PER_REGION'),
    taskStartMs: num('FLEDGE_SIM_TASK_START_MS'),
    taskStopMs: num('FLEDGE_SIM_TASK_STOP_MS'),
    healthCheckIntervalMs: num('FLEDGE_SIM_HEALTH_CHECK_INTERVAL_MS'),
    alarmPeriodMs: num('FLEDGE_SIM_ALARM_PERIOD_MS'),
    stoppedTaskRetentionMs: num('FLEDGE_SIM_STOPPED_TASK_RETENTION_MS'),
    // AWS: 100 target groups per ALB (not adjustable), 100 rules per ALB (adjustable); the benchmark raises them
    maxTargetGroups: num('FLEDGE_SIM_MAX_TARGET_GROUPS'),
    maxRules: num('FLEDGE_SIM_MAX_RULES'),
    // AWS: 1,000 targets per ALB (adjustable on request)
    maxTargetsPerLoadBalancer: num('FLEDGE_SIM_MAX_TARGETS'),
    rateLimits: env.FLEDGE_SIM_RATE_LIMITS === 'off' ? false : undefined,
    region: env.AWS_REGION,
    shards,
  };
}

/** A pool of 1 to 50 load balancers: AWS's default quota of Application Load Balancers per Region. */
export function checkShardCount(shards: number, name: string): void {
  if (!Number.isInteger(shards) || shards < 1 || shards > AWS_ELB_LIMITS.loadBalancersPerRegion) {
    throw new Error(`${name} must be a whole number of load balancers from 1 to ${AWS_ELB_LIMITS.loadBalancersPerRegion} (AWS's default quota of Application Load Balancers per Region), got "${shards}"`);
  }
}

export interface PageData {
  host: string;
  /** the shard whose load balancer answered (none when the name's alias points at no load balancer) */
  shard?: string;
  /** the DNS name the zone's alias record named, when it is no load balancer of the pool */
  aliasTarget?: string;
  /** the listener rule the ALB picked (undefined: the default rule, i.e. no environment here) */
  rule?: { arn: string; priority: number };
  environment?: string;
  /**
   * ALB-like outcome: a task answers, no target at all (503), a Lambda target, the default 404,
   * or the name's alias record points at no load balancer of the pool (nothing answers)
   */
  outcome: 'task' | 'no-targets' | 'lambda' | 'fixed-response' | 'no-load-balancer';
  lambdaFunctionArn?: string;
  targetGroup?: { arn: string; name: string; healthy: number; total: number };
  service?: { name: string; status: string; desiredCount: number; runningCount: number; pendingCount: number; image?: string; taskDefinition: string };
  task?: { id: string; image: string; ip: string; startedAt?: string; sidecars?: SidecarView[] };
}

/** A sidecar of a simulated task as `GET /_local/resources` and the environment's page show it. */
export interface SidecarView {
  name: string;
  image: string;
  essential: boolean;
  lastStatus: string;
  exitCode?: number;
}

export interface Simulator {
  readonly config: SimConfig;
  readonly clusterArn: string;
  /** shard s1's load balancer and listener (the one ALB of a one-shard pool) */
  readonly loadBalancerArn: string;
  readonly listenerArn: string;
  /** the simulated Route 53 hosted zone (FLEDGE_HOSTED_ZONE_ID when per-environment DNS is on) */
  readonly hostedZoneId: string;
  /** the alias target DNS name of the zone's A record for `hostname`, or undefined */
  resolveHost(hostname: string): string | undefined;
  /** the pool of load balancers, s1 first */
  readonly shards: readonly SimShard[];
  /** the DNS pages resolve through (the simulated Route 53 zone); none: every host goes to shard s1 */
  readonly dns: SimulatedDns | undefined;
  useDns(dns: SimulatedDns): void;
  call(service: string, action: string, input?: unknown): Promise<unknown>;
  client(service: string): { send(command: { input?: unknown; constructor: { name: string } }): Promise<any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  onEvent(listener: (event: SimEvent) => void | Promise<void>): () => void;
  injectFault(request: FaultRequest): FaultResult;
  resources(): ResourceSnapshot;
  servePage(host: string): PageData;
  /** hostile mode: whether it is on, its rates (read-only here; switch it with setHostile or the `hostile` fault) */
  readonly hostile: Readonly<HostileState>;
  setHostile(enabled: boolean): void;
  stop(): void;
  /** internals, for tests and the HTTP front */
  readonly internals: { ecs: EcsSimulator; elb: ElbSimulator; cloudwatch: CloudWatchSimulator; autoscaling: AutoScalingSimulator; sns: SnsSimulator; logs: LogsSimulator; route53: Route53Simulator; faults: FaultState };
}

export interface ResourceSnapshot {
  services: {
    name: string;
    arn: string;
    environment: string;
    status: string;
    desiredCount: number;
    runningCount: number;
    pendingCount: number;
    taskDefinition: string;
    image?: string;
    deployments: { id: string; status: string; rolloutState: string; taskDefinition: string; desiredCount: number; failedTasks: number }[];
    tasks: { arn: string; lastStatus: string; desiredStatus: string; image: string; ip: string; targetHealth?: string; stoppedReason?: string; sidecars: SidecarView[] }[];
    tags: Record<string, string>;
  }[];
  taskDefinitions: { arn: string; family: string; revision: number; status: string; image?: string; environment?: string; tags: Record<string, string> }[];
  targetGroups: {
    name: string; arn: string; environment?: string; port?: number;
    /** the shard whose rules forward to it (none: attached to no load balancer) */
    shard?: string;
    /** the health check ELB runs (what CreateTargetGroup / ModifyTargetGroup set) */
    healthCheck: { path: string; intervalSeconds: number; timeoutSeconds: number; healthyThreshold: number; unhealthyThreshold: number };
    targets: { id: string; port: number; state: string }[]; tags: Record<string, string>;
  }[];
  listenerRules: { arn: string; shard: string; priority: number; hosts: string[]; targetGroupArns: string[]; environment?: string; tags: Record<string, string> }[];
  /** the pool's load balancers: how many rules (besides the default) and unique target groups each uses, of AWS's 100 */
  shards: (SimShard & { rules: number; targetGroups: number; /** registered targets, of AWS's 1,000 */ targets: number; tags: Record<string, string>; /** slots claimed in the table (local mode adds it) */ used?: number })[];
  alarms: { name: string; arn: string; state: string; metric?: string; environment?: string; tags: Record<string, string> }[];
  scalableTargets: { resourceId: string; arn: string; minCapacity: number; maxCapacity: number; environment?: string; policies: string[]; tags: Record<string, string> }[];
  faults: { throttledCallsRemaining: number; hostile: boolean; environments: Record<string, { crashloopImages: string[]; unhealthy: boolean }> };
  /** SNS messages published (the heal's DEGRADED notifications), oldest first */
  notifications: { topicArn: string; messageId: string; subject?: string; message: string; at: string }[];
  /** the alias A records of the simulated hosted zone (per-environment DNS) */
  dnsRecords: { name: string; type: string; target: string; targetHostedZoneId: string }[];
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const clock = options.clock ?? systemClock();
  const log = options.logger ?? silentLogger;
  const taskStartMs = options.taskStartMs ?? 1500;
  const taskStopMs = options.taskStopMs ?? Math.max(1, Math.round(taskStartMs / 3));
  const maxTargetGroups = options.maxTargetGroups ?? AWS_ELB_LIMITS.targetGroupsPerLoadBalancer;
  const config: SimConfig = {
    region: options.region ?? 'eu-west-1',
    accountId: options.accountId ?? '000000000000',
    clusterName: options.clusterName ?? 'fledge-local',
    loadBalancerName: options.loadBalancerName ?? 'fledge-local',
    vpcId: options.vpcId ?? 'vpc-0fledge0local0000',
    taskStartMs,
    taskStopMs,
    healthCheckIntervalMs: options.healthCheckIntervalMs ?? Math.max(50, Math.round(taskStartMs / 3)),
    alarmPeriodMs: options.alarmPeriodMs ?? 1000,
    stoppedTaskRetentionMs: options.stoppedTaskRetentionMs ?? 3_600_000,
    inactiveServiceRetentionMs: options.inactiveServiceRetentionMs ?? 3_600_000,
    // ECS keeps a deleted service DRAINING until its tasks stopped; never shorter than one task start here
    drainMs: options.drainMs ?? Math.max(taskStartMs * 2, taskStopMs),
    maxTargetGroups,
    maxTargetGroupsPerRegion: options.maxTargetGroupsPerRegion ?? Math.max(AWS_ELB_LIMITS.targetGroupsPerRegion, maxTargetGroups),
    maxRules: options.maxRules ?? AWS_ELB_LIMITS.rulesPerLoadBalancer,
    maxTargetsPerLoadBalancer: options.maxTargetsPerLoadBalancer ?? AWS_ELB_LIMITS.targetsPerLoadBalancer,
    maxLoadBalancersPerRegion: options.maxLoadBalancersPerRegion ?? AWS_ELB_LIMITS.loadBalancersPerRegion,
    seed: options.seed ?? randomInt(0, 0xffffffff),
  };
  if (config.maxTargetGroups > AWS_ELB_LIMITS.targetGroupsPerLoadBalancer) {
    log.warn(
      `simulator: FLEDGE_SIM_MAX_TARGET_GROUPS=${config.maxTargetGroups} is above AWS's limit of ${AWS_ELB_LIMITS.targetGroupsPerLoadBalancer} target groups per Application Load Balancer, which cannot be raised: AWS would refuse the ${AWS_ELB_LIMITS.targetGroupsPerLoadBalancer + 1}th (TooManyUniqueTargetGroupsPerLoadBalancer)`,
    );
  }
  if (config.maxTargetGroupsPerRegion > AWS_ELB_LIMITS.targetGroupsPerRegion) {
    log.warn(`simulator: ${config.maxTargetGroupsPerRegion} target groups per region allowed; AWS's default quota is ${AWS_ELB_LIMITS.targetGroupsPerRegion} (adjustable on request)`);
  }
  if (config.maxRules > AWS_ELB_LIMITS.rulesPerLoadBalancer) {
    log.warn(`simulator: FLEDGE_SIM_MAX_RULES=${config.maxRules} is above AWS's default quota of ${AWS_ELB_LIMITS.rulesPerLoadBalancer} rules per Application Load Balancer (adjustable only on request)`);
  }
  if (config.maxTargetsPerLoadBalancer > AWS_ELB_LIMITS.targetsPerLoadBalancer) {
    log.warn(`simulator: FLEDGE_SIM_MAX_TARGETS=${config.maxTargetsPerLoadBalancer} is above AWS's default quota of ${AWS_ELB_LIMITS.targetsPerLoadBalancer} targets per Application Load Balancer (adjustable only on request)`);
  }
  const hostile: HostileState = {
    enabled: options.hostile ?? false,
    rates: {
      eventDropRate: 0.15,
      eventDuplicateRate: 0.15,
      eventMaxDelayMs: Math.min(1500, taskStartMs),
      staleReadMs: Math.min(1000, Math.round((taskStartMs * 2) / 3)),
      steadyStateEveryMs: Math.max(100, taskStartMs * 2),
      throttleRate: 0.02,
      ...options.hostileRates,
    },
  };
  const random = seededRandom(config.seed);
  const listeners = new Set<(event: SimEvent) => void | Promise<void>>();
  const ctx: SimContext = {
    config,
    clock,
    log,
    hostile,
    random,
    stopped: false,
    isoNow: () => new Date(clock.now()).toISOString(),
    arn: (service, resource) => {
      if (service === 'cloudwatch') return `arn:aws:cloudwatch:${config.region}:${config.accountId}:${resource}`;
      if (service === 'application-autoscaling') return `arn:aws:application-autoscaling:${config.region}:${config.accountId}:${resource}`;
      return `arn:aws:${service}:${config.region}:${config.accountId}:${resource}`;
    },
    emit(detailType, source, resources, detail) {
      const event: SimEvent = {
        version: '0',
        id: uuid(),
        'detail-type': detailType,
        source,
        account: config.accountId,
        time: new Date(clock.now()).toISOString(),
        region: config.region,
        resources,
        detail,
      };
      log.debug('simulator: event', { detailType, resources, eventName: detail.eventName, lastStatus: detail.lastStatus });
      const deliver = () => {
        if (ctx.stopped) return;
        for (const listener of listeners) {
          Promise.resolve()
            .then(() => listener(event))
            .catch((error: unknown) => log.error('simulator: event listener failed', { detailType, error: String(error) }));
        }
      };
      if (!hostile.enabled) {
        setImmediate(deliver);
        return;
      }
      // EventBridge delivers at least once, in no particular order, and a rule can miss events
      // (Amazon EventBridge User Guide, "Event retry policy and using dead-letter queues";
      // Amazon ECS Developer Guide, "Amazon ECS events": "events ... might be delivered more than once ... not in order")
      const { eventDropRate, eventDuplicateRate, eventMaxDelayMs } = hostile.rates;
      if (random() < eventDropRate) {
        log.debug('simulator: hostile: event dropped', { detailType, eventName: detail.eventName });
        return;
      }
      const copies = random() < eventDuplicateRate ? 2 : 1;
      for (let i = 0; i < copies; i++) clock.setTimer(Math.round(random() * eventMaxDelayMs), deliver);
    },
  };

  const faults = new FaultState();
  const ecs = new EcsSimulator(ctx);
  const elb = new ElbSimulator(ctx);
  const shardCount = options.shards ?? 1;
  checkShardCount(shardCount, 'shards');
  // shard ids s1, s2, ... in creation order, as the stack names them
  const shardIds = new Map<string, string>();
  for (let i = 1; i <= shardCount; i++) shardIds.set(elb.createLoadBalancer(`${config.loadBalancerName}-s${i}`).arn, `s${i}`);
  const shardOf = (lb: LoadBalancerRecord): SimShard => ({
    id: shardIds.get(lb.arn) ?? lb.name,
    name: lb.name,
    loadBalancerArn: lb.arn,
    listenerArn: lb.listenerArn,
    loadBalancerDimension: lb.dimension,
    dnsName: lb.dnsName,
    canonicalHostedZoneId: lb.canonicalHostedZoneId,
  });
  let dns: SimulatedDns | undefined;
  const cloudwatch = new CloudWatchSimulator(ctx);
  const autoscaling = new AutoScalingSimulator(ctx);
  const sns = new SnsSimulator(ctx);
  const logs = new LogsSimulator(ctx);
  const route53 = new Route53Simulator(ctx, options.hostedZoneName ?? 'localhost');
  // pages resolve through the simulated zone: an alias record names its ALB, no record is the wildcard (s1)
  dns = { hostedZoneId: route53.hostedZoneId, resolveHost: (hostname) => route53.resolveHost(hostname) };
  ecs.lb = elb;
  ecs.faults = faults;
  ecs.logs = logs;
  elb.onTargetHealth = (tg, ip, state) => ecs.onTargetHealth(tg, ip, state);
  elb.probe = (ip) => ecs.probe(ip);
  const serviceByResource = (cluster: string, name: string): ServiceRecord | undefined => {
    if (cluster !== config.clusterName) return undefined;
    const service = ecs.services.get(name);
    return service && service.status === 'ACTIVE' ? service : undefined;
  };
  autoscaling.capacity = {
    exists: (cluster, name) => Boolean(serviceByResource(cluster, name)),
    desiredCount: (cluster, name) => serviceByResource(cluster, name)?.desiredCount,
    setDesiredCount: (cluster, name, count) => {
      const service = serviceByResource(cluster, name);
      if (service) ecs.driftDesiredCount(service, count);
    },
  };
  cloudwatch.metrics = (namespace, metric, dims) => metricValue(namespace, metric, dims);
  // ALB RequestCount per target group: every request the simulated ALB routes to one (servePage)
  const requestLog = new Map<string, number[]>();
  const REQUEST_LOG_MS = 86_400_000;
  const recordRequest = (targetGroupArn: string) => {
    const now = clock.now();
    const log = (requestLog.get(targetGroupArn) ?? []).filter((at) => now - at < REQUEST_LOG_MS).slice(-10_000);
    log.push(now);
    requestLog.set(targetGroupArn, log);
  };
  cloudwatch.metricEvents = (namespace, metric, dims) => {
    if (namespace !== 'AWS/ApplicationELB' || metric !== 'RequestCount' || !dims.TargetGroup) return undefined;
    const tg = [...elb.targetGroups.values()].find((t) => t.arn.endsWith(`:${dims.TargetGroup}`));
    return tg ? (requestLog.get(tg.arn) ?? []) : [];
  };

  function metricValue(namespace: string, metric: string, dims: Record<string, string>): number | undefined {
    if (namespace === 'AWS/ApplicationELB' && dims.TargetGroup) {
      const tg = [...elb.targetGroups.values()].find((t) => t.arn.endsWith(`:${dims.TargetGroup}`));
      if (!tg || !elb.targetGroupAttached(tg.arn)) return undefined;
      const targets = [...tg.targets.values()];
      if (metric === 'HealthyHostCount') return targets.filter((t) => t.state === 'healthy').length;
      if (metric === 'UnHealthyHostCount') {
        // the period's maximum: ECS replaces an unhealthy task at once, so count the targets
        // that were unhealthy at any time during the last period, not only those still registered
        const since = clock.now() - config.alarmPeriodMs;
        const ids = new Set(targets.filter((t) => t.state === 'unhealthy').map((t) => t.id));
        for (const [id, at] of tg.unhealthyAt ?? []) if (at >= since) ids.add(id);
        return ids.size;
      }
      if (metric === 'RequestCount') return 0;
      return undefined;
    }
    if ((namespace === 'AWS/ECS' || namespace === 'ECS/ContainerInsights') && dims.ServiceName) {
      if (dims.ClusterName && dims.ClusterName !== config.clusterName) return undefined;
      const service = ecs.services.get(dims.ServiceName);
      if (!service || service.status !== 'ACTIVE') return undefined;
      const live = [...ecs.tasks.values()].filter((t) => t.serviceArn === service.arn && t.desiredStatus === 'RUNNING');
      const running = live.filter((t) => t.lastStatus === 'RUNNING').length;
      switch (metric) {
        case 'RunningTaskCount':
          return running;
        case 'DesiredTaskCount':
          return service.desiredCount;
        case 'PendingTaskCount':
          return live.length - running;
        case 'CPUUtilization':
          return running > 0 ? 5 : undefined;
        case 'MemoryUtilization':
          return running > 0 ? 12 : undefined;
        default:
          return undefined;
      }
    }
    return undefined;
  }

  const limiter = new RateLimiter(clock, options.rateLimits === undefined ? AWS_RATE_LIMITS : options.rateLimits);
  const handlers: Record<SimService, Record<string, (input: Record<string, unknown>) => unknown>> = {
    ecs: ecs.actions,
    elasticloadbalancingv2: elb.actions,
    cloudwatch: cloudwatch.actions,
    applicationautoscaling: autoscaling.actions,
    sns: sns.actions,
    logs: logs.actions,
    route53: route53.actions,
  };

  function resolveService(name: string): SimService {
    const service = SERVICE_ALIASES[name.toLowerCase()];
    if (!service) throw new Error(`the simulator does not simulate AWS service "${name}" (it has ${SIM_SERVICES.join(', ')})`);
    return service;
  }

  /** What the throttling shapes of a call depend on, read from its raw input (either dialect). */
  function throttledCall(service: SimService, action: string, raw: unknown): ThrottledCall {
    const r = (raw ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const pick = (...keys: string[]) => keys.map((k) => r[k]).find((v) => v !== undefined);
    if (service === 'ecs' && (action === 'CreateService' || action === 'UpdateService')) {
      const lbs = pick('loadBalancers', 'LoadBalancers') as Record<string, unknown>[] | undefined;
      let targetGroupArn = (lbs?.[0]?.targetGroupArn ?? lbs?.[0]?.TargetGroupArn) as string | undefined;
      if (!targetGroupArn && action === 'UpdateService') {
        const name = String(pick('service', 'Service') ?? '').split('/').pop() ?? '';
        targetGroupArn = ecs.services.get(name)?.loadBalancers[0]?.targetGroupArn;
      }
      return { targetGroupArn };
    }
    if (service === 'applicationautoscaling') return { policyName: pick('PolicyName', 'policyName') as string | undefined };
    return {};
  }
  /** Notes a RegisterTaskDefinition; true when another one of its family came within FAMILY_BUSY_MS (concurrent). */
  function registrationOverlaps(raw: unknown): boolean {
    const r = (raw ?? {}) as Record<string, unknown>;
    const family = String(r.family ?? r.Family ?? '');
    const last = registrationsByFamily.get(family);
    const now = clock.now();
    registrationsByFamily.set(family, now);
    return last !== undefined && now - last < FAMILY_BUSY_MS;
  }
  /** when each task-definition family was last registered (or tried): a second one within this window is concurrent */
  const registrationsByFamily = new Map<string, number>();
  const FAMILY_BUSY_MS = 1_000;

  function throttle(service: SimService, action: string, input: unknown): SimulatedAwsError | undefined {
    const familyBusy = service === 'ecs' && action === 'RegisterTaskDefinition' ? registrationOverlaps(input) : false;
    const byFault = faults.takeThrottle();
    const byBucket = !byFault && !limiter.take(service, action);
    const byOthers = !byFault && !byBucket && hostile.enabled && random() < hostile.rates.throttleRate;
    if (!byFault && !byBucket && !byOthers) return undefined;
    const shapes = throttlingErrors(service, action, { ...throttledCall(service, action, input), familyBusy });
    // the throttle fault cycles through the shapes; hostile mode picks one at random; otherwise the usual one
    const index = byFault ? faults.throttleCycle++ % shapes.length : hostile.enabled ? Math.floor(random() * shapes.length) : 0;
    log.info('simulator: throttled', { service, action, by: byFault ? 'fault' : byBucket ? 'rate limit' : 'hostile', code: shapes[index]!.Code });
    return shapes[index];
  }

  // hostile mode: reads answer from a snapshot up to `staleReadMs` old (eventual consistency:
  // Amazon ECS API Reference, "Eventual consistency" / DescribeServices; ELB: target health lags registration)
  interface Snapshot {
    at: number;
    ecs: ReturnType<EcsSimulator['snapshot']>;
    elb: ReturnType<ElbSimulator['snapshot']>;
  }
  let history: Snapshot[] = [];
  let changedSinceSnapshot = true;
  function recordSnapshot(force: boolean): void {
    const now = clock.now();
    const last = history.at(-1);
    if (!force && !changedSinceSnapshot && last && last.at === now) return;
    history.push({ at: now, ecs: ecs.snapshot(), elb: elb.snapshot() });
    history = history.filter((snap, i) => i === history.length - 1 || snap.at >= now - hostile.rates.staleReadMs);
    changedSinceSnapshot = false;
  }
  function staleView(): Snapshot | undefined {
    const target = clock.now() - random() * hostile.rates.staleReadMs;
    return history.find((snap) => snap.at >= target);
  }

  async function dispatch(serviceName: string, rawAction: string, input: unknown, style: NameStyle): Promise<Record<string, unknown>> {
    if (ctx.stopped) throw new Error('the simulator has been stopped');
    const service = resolveService(serviceName);
    const action = rawAction.charAt(0).toUpperCase() + rawAction.slice(1);
    const injected = faults.takeActionFault(service, action);
    if (injected && !injected.answerLost) throw injected.error;
    const throttled = throttle(service, action, input);
    if (throttled) throw throttled;
    const normalized = normalizeInput(service, action, service === 'route53' ? Route53Simulator.prepareInput(action, input) : input, style);
    const handler = handlers[service][action];
    if (!handler) throw awsError(service, 'UnsupportedOperation', `The simulator does not implement ${service}:${action}.`);
    try {
      let output: Record<string, unknown>;
      if (hostile.enabled && STALE_READS[service]?.includes(action)) {
        recordSnapshot(false);
        const view = staleView();
        output = view ? ecs.readAt(view.ecs, () => elb.readAt(view.elb, () => handler(normalized) as Record<string, unknown>)) : ((await handler(normalized)) as Record<string, unknown>);
      } else {
        if (hostile.enabled && !isRead(action)) {
          recordSnapshot(true);
          changedSinceSnapshot = true;
        }
        output = (await handler(normalized)) as Record<string, unknown>;
      }
      // applied, but the caller never hears so (failNext's answerLost)
      if (injected) throw injected.error;
      log.debug('simulator: call', { service, action });
      return output;
    } catch (error) {
      log.debug('simulator: call failed', { service, action, error: (error as Error).name, message: (error as Error).message });
      throw error;
    }
  }

  const tagsObject = (tags: Map<string, string>) => Object.fromEntries(tags);

  const simulator: Simulator = {
    config,
    clusterArn: ecs.clusterArn,
    loadBalancerArn: elb.loadBalancerArn,
    listenerArn: elb.listenerArn,
    hostedZoneId: route53.hostedZoneId,
    resolveHost: (hostname) => route53.resolveHost(hostname),
    shards: [...elb.loadBalancers.values()].map(shardOf),
    get dns() {
      return dns;
    },
    useDns(zone) {
      dns = zone;
    },
    internals: { ecs, elb, cloudwatch, autoscaling, sns, logs, route53, faults },
    hostile,

    setHostile(enabled) {
      if (hostile.enabled === enabled) return;
      hostile.enabled = enabled;
      history = [];
      changedSinceSnapshot = true;
      if (enabled) {
        log.warn('simulator: HOSTILE mode on: events dropped, duplicated, delayed and reordered; stale reads; periodic steady state; extra throttling', {
          seed: config.seed,
          ...hostile.rates,
        });
        ecs.startSteadyHeartbeats();
      } else {
        log.warn('simulator: hostile mode off');
      }
    },

    async call(service, action, input) {
      const output = await dispatch(service, action, input ?? {}, 'sfn');
      return toSfnOutput(resolveService(service), action.charAt(0).toUpperCase() + action.slice(1), output);
    },

    client(service) {
      resolveService(service);
      return {
        async send(command) {
          const action = command.constructor.name.replace(/Command$/, '');
          const { result: output, attempts, totalRetryDelay } = await withSdkRetries(() => dispatch(service, action, command.input ?? {}, 'sdk'));
          return { ...output, $metadata: { httpStatusCode: 200, requestId: uuid(), attempts, totalRetryDelay } };
        },
      };
    },

    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    injectFault(request) {
      const { fault, environment } = request;
      const result = (message: string): FaultResult => {
        log.info('simulator: fault injected', { fault, environment, message });
        return { fault, environment, message, throttledCallsRemaining: faults.throttleRemaining, hostile: hostile.enabled };
      };
      if (fault === 'hostile') {
        if (typeof request.enabled !== 'boolean') throw new InvalidFaultRequest('hostile needs "enabled": true or false');
        simulator.setHostile(request.enabled);
        return result(request.enabled ? `hostile mode on (seed ${config.seed})` : 'hostile mode off');
      }
      if (fault === 'throttle') {
        const count = request.count ?? 1;
        if (count < 1) throw new InvalidFaultRequest('throttle needs a count of at least 1');
        faults.throttleRemaining += count;
        faults.throttleCycle = 0;
        return result(`the next ${faults.throttleRemaining} calls to the simulated AWS are throttled`);
      }
      if (fault === 'clear') {
        faults.clear(environment);
        return result(environment ? `faults of ${environment} cleared` : 'all faults cleared');
      }
      if (!environment) throw new InvalidFaultRequest(`${fault} needs an environment`);
      const service = ecs.serviceOfEnvironment(environment);
      if (!service) throw new FaultTargetNotFound(`environment ${environment} has no simulated ECS service`);
      switch (fault) {
        case 'crash':
          return result(`${ecs.crashTasks(service)} running task(s) of ${environment} exited`);
        case 'crashloop': {
          const image = ecs.currentImage(service);
          if (image) faults.forEnvironment(environment).crashloopImages.add(image);
          const crashed = ecs.crashTasks(service, image);
          return result(`${crashed} task(s) of ${environment} exited; every new task of ${image} fails at start until cleared`);
        }
        case 'unhealthy':
          faults.forEnvironment(environment).unhealthy = true;
          return result(`tasks of ${environment} fail their health checks until cleared`);
        case 'delete-service':
          ecs.deleteOutOfBand(service);
          return result(`service ${service.name} deleted out of band`);
        case 'drift-scale': {
          const count = request.count ?? (service.desiredCount > 0 ? 0 : 1);
          ecs.driftDesiredCount(service, count);
          return result(`desired count of ${service.name} changed out of band to ${count}`);
        }
      }
      throw new InvalidFaultRequest(`unknown fault ${String(fault)}`);
    },

    resources() {
      const envOf = (tags: Map<string, string>) => tags.get(ENV_TAG);
      const imageOf = (taskDefinitionArn: string) => {
        const td = ecs.taskDefinitions.get(taskDefinitionArn);
        const containers = (td?.body.containerDefinitions ?? []) as { image?: string; essential?: boolean }[];
        return (containers.find((c) => c.essential !== false) ?? containers[0])?.image;
      };
      return {
        services: [...ecs.services.values()]
          .filter((s) => s.status !== 'INACTIVE')
          .map((s) => {
            const live = [...ecs.tasks.values()].filter((t) => t.serviceArn === s.arn && t.lastStatus !== 'STOPPED');
            return {
              name: s.name,
              arn: s.arn,
              environment: ecs.environmentOf(s),
              status: s.status,
              desiredCount: s.desiredCount,
              runningCount: live.filter((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING').length,
              pendingCount: live.filter((t) => ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.lastStatus)).length,
              taskDefinition: s.taskDefinition,
              image: imageOf(s.taskDefinition),
              steadyAt: s.steadyAt === undefined ? null : new Date(s.steadyAt).toISOString(),
              deployments: s.deployments.map((d) => ({
                id: d.id,
                status: d.status,
                rolloutState: d.rolloutState,
                taskDefinition: d.taskDefinition,
                desiredCount: d.desiredCount,
                failedTasks: d.failedTasks,
              })),
              tasks: live.map((t) => ({
                arn: t.taskArn,
                lastStatus: t.lastStatus,
                desiredStatus: t.desiredStatus,
                image: t.image,
                ip: t.ip,
                targetHealth: t.registeredIn[0] ? elb.targetState(t.registeredIn[0].targetGroupArn, t.ip, t.registeredIn[0].port) : undefined,
                stoppedReason: t.stoppedReason,
                sidecars: sidecarViews(t),
              })),
              tags: tagsObject(s.tags),
            };
          }),
        taskDefinitions: [...ecs.taskDefinitions.values()]
          .filter((td) => td.status === 'ACTIVE')
          .map((td) => ({
            arn: td.arn,
            family: td.family,
            revision: td.revision,
            status: td.status,
            image: imageOf(td.arn),
            environment: envOf(td.tags),
            tags: tagsObject(td.tags),
          })),
        targetGroups: [...elb.targetGroups.values()].map((tg) => ({
          name: tg.name,
          arn: tg.arn,
          shard: ((lb) => (lb ? shardOf(lb).id : undefined))(elb.loadBalancerOf(tg.arn)),
          environment: envOf(tg.tags),
          port: tg.settings.Port as number | undefined,
          healthCheck: {
            path: String(tg.settings.HealthCheckPath ?? '/'),
            intervalSeconds: Number(tg.settings.HealthCheckIntervalSeconds),
            timeoutSeconds: Number(tg.settings.HealthCheckTimeoutSeconds),
            healthyThreshold: Number(tg.settings.HealthyThresholdCount),
            unhealthyThreshold: Number(tg.settings.UnhealthyThresholdCount),
          },
          targets: [...tg.targets.values()].map((t) => ({ id: t.id, port: t.port, state: t.state })),
          tags: tagsObject(tg.tags),
        })),
        listenerRules: [...elb.allRules()]
          .filter(({ rule }) => rule.priority !== 'default')
          .map(({ lb, rule }) => ({
            arn: rule.arn,
            shard: shardOf(lb).id,
            priority: rule.priority as number,
            hosts: rule.conditions.filter((c) => c.Field === 'host-header').flatMap((c) => (c.Values ?? []) as string[]),
            targetGroupArns: forwardTargets(rule.actions),
            environment: envOf(rule.tags),
            tags: tagsObject(rule.tags),
          }))
          .sort((a, b) => a.shard.localeCompare(b.shard, 'en', { numeric: true }) || a.priority - b.priority),
        shards: [...elb.loadBalancers.values()].map((lb) => {
          const targetGroups = new Set<string>();
          for (const rule of lb.rules.values()) for (const arn of forwardTargets(rule.actions)) targetGroups.add(arn);
          return { ...shardOf(lb), rules: lb.rules.size - 1, targetGroups: targetGroups.size, targets: elb.targetsOf(lb), tags: tagsObject(lb.tags) };
        }),
        alarms: [...cloudwatch.alarms.values()].map((alarm) => ({
          name: alarm.name,
          arn: alarm.arn,
          state: alarm.state,
          metric: alarm.settings.MetricName ? `${alarm.settings.Namespace}/${alarm.settings.MetricName}` : undefined,
          environment: envOf(alarm.tags),
          tags: tagsObject(alarm.tags),
        })),
        scalableTargets: [...autoscaling.targets.values()].map((t) => ({
          resourceId: t.resourceId,
          arn: t.arn,
          minCapacity: Number(t.settings.MinCapacity),
          maxCapacity: Number(t.settings.MaxCapacity),
          environment: t.tags[ENV_TAG],
          policies: [...autoscaling.policies.values()].filter((p) => p.resourceId === t.resourceId).map((p) => p.name),
          tags: { ...t.tags },
        })),
        faults: { throttledCallsRemaining: faults.throttleRemaining, hostile: hostile.enabled, environments: faults.active() },
        notifications: sns.notifications.map((n) => ({ ...n })),
        dnsRecords: route53.aliasRecords(),
      };
    },

    servePage(host) {
      // DNS first: the zone's alias record names the ALB; no record: the wildcard, shard s1
      const aliased = dns?.resolveHost(host.toLowerCase());
      const lb = aliased === undefined ? elb.first : elb.loadBalancerByDnsName(aliased);
      if (!lb) return { host, outcome: 'no-load-balancer', aliasTarget: aliased };
      const rule = elb.match(host, lb);
      const shard = shardOf(lb).id;
      if (rule.priority === 'default') return { host, shard, outcome: 'fixed-response' };
      // weighted forward: a target group at weight 0 stays in use (health-checked) but gets no requests
      const weighted = rule.actions.flatMap((a) => ((a.ForwardConfig?.TargetGroups ?? []) as { TargetGroupArn?: string; Weight?: number }[]));
      const tgArn = weighted.find((t) => t.TargetGroupArn && (t.Weight ?? 1) > 0)?.TargetGroupArn ?? forwardTargets(rule.actions)[0];
      const tg = tgArn ? elb.targetGroups.get(tgArn) : undefined;
      const page: PageData = { host, shard, rule: { arn: rule.arn, priority: rule.priority }, environment: rule.tags.get(ENV_TAG), outcome: 'no-targets' };
      if (!tg) return page;
      const targets = [...tg.targets.values()];
      page.targetGroup = { arn: tg.arn, name: tg.name, healthy: targets.filter((t) => t.state === 'healthy').length, total: targets.length };
      page.environment ??= tg.tags.get(ENV_TAG);
      recordRequest(tg.arn);
      if (tg.settings.TargetType === 'lambda') {
        page.outcome = 'lambda';
        page.lambdaFunctionArn = targets[0]?.id;
        return page;
      }
      const service = [...ecs.services.values()].find((s) => s.status !== 'INACTIVE' && s.loadBalancers.some((lb) => lb.targetGroupArn === tg.arn));
      if (service) {
        const live = [...ecs.tasks.values()].filter((t) => t.serviceArn === service.arn && t.desiredStatus === 'RUNNING');
        const td = ecs.taskDefinitions.get(service.taskDefinition);
        const containers = (td?.body.containerDefinitions ?? []) as { image?: string }[];
        page.environment ??= ecs.environmentOf(service);
        page.service = {
          name: service.name,
          status: service.status,
          desiredCount: service.desiredCount,
          runningCount: live.filter((t) => t.lastStatus === 'RUNNING').length,
          pendingCount: live.filter((t) => t.lastStatus !== 'RUNNING').length,
          image: containers[0]?.image,
          taskDefinition: service.taskDefinition,
        };
      }
      // an ALB routes to healthy targets; with none healthy it fails open to all registered ones
      const candidates = targets.filter((t) => t.state === 'healthy');
      const pool = candidates.length > 0 ? candidates : targets.filter((t) => t.state === 'unhealthy' || t.state === 'initial');
      const target = pool[Math.floor(Math.random() * pool.length)];
      const task = target ? [...ecs.tasks.values()].find((t) => t.ip === target.id && t.desiredStatus === 'RUNNING') : undefined;
      if (task && target && ecs.probe(task.ip)) {
        page.outcome = 'task';
        page.task = { id: task.id, image: task.image, ip: task.ip, startedAt: task.startedAt?.toISOString(), sidecars: sidecarViews(task) };
        ecs.writeLog(task, `"GET / HTTP/1.1" 200 host=${host}`);
      }
      return page;
    },

    stop() {
      if (ctx.stopped) return;
      ctx.stopped = true;
      ecs.stopAll();
      elb.stop();
      cloudwatch.stop();
      listeners.clear();
    },
  };
  if (hostile.enabled) {
    log.warn('simulator: HOSTILE mode on: events dropped, duplicated, delayed and reordered; stale reads; periodic steady state; extra throttling', {
      seed: config.seed,
      ...hostile.rates,
    });
  }
  return simulator;
}

function sidecarViews(task: TaskRecord): SidecarView[] {
  return (task.sidecars ?? []).map((s) => ({ name: s.name, image: s.image, essential: s.essential, lastStatus: s.lastStatus, ...(s.exitCode === undefined ? {} : { exitCode: s.exitCode }) }));
}
