/**
 * A whole control plane in the test process, for the cleanup workflow tests: DynamoDB Local
 * with Fledge's table, local mode's simulated AWS (ECS, ELB, CloudWatch, with AWS's rate
 * limits), the local Step Functions runner executing every real ASL file, the real task
 * Lambdas (every module of functions/tasks/, found the way local mode finds them) and the
 * ECS event handler. Environments are created and deleted through the domain commands the
 * API handlers call, so records, counters, events and resources are all real.
 *
 * `awsHook` runs before every simulated AWS call a workflow step makes: a test throws from it
 * to fail one call (e.g. one environment's teardown) or awaits in it to hold a workflow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { resetClients, useClients } from '../../../functions/adapters/aws-clients.ts';
import { dynamodbClient } from '../../../functions/adapters/clients/dynamodb.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import type { CleanupSummary, OrphanReport } from '../../../functions/domain/cleanup.ts';
import { environmentSpecSchema, type EnvironmentSpec } from '../../../functions/domain/environment-spec.ts';
import { handler as ecsServiceEventsHandler } from '../../../functions/events/ecs-service-events.ts';
import { createSimulator, type Simulator } from '../../../infra/local/simulator/index.ts';
import { createWorkflowRunner, type ExecutionRecord, type WorkflowRunner } from '../../../infra/local/workflow-runner.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts';
import { invoked } from '../../support/lambda-context.ts';
const ecsServiceEvents = invoked(ecsServiceEventsHandler);

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
const REGION = 'eu-west-1';
const ACCOUNT = '000000000000';
const arnOf = (kebab: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fledge-${kebab}`;
const pascal = (kebab: string) => kebab.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');

type Handler = (payload: unknown, context?: unknown) => Promise<unknown>;

/** Every task Lambda module: `${PlanCleanupFunctionArn}` -> functions/tasks/plan-cleanup.ts. */
function taskModules(): Map<string, { substitution: string; file: string }> {
  const dir = join(REPO_ROOT, 'functions', 'tasks');
  const out = new Map<string, { substitution: string; file: string }>();
  for (const entry of readdirSync(dir)) {
    if (!entry.endsWith('.ts')) continue;
    const kebab = entry.slice(0, -3);
    out.set(arnOf(kebab), { substitution: `${pascal(kebab)}FunctionArn`, file: join(dir, entry) });
  }
  return out;
}

export const specSchema = environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 });
export const spec = (overrides: Record<string, unknown> = {}): EnvironmentSpec =>
  specSchema.parse({ image: 'ghcr.io/acme/web:1.0', labels: { repository: 'acme/web' }, ...overrides });

export type AwsHook = (service: string, action: string, params: Record<string, unknown>) => Promise<void> | void;

export class CleanupWorld {
  db!: DynamoDbLocal;
  sim!: Simulator;
  runner!: WorkflowRunner;
  /** runs before every simulated AWS call a workflow step makes */
  awsHook: AwsHook | undefined;
  lambdaCalls: { functionArn: string; payload: unknown; result?: unknown }[] = [];

  /** `rateLimits: false` switches the simulator's AWS-like token buckets off (bulk setup) */
  async start(env: Record<string, string> = {}, options: { rateLimits?: false } = {}): Promise<void> {
    this.db = await startDynamoDbLocal('fledge-cleanup');
    this.sim = createSimulator({
      region: REGION, accountId: ACCOUNT, taskStartMs: 30, healthCheckIntervalMs: 20, alarmPeriodMs: 200,
      ...(options.rateLimits === false ? { rateLimits: false } : {}),
    });
    const tasks = taskModules();
    const substitutions: Record<string, string> = {
      TableName: this.db.tableName,
      ClusterArn: this.sim.clusterArn,
      ListenerArn: this.sim.listenerArn,
      VpcId: this.sim.config.vpcId,
    };
    for (const [arn, task] of tasks) substitutions[task.substitution] = arn;
    // substitutions of parts these tests do not exercise (e.g. the waker of sleeping environments)
    for (const file of readdirSync(join(REPO_ROOT, 'statemachines')).filter((f) => f.endsWith('.asl.json'))) {
      for (const [, key] of readFileSync(join(REPO_ROOT, 'statemachines', file), 'utf8').matchAll(/\$\{([A-Za-z0-9_]+)\}/g)) {
        substitutions[key!] ??= key!.endsWith('FunctionArn')
          ? arnOf(`unused-${key}`)
          : `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/unused-${key}/0000000000000000`;
      }
    }
    const handlers = new Map<string, Promise<Handler>>();
    const load = (file: string) => {
      let loaded = handlers.get(file);
      if (!loaded) {
        loaded = import(pathToFileURL(file).href).then((m: { handler: Handler }) => m.handler);
        handlers.set(file, loaded);
      }
      return loaded;
    };
    this.runner = createWorkflowRunner({
      substitutions,
      callAws: async (service, action, params) => {
        await this.awsHook?.(service, action, params);
        return this.sim.call(service, action, params);
      },
      invokeLambda: async (functionArn, payload) => {
        const call: CleanupWorld['lambdaCalls'][number] = { functionArn, payload };
        this.lambdaCalls.push(call);
        const task = tasks.get(functionArn);
        if (!task) throw Object.assign(new Error(`Function not found: ${functionArn}`), { name: 'ResourceNotFoundException' });
        const result = await (await load(task.file))(JSON.parse(JSON.stringify(payload)));
        call.result = result === undefined ? result : JSON.parse(JSON.stringify(result));
        return call.result;
      },
      retryIntervalMs: 0,
      region: REGION,
      accountId: ACCOUNT,
    });
    Object.assign(process.env, {
      TABLE_NAME: this.db.tableName,
      FLEDGE_INSTALLATION_ID: 'test',
      FLEDGE_DYNAMODB_ENDPOINT: this.db.endpoint,
      FLEDGE_CLUSTER_ARN: this.sim.clusterArn,
      FLEDGE_LISTENER_ARN: this.sim.listenerArn,
      FLEDGE_VPC_ID: this.sim.config.vpcId,
      FLEDGE_SUBNET_IDS: 'subnet-a,subnet-b',
      FLEDGE_SECURITY_GROUP_IDS: 'sg-1',
      FLEDGE_EXECUTION_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/fledge-execution`,
      FLEDGE_TASK_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/fledge-task`,
      FLEDGE_LOG_GROUP: '/fledge/environments',
      FLEDGE_BASE_DOMAIN: 'preview.example.com',
      FLEDGE_CREATE_STATE_MACHINE_ARN: this.runner.stateMachineArn('create'),
      FLEDGE_UPDATE_STATE_MACHINE_ARN: this.runner.stateMachineArn('update'),
      FLEDGE_TEARDOWN_STATE_MACHINE_ARN: this.runner.stateMachineArn('teardown'),
      FLEDGE_SCALE_STATE_MACHINE_ARN: this.runner.stateMachineArn('scale'),
      FLEDGE_HEAL_STATE_MACHINE_ARN: this.runner.stateMachineArn('heal'),
      FLEDGE_CLEANUP_STATE_MACHINE_ARN: this.runner.stateMachineArn('cleanup'),
      ...env,
    });
    resetConfig();
    resetClients();
    useClients({
      ecs: this.sim.client('ecs'),
      elbv2: this.sim.client('elasticloadbalancingv2'),
      cloudwatch: this.sim.client('cloudwatch'),
      applicationautoscaling: this.sim.client('applicationautoscaling'),
      sfn: this.runner.sfnClient,
    });
    this.sim.onEvent(async (event) => {
      if (event.source === 'aws.ecs' && (event['detail-type'] === 'ECS Service Action' || event['detail-type'] === 'ECS Deployment State Change')) {
        await ecsServiceEvents(event as never).catch(() => undefined);
      }
    });
  }

