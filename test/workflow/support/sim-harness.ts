/**
 * A workflow-test world on local mode's simulated AWS (infra/local/simulator): DynamoDB Local,
 * the simulator (ECS with its scheduler and circuit breaker, the ALB's health checks,
 * CloudWatch alarms, Application Auto Scaling, SNS, the fault injection of `/_local/faults`),
 * the waker's target group as local mode creates it, the local workflow runner running the
 * real ASL files, and the real task and event handlers wired as local mode wires them. The one
 * AWS of every workflow test: what the tests assert of AWS they read back from it, with AWS's
 * own Describe calls (`aws`) or its resource view (`sim.resources()`, local mode's
 * `GET /_local/resources`).
 *
 * Every AWS call is recorded (`calls`), by the workflows and by the Lambdas alike, so a test
 * can prove that something was not changed; `failOn`/`throttle` make the next calls of one
 * action answer an AWS error (a fault at one step, seen by both doors).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { resetClients, useClients } from '../../../functions/adapters/aws-clients.ts';
import { dynamodbClient } from '../../../functions/adapters/clients/dynamodb.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import { environmentSpecSchema, type EnvironmentSpec } from '../../../functions/domain/environment-spec.ts';
import { targetGroupName } from '../../../functions/domain/resource-names.ts';
import type { WorkflowInput } from '../../../functions/domain/workflow-state.ts';
import { HEAL_EVENT_RULES, matchesPattern } from '../../../functions/contract/heal-events.ts';
import { arnVariable, STARTED_WORKFLOW_KINDS, WORKFLOW_KINDS, WORKFLOWS } from '../../../functions/contract/workflows.ts';
import { awsError, createSimulator, throttlingError, type SimEvent, type Simulator, type SimulatorOptions } from '../../../infra/local/simulator/index.ts';
import { createLocalWaker } from '../../../infra/local/scaling.ts';
import { createWorkflowRunner, type ExecutionRecord, type WorkflowKind, type WorkflowRunner } from '../../../infra/local/workflow-runner.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts';
import { invoked, lambdaContext } from '../../support/lambda-context.ts';
import type { Context } from 'aws-lambda';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const REGION = 'eu-west-1';
const ACCOUNT = '000000000000';
export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:fledge-test-environment-notifications`;
export const BASE_DOMAIN = 'preview.example.com';

type Handler = (payload: unknown, context: Context) => Promise<unknown>;

const pascal = (kebab: string) => kebab.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
const functionArn = (kebab: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fledge-${kebab}`;
const clone = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));

const specSchema = environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 });
export function spec(overrides: Record<string, unknown> = {}): EnvironmentSpec {
  return specSchema.parse({ image: 'ghcr.io/acme/web:1.0', labels: { repository: 'acme/web', branch: 'main' }, ...overrides });
}

export interface AwsCall {
  service: string;
  action: string;
  params: Record<string, unknown>;
  via: 'workflow' | 'lambda';
}

/** AWS actions that change something (everything but Describe*, List*, Get*). */
export const isMutation = (call: AwsCall) => !/^(Describe|List|Get)/.test(call.action);

/**
 * What the task Lambdas read at run time (functions/runtime/runtime-config.ts) in a world on
 * `sim`: its cluster, listener and VPC, and the roles, subnets and log group a stack passes.
 */
export function taskRuntimeEnvironment(sim: Simulator): Record<string, string> {
  return {
    FLEDGE_INSTALLATION_ID: 'test',
    FLEDGE_CLUSTER_ARN: sim.clusterArn,
    FLEDGE_LISTENER_ARN: sim.listenerArn,
    FLEDGE_VPC_ID: sim.config.vpcId,
    FLEDGE_SUBNET_IDS: 'subnet-a,subnet-b',
    FLEDGE_SECURITY_GROUP_IDS: 'sg-1',
    FLEDGE_EXECUTION_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/fledge-execution`,
    FLEDGE_TASK_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/fledge-task`,
    FLEDGE_LOG_GROUP: '/fledge/environments',
    FLEDGE_BASE_DOMAIN: BASE_DOMAIN,
    AWS_REGION: REGION,
  };
}