  async stop(): Promise<void> {
    await this.runner?.close();
    this.sim?.stop();
    resetClients();
    await this.db?.stop();
  }

  /** Waits for every execution of `kind` that is running now (and those they start meanwhile). */
  async settle(kind: 'create' | 'update' | 'teardown'): Promise<ExecutionRecord[]> {
    for (;;) {
      const running = this.runner.listExecutions(kind).filter((e) => e.status === 'RUNNING');
      if (running.length === 0) return this.runner.listExecutions(kind);
      await Promise.all(running.map((e) => this.runner.waitForExecution(e.executionArn)));
    }
  }

  /** One scheduled run: a cleanup execution, to its end, with the summary its last step reported. */
  async cleanup(): Promise<{ execution: ExecutionRecord; summary: CleanupSummary; transitions: number }> {
    const started = await this.runner.startExecution('cleanup', `cleanup-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`, {});
    const execution = await this.runner.waitForExecution(started.executionArn);
    const report = this.lambdaCalls.filter((c) => c.functionArn === arnOf('report-cleanup')).at(-1);
    return { execution, summary: report?.result as CleanupSummary, transitions: execution.stateTransitions };
  }

  /** What the last run's ReconcileOrphans step reported. */
  lastOrphanReport(): OrphanReport | undefined {
    return this.lambdaCalls.filter((c) => c.functionArn === arnOf('reconcile-orphans')).at(-1)?.result as OrphanReport | undefined;
  }

  async item(name: string): Promise<Record<string, any> | undefined> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const { Item } = await dynamodbClient().send(
      new GetCommand({ TableName: this.db.tableName, Key: { pk: `ENV#${name}`, sk: 'ENV' }, ConsistentRead: true }),
    );
    return Item;
  }

  async counters(): Promise<Record<string, number>> {
    const { Item } = await dynamodbClient().send(
      new GetCommand({ TableName: this.db.tableName, Key: { pk: 'COUNTER#live', sk: 'COUNTER' }, ConsistentRead: true }),
    );
    return (Item ?? {}) as Record<string, number>;
  }

  /** newest first */
  async events(name: string): Promise<{ type: string; message: string; actor: string; purgeAt?: number; details?: Record<string, any> }[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const { Items } = await dynamodbClient().send(
      new QueryCommand({
        TableName: this.db.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :evt)',
        ExpressionAttributeValues: { ':pk': `ENV#${name}`, ':evt': 'EVT#' },
        ScanIndexForward: false,
      }),
    );
    return (Items ?? []) as never;
  }

  /** Simulated resources that still carry `fledge:environment=<name>` (services ACTIVE or DRAINING, ACTIVE task definitions). */
  leftovers(name: string): string[] {
    const r = this.sim.resources();
    return [
      ...r.services.filter((s) => s.environment === name && s.status === 'ACTIVE').map((s) => s.arn),
      ...r.targetGroups.filter((t) => t.environment === name).map((t) => t.arn),
      ...r.listenerRules.filter((l) => l.environment === name).map((l) => l.arn),
      ...r.alarms.filter((a) => a.environment === name).map((a) => a.arn),
      ...r.taskDefinitions.filter((t) => t.environment === name).map((t) => t.arn),
    ];
  }
}