/** The simulator of a workflow test: fast tasks, health checks and alarm periods, no token buckets, the cluster `fledge`. */
export function simulatorFor(options: SimulatorOptions = {}): Simulator {
  return createSimulator({
    rateLimits: false,
    region: REGION,
    accountId: ACCOUNT,
    clusterName: 'fledge',
    // the simulated Route 53 zone is the base domain's (per-environment DNS)
    hostedZoneName: BASE_DOMAIN,
    taskStartMs: 120,
    healthCheckIntervalMs: 30,
    alarmPeriodMs: 100,
    ...options,
  });
}

/** Tasks that start in 30 ms and health checks every 10 ms: for workflow tests that only need AWS to settle, soon. */
export const FAST: SimulatorOptions = { taskStartMs: 30, healthCheckIntervalMs: 10 };

/**
 * The states whose retries wait for AWS rather than recover from an error: the steady-state
 * wait's polls, a deleted service DRAINING until its tasks stop, a target group still in use
 * for a moment. How often they retry follows how long AWS (here the simulator's clock) takes.
 */
const WAITING_STATES = ['AwaitSteadyState', 'AwaitSteadyStateAfterConverging', 'FinishTeardown', 'DeleteTargetGroup'];

/** A run's state transitions besides the retries of its waits: the workflow's own path and its error retries. */
export function transitionsBesidesWaits(record: ExecutionRecord): number {
  return record.stateTransitions - WAITING_STATES.reduce((sum, state) => sum + (record.retries[state] ?? 0), 0);
}

export interface SimWorldOptions {
  /** deliver alarm and ECS failure events to the heal trigger, as local mode does */
  healTrigger?: boolean;
  simulator?: SimulatorOptions;
  /** replace the TimeoutSeconds of Task states, by state name */
  timeoutOverrides?: Record<string, number>;
}

export class SimHarness {
  private db!: DynamoDbLocal;
  sim!: Simulator;
  runner!: WorkflowRunner;
  calls: AwsCall[] = [];
  /** runs after a workflow's AWS call succeeded (a test's "meanwhile") */
  afterCall: ((call: AwsCall) => Promise<void> | void) | undefined;
  /** runs before a workflow's AWS call: an error it returns is thrown instead (a fault at one step) */
  beforeCall: ((call: AwsCall) => Error | undefined) | undefined;
  /** runs before a task Lambda: an error it returns is thrown instead of running it */
  lambdaFault: ((arn: string, payload: { fallback?: boolean }) => Error | undefined) | undefined;
  triggerResults: unknown[] = [];
  /** the shared Lambda target group of the waker (sleeping environments' rules forward to it) */
  wakerTargetGroupArn = '';
  private handlers = new Map<string, Handler>();
  private counter = 0;

  async start(): Promise<void> {
    this.db = await startDynamoDbLocal();
    for (const file of readdirSync(join(ROOT, 'functions', 'tasks')).filter((f) => f.endsWith('.ts'))) {
      const module = (await import(pathToFileURL(join(ROOT, 'functions', 'tasks', file)).href)) as { handler: Handler };
      this.handlers.set(functionArn(file.slice(0, -3)), module.handler);
    }
  }

  async stop(): Promise<void> {
    await this.runner?.close();
    this.sim?.stop();
    resetClients();
    await this.db?.stop();
  }

  /** A fresh simulator and runner (the table is shared: use a new environment name per test). */
  async reset(options: SimWorldOptions = {}): Promise<void> {
    await this.runner?.close();
    this.sim?.stop();
    this.calls = [];
    this.afterCall = undefined;
    this.beforeCall = undefined;
    this.lambdaFault = undefined;
    this.triggerResults = [];
    const sim = simulatorFor(options.simulator);
    this.sim = sim;
    Object.assign(process.env, {
      TABLE_NAME: this.db.tableName,
      FLEDGE_DYNAMODB_ENDPOINT: this.db.endpoint,
      ...taskRuntimeEnvironment(sim),
      FLEDGE_HEAL_MAX_PER_HOUR: process.env.FLEDGE_HEAL_MAX_PER_HOUR ?? '3',
      FLEDGE_HEAL_BACKOFF: process.env.FLEDGE_HEAL_BACKOFF ?? '1s',
    });
    resetConfig();

    // the waker's Lambda target group, made as local mode makes it: sleeping environments' rules forward to it
    this.wakerTargetGroupArn = (await createLocalWaker(sim, REGION, ACCOUNT)).targetGroupArn;
    // the one shard (FLEDGE_SHARDS unset) has this waker
    process.env.FLEDGE_WAKER_TARGET_GROUP_ARN = this.wakerTargetGroupArn;
    resetConfig();
    const substitutions: Record<string, string> = {
      TableName: this.db.tableName,
      ClusterArn: sim.clusterArn,
      ListenerArn: sim.listenerArn,
      VpcId: sim.config.vpcId,
      NotificationTopicArn: TOPIC_ARN,
      WakerTargetGroupArn: this.wakerTargetGroupArn,
    };
    for (const arn of this.handlers.keys()) substitutions[`${pascal(arn.slice(arn.lastIndexOf(':fledge-') + 8))}FunctionArn`] = arn;
    for (const kind of WORKFLOW_KINDS) {
      for (const match of readFileSync(join(ROOT, 'statemachines', WORKFLOWS[kind].asl), 'utf8').matchAll(/\$\{(\w+)\}/g)) {
        if (!(match[1]! in substitutions)) substitutions[match[1]!] = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:unknown-${match[1]}`;
      }
    }

    this.runner = createWorkflowRunner({
      substitutions,
      callAws: async (service, action, params) => {
        const call: AwsCall = { service, action, params: clone(params), via: 'workflow' };
        this.calls.push(call);
        const fault = this.beforeCall?.(call);
        if (fault) throw fault;
        const result = await sim.call(service, action, params);
        await this.afterCall?.(call);
        return result;
      },
      invokeLambda: async (arn, payload) => {
        const handler = this.handlers.get(arn);
        if (!handler) throw new Error(`no handler for ${arn}`);
        const fault = this.lambdaFault?.(arn, payload as { fallback?: boolean });
        if (fault) throw fault;
        return clone(await handler(clone(payload), lambdaContext));
      },
      retryIntervalMs: 0,
      timeoutOverrides: options.timeoutOverrides,
      // the waits of a ClientException throttle or a draining name (statemachines/source/cause-loops.ts) are a retry's backoff: none here either
      waitOverridesMs: Object.fromEntries(
        WORKFLOW_KINDS.flatMap((kind) =>
          [...readFileSync(join(ROOT, 'statemachines', WORKFLOWS[kind].asl), 'utf8').matchAll(/"(\w+(?:ClientThrottle|Draining)Wait)": \{/g)].map((m) => [m[1]!, 0]),
        ),
      ),
      region: REGION,
      accountId: ACCOUNT,
    });
    for (const kind of STARTED_WORKFLOW_KINDS) process.env[arnVariable(kind)] = this.runner.stateMachineArn(kind);
    const recorded = (service: string) => {
      const client = sim.client(service);
      return {
        send: async (command: { input?: unknown; constructor: { name: string } }) => {
          this.calls.push({ service, action: command.constructor.name.replace(/Command$/, ''), params: clone((command.input ?? {}) as Record<string, unknown>), via: 'lambda' });
          return client.send(command);
        },
      };
    };
    resetClients();
    useClients({ ecs: recorded('ecs'), elbv2: recorded('elasticloadbalancingv2'), cloudwatch: recorded('cloudwatch'), route53: recorded('route53'), sfn: this.runner.sfnClient });

    const ecsServiceEvents = invoked((await import('../../../functions/events/ecs-service-events.ts')).handler);
    const healTrigger = invoked((await import('../../../functions/events/heal-trigger.ts')).handler);
    sim.onEvent(async (event: SimEvent) => {
      if (sim !== this.sim) return;
      if (event.source === 'aws.ecs' && (event['detail-type'] === 'ECS Service Action' || event['detail-type'] === 'ECS Deployment State Change')) {
        await ecsServiceEvents(event as never);
      }
      if (options.healTrigger && HEAL_EVENT_RULES.some((rule) => matchesPattern(rule.pattern(sim.clusterArn, 'test'), event as unknown as Record<string, unknown>))) {
        this.triggerResults.push(await healTrigger(event));
      }
    });
  }

  nextOperationId(): string {
    return `op-${++this.counter}-${Math.random().toString(16).slice(2, 10)}`;
  }

  /**
   * The environment item as the API writes it when it accepts a request and starts `workflow`;
   * a new name is counted in the live quota counter (`count: false`: not), as a create is.
   */
  async seed(
    name: string,
    s: EnvironmentSpec,
    options: { status?: string; specVersion?: number; workflow?: WorkflowKind; type?: string; count?: boolean } = {},
  ): Promise<WorkflowInput> {
    const now = new Date().toISOString();
    const status = options.status ?? 'CREATING';
    const workflow = options.workflow ?? 'create';
    const operationId = this.nextOperationId();
    const existing = await this.item(name);
    const item: Record<string, unknown> = {
      pk: `ENV#${name}`, sk: 'ENV', kind: 'ENVIRONMENT',
      ...(existing ?? {}),
      name, spec: s, specVersion: options.specVersion ?? 1, status,
      version: ((existing?.version as number | undefined) ?? 0) + 1,
      runningCount: (existing?.runningCount as number | undefined) ?? 0,
      createdAt: (existing?.createdAt as string | undefined) ?? now, updatedAt: now,
      expiresAt: new Date(Date.now() + 72 * 3_600_000).toISOString(),
      operation: { id: operationId, type: options.type ?? workflow, status: 'RUNNING', startedAt: now, executionName: `${name}--${operationId}`, workflow },
      gsiAllPk: 'ENV', gsiStatusPk: `STATUS#${status}`, gsiExpiryPk: 'EXPIRY',
      ...(s.labels.repository ? { gsiRepoPk: `REPO#${s.labels.repository}` } : {}),
    };
    // a DELETE takes the environment off the expiry index
    if (status === 'DELETING') delete item.gsiExpiryPk;
    await dynamodbClient().send(new PutCommand({ TableName: process.env.TABLE_NAME, Item: item }));
    if (!existing && options.count !== false) {
      await dynamodbClient().send(
        new UpdateCommand({
          TableName: process.env.TABLE_NAME, Key: { pk: 'COUNTER#live', sk: 'COUNTER' },
          UpdateExpression: 'ADD #total :one, #repo :one',
          ExpressionAttributeNames: { '#total': 'total', '#repo': `repo#${s.labels.repository}` }, ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    }
    return { name, operationId, specVersion: options.specVersion ?? 1, spec: s, actor: 'arn:aws:iam::000000000000:user/ci' };
  }

  async set(name: string, attributes: Record<string, unknown>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = Object.entries(attributes).map(([key, value], i) => {
      names[`#a${i}`] = key;
      values[`:v${i}`] = value;
      return `#a${i} = :v${i}`;
    });
    await dynamodbClient().send(
      new UpdateCommand({
        TableName: process.env.TABLE_NAME, Key: { pk: `ENV#${name}`, sk: 'ENV' },
        UpdateExpression: `SET ${sets.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
      }),
    );
  }

  /** What a PUT with a new spec does while an operation runs: a new desired spec, same operation. */
  async acceptNewSpec(name: string, s: EnvironmentSpec): Promise<number> {
    const result = await dynamodbClient().send(
      new UpdateCommand({
        TableName: process.env.TABLE_NAME, Key: { pk: `ENV#${name}`, sk: 'ENV' },
        UpdateExpression: 'SET #spec = :spec, specVersion = specVersion + :one, version = version + :one',
        ExpressionAttributeNames: { '#spec': 'spec' }, ExpressionAttributeValues: { ':spec': s, ':one': 1 }, ReturnValues: 'ALL_NEW',
      }),
    );
    return result.Attributes!.specVersion as number;
  }

  async item(name: string): Promise<Record<string, any> | undefined> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const { Item } = await dynamodbClient().send(
      new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: `ENV#${name}`, sk: 'ENV' }, ConsistentRead: true }),
    );
    return Item;
  }

  /** newest first */
  async events(name: string): Promise<{ type: string; message: string; actor: string; operationId?: string; details?: Record<string, any> }[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const { Items } = await dynamodbClient().send(
      new QueryCommand({
        TableName: process.env.TABLE_NAME, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :evt)',
        ExpressionAttributeValues: { ':pk': `ENV#${name}`, ':evt': 'EVT#' }, ScanIndexForward: false,
      }),
    );
    return (Items ?? []) as never;
  }

  async run(kind: WorkflowKind, input: WorkflowInput & { trigger?: unknown }): Promise<ExecutionRecord> {
    const started = await this.runner.startExecution(kind, `${input.name}--${input.operationId}`, input);
    return this.runner.waitForExecution(started.executionArn);
  }

  /** create (and, with more specs, update to each in turn) until RUNNING; the create's execution */
  async created(name: string, s: EnvironmentSpec = spec(), ...updates: EnvironmentSpec[]): Promise<ExecutionRecord> {
    const record = await this.run('create', await this.seed(name, s));
    if (record.status !== 'SUCCEEDED') throw new Error(`create of ${name} failed: ${record.error} ${record.cause}`);
    let version = 1;
    for (const next of updates) {
      version += 1;
      const updated = await this.run('update', await this.seed(name, next, { status: 'UPDATING', specVersion: version, workflow: 'update' }));
      if (updated.status !== 'SUCCEEDED') throw new Error(`update of ${name} failed: ${updated.error} ${updated.cause}`);
    }
    await this.steady(name);
    return record;
  }

  /** The heal execution started for the environment's current operation (by the API or a trigger), once it ended. */
  async healExecution(name: string): Promise<ExecutionRecord> {
    const item = await this.item(name);
    const executionName = item?.operation?.executionName as string;
    const execution = this.runner.listExecutions('heal').find((e) => e.name === executionName);
    if (!execution) throw new Error(`no heal execution ${executionName} for ${name}`);
    return this.runner.waitForExecution(execution.executionArn);
  }

  /**
   * A heal of a RUNNING environment as the heal route starts it (its attempts of the hour
   * reset), or — with `attempts` — as a trigger does after earlier heals; then its end.
   */
  async heal(name: string, options: { attempts?: string[] } = {}): Promise<ExecutionRecord> {
    const item = await this.item(name);
    const seeded = await this.seed(name, item!.spec as EnvironmentSpec, {
      status: 'HEALING', specVersion: item!.specVersion as number, workflow: 'heal', type: 'heal',
    });
    await this.set(name, { healAttempts: options.attempts ?? [] });
    return this.run('heal', { ...seeded, trigger: options.attempts ? { source: 'alarm', signal: `fledge-${name}-tasks` } : { source: 'api' } });
  }

  service(name: string) {
    return this.sim.resources().services.find((s) => s.name === name);
  }

  /** until the service is steady with its desired count running healthy (or the time is up) */
  async steady(name: string, timeoutMs = 15_000): Promise<boolean> {
    return this.until(() => {
      const service = this.service(name);
      return Boolean(
        service && service.deployments.length === 1 && service.deployments[0]!.rolloutState === 'COMPLETED' &&
          service.runningCount === service.desiredCount && service.tasks.every((t) => t.targetHealth === 'healthy'),
      );
    }, timeoutMs);
  }

  async until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await condition()) return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return condition();
  }

  /** the recorded calls of one action (workflows and Lambdas) */
  callsOf(action: string): AwsCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  /** The next `times` calls of `action` answer AWS's error `code` (the wire code, as AWS sends it). */
  failOn(action: string, code: string, message: string, times = 1): void {
    this.sim.internals.faults.failNext(action, (service) => awsError(service, code, message), times);
  }

  /** The next `times` calls of `action` are applied, and then answer AWS's error `code` (the answer lost: a 5xx after the change landed). */
  loseAnswer(action: string, code: string, message: string, times = 1): void {
    this.sim.internals.faults.failNext(action, (service) => awsError(service, code, message), times, true);
  }

  /** The next `times` calls of `action` are throttled, in the shape its service throttles with. */
  throttle(action: string, times: number): void {
    this.sim.internals.faults.failNext(action, (service) => throttlingError(service), times);
  }

  /**
   * A read of AWS as an operator would make it (Step Functions' PascalCase shapes), not recorded
   * in `calls`: what the tests assert of AWS's state.
   */
  async aws<T = any>(service: string, action: string, input: Record<string, unknown> = {}): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return (await this.sim.call(service, action, input)) as T;
  }

  /** the environment's target group as DescribeTargetGroups answers it (by its name) */
  async targetGroup(name: string): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const { TargetGroups } = await this.aws('elasticloadbalancingv2', 'DescribeTargetGroups', { Names: [targetGroupName('test', name)] });
    return TargetGroups[0];
  }

  /** the listener's rules but the default one, as DescribeRules answers them */
  async rules(): Promise<Record<string, any>[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const { Rules } = await this.aws('elasticloadbalancingv2', 'DescribeRules', { ListenerArn: this.sim.listenerArn });
    return (Rules as { IsDefault: boolean }[]).filter((r) => !r.IsDefault);
  }

  /** a CloudWatch alarm as DescribeAlarms answers it (undefined: there is none) */
  async alarm(alarmName: string): Promise<Record<string, any> | undefined> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const { MetricAlarms } = await this.aws('cloudwatch', 'DescribeAlarms', { AlarmNames: [alarmName] });
    return MetricAlarms[0];
  }

  /**
   * What is left that costs money or blocks a name: ACTIVE services (a DRAINING one is deleted,
   * as ListServices says), the environments' target groups (not the waker's), rules, and ACTIVE
   * task definitions.
   */
  leftovers() {
    const r = this.sim.resources();
    return {
      services: r.services.filter((s) => s.status === 'ACTIVE').map((s) => s.arn),
      targetGroups: r.targetGroups.filter((t) => t.arn !== this.wakerTargetGroupArn).map((t) => t.arn),
      rules: r.listenerRules.map((rule) => rule.arn),
      activeTaskDefinitions: r.taskDefinitions.map((t) => t.arn),
    };
  }

  async priorityHolder(priority: number): Promise<string | undefined> {
    const { Item } = await dynamodbClient().send(
      new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: `PRIORITY#${priority}`, sk: 'PRIORITY' }, ConsistentRead: true }),
    );
    return Item?.name as string | undefined;
  }

  async counters(): Promise<Record<string, number>> {
    const { Item } = await dynamodbClient().send(
      new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: 'COUNTER#live', sk: 'COUNTER' }, ConsistentRead: true }),
    );
    return (Item ?? {}) as Record<string, number>;
  }

  /** workflow calls that changed something in AWS, as `Action` names */
  mutations(from = 0): string[] {
    return this.calls.slice(from).filter(isMutation).map((c) => c.action);
  }
}
