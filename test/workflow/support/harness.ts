/**
 * One world for a workflow test: DynamoDB Local with Fledge's table, the in-memory ECS/ELB
 * fake, the local workflow runner running the real ASL files, and the real task and event
 * handlers wired to them exactly as local mode wires them (awsClients() seam).
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { resetClients, useClients } from '../../../functions/adapters/aws-clients.ts';
import { dynamodbClient } from '../../../functions/adapters/clients/dynamodb.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import { environmentSpecSchema, type EnvironmentSpec } from '../../../functions/domain/environment-spec.ts';
import type { WorkflowInput } from '../../../functions/domain/workflow-state.ts';
import { handler as ecsServiceEvents } from '../../../functions/events/ecs-service-events.ts';
import { handler as awaitSteadyState } from '../../../functions/tasks/await-steady-state.ts';
import { handler as completeOperation } from '../../../functions/tasks/complete-operation.ts';
import { handler as discoverResources } from '../../../functions/tasks/discover-resources.ts';
import { handler as failOperation } from '../../../functions/tasks/fail-operation.ts';
import { handler as finishTeardown } from '../../../functions/tasks/finish-teardown.ts';
import { handler as planResources } from '../../../functions/tasks/plan-resources.ts';
import { handler as planScale } from '../../../functions/tasks/plan-scale.ts';
import { handler as completeScale } from '../../../functions/tasks/complete-scale.ts';
import { createWorkflowRunner, type ExecutionRecord, type WorkflowKind, type WorkflowRunner } from '../../../infra/local/workflow-runner.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts';
import { FakeAws } from './fake-aws.ts';
import { lambdaContext } from '../../support/lambda-context.ts';
import type { Context } from 'aws-lambda';

const FUNCTION = (name: string) => `arn:aws:lambda:eu-west-1:000000000000:function:fledge-${name}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const HANDLERS: Record<string, (payload: any, context: Context) => Promise<unknown>> = {
  [FUNCTION('plan-resources')]: planResources,
  [FUNCTION('await-steady-state')]: awaitSteadyState,
  [FUNCTION('complete-operation')]: completeOperation,
  [FUNCTION('fail-operation')]: failOperation,
  [FUNCTION('discover-resources')]: discoverResources,
  [FUNCTION('finish-teardown')]: finishTeardown,
  [FUNCTION('plan-scale')]: planScale,
  [FUNCTION('complete-scale')]: completeScale,
};

export const BASE_DOMAIN = 'preview.example.com';

/** What the task Lambdas read at run time (functions/runtime/config.ts runtimeConfig()), as the workflow tests set it. */
export const TASK_RUNTIME_ENVIRONMENT = {
  FLEDGE_INSTALLATION_ID: 'test',
  FLEDGE_CLUSTER_ARN: 'arn:aws:ecs:eu-west-1:000000000000:cluster/fledge',
  FLEDGE_LISTENER_ARN: 'arn:aws:elasticloadbalancing:eu-west-1:000000000000:listener/app/fledge/abc/def',
  FLEDGE_SUBNET_IDS: 'subnet-a,subnet-b',
  FLEDGE_SECURITY_GROUP_IDS: 'sg-1',
  FLEDGE_EXECUTION_ROLE_ARN: 'arn:aws:iam::000000000000:role/fledge-execution',
  FLEDGE_TASK_ROLE_ARN: 'arn:aws:iam::000000000000:role/fledge-task',
  FLEDGE_LOG_GROUP: '/fledge/environments',
  FLEDGE_BASE_DOMAIN: BASE_DOMAIN,
};
const specSchema = environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 });

export function spec(overrides: Record<string, unknown> = {}): EnvironmentSpec {
  return specSchema.parse({ image: 'ghcr.io/acme/web:1.0', labels: { repository: 'acme/web', branch: 'main' }, ...overrides });
}

const clone = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));

export interface World {
  fake: FakeAws;
  runner: WorkflowRunner;
  lambdaCalls: { functionArn: string; payload: unknown }[];
  /** a fault injected into a task Lambda: return an error to throw instead of running it */
  lambdaFault?: (functionArn: string, payload: { fallback?: boolean; workflow?: string }) => Error | undefined;
}

export class Harness {
  private db!: DynamoDbLocal;
  world!: World;
  private operationCounter = 0;

  async start(): Promise<void> {
    this.db = await startDynamoDbLocal();
    Object.assign(process.env, { TABLE_NAME: this.db.tableName, FLEDGE_DYNAMODB_ENDPOINT: this.db.endpoint, ...TASK_RUNTIME_ENVIRONMENT });
    resetConfig();
    resetClients();
  }

  async stop(): Promise<void> {
    await this.world?.runner.close();
    resetClients();
    await this.db?.stop();
  }

  /** A fresh fake AWS and runner (the table is shared: use a new environment name per test). */
  async reset(options: { timeoutOverrides?: Record<string, number> } = {}): Promise<World> {
    await this.world?.runner.close();
    const fake = new FakeAws();
    const lambdaCalls: World['lambdaCalls'] = [];
    const runner = createWorkflowRunner({
      substitutions: {
        TableName: this.db.tableName,
        ClusterArn: fake.clusterArn,
        ListenerArn: fake.listenerArn,
        VpcId: 'vpc-0123',
        PlanResourcesFunctionArn: FUNCTION('plan-resources'),
        AwaitSteadyStateFunctionArn: FUNCTION('await-steady-state'),
        CompleteOperationFunctionArn: FUNCTION('complete-operation'),
        FailOperationFunctionArn: FUNCTION('fail-operation'),
        DiscoverResourcesFunctionArn: FUNCTION('discover-resources'),
        FinishTeardownFunctionArn: FUNCTION('finish-teardown'),
        PlanScaleFunctionArn: FUNCTION('plan-scale'),
        CompleteScaleFunctionArn: FUNCTION('complete-scale'),
        WakerTargetGroupArn: fake.wakerTargetGroupArn,
      },
      callAws: fake.callAws,
      invokeLambda: async (functionArn, payload) => {
        lambdaCalls.push({ functionArn, payload });
        const fault = this.world?.lambdaFault?.(functionArn, payload as { fallback?: boolean });
        if (fault) throw fault;
        const handler = HANDLERS[functionArn];
        if (!handler) throw new Error(`no handler for ${functionArn}`);
        return clone(await handler(clone(payload), lambdaContext));
      },
      retryIntervalMs: 0,
      timeoutOverrides: options.timeoutOverrides,
      region: 'eu-west-1',
    });
    resetClients();
    useClients({ ecs: fake.ecs, elbv2: fake.elbv2, cloudwatch: fake.cloudwatch, sfn: runner.sfnClient });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    fake.onEvent = (event) => ecsServiceEvents(event as any, lambdaContext);
    this.world = { fake, runner, lambdaCalls };
    return this.world;
  }

  nextOperationId(): string {
    return `op-${++this.operationCounter}-${Math.random().toString(16).slice(2, 10)}`;
  }

  /** The environment item as the API writes it when it accepts a request and starts a workflow. */
  async seedEnvironment(
    name: string,
    s: EnvironmentSpec,
    options: { status?: string; specVersion?: number; type?: string; workflow?: WorkflowKind; count?: boolean } = {},
  ): Promise<WorkflowInput> {
    const now = new Date().toISOString();
    const status = options.status ?? 'CREATING';
    const operationId = this.nextOperationId();
    const specVersion = options.specVersion ?? 1;
    const workflow = options.workflow ?? 'create';
    const existing = await this.item(name);
    const item = {
      pk: `ENV#${name}`, sk: 'ENV', kind: 'ENVIRONMENT',
      ...(existing ?? {}),
      name, spec: s, specVersion, status,
      version: ((existing?.version as number | undefined) ?? 0) + 1,
      runningCount: (existing?.runningCount as number | undefined) ?? 0,
      createdAt: (existing?.createdAt as string | undefined) ?? now, updatedAt: now,
      expiresAt: new Date(Date.now() + 72 * 3_600_000).toISOString(),
      operation: {
        id: operationId, type: options.type ?? workflow, status: 'RUNNING', startedAt: now,
        executionName: `${name}--${operationId}`, workflow,
      },
      gsiAllPk: 'ENV', gsiStatusPk: `STATUS#${status}`,
      ...(s.labels.repository ? { gsiRepoPk: `REPO#${s.labels.repository}` } : {}),
      ...(status === 'DELETING' ? {} : { gsiExpiryPk: 'EXPIRY' }),
    };
    if (status === 'DELETING') delete (item as Record<string, unknown>).gsiExpiryPk;
    await dynamodbClient().send(new PutCommand({ TableName: process.env.TABLE_NAME, Item: item }));
    if (!existing && options.count !== false) {
      await dynamodbClient().send(
        new UpdateCommand({
          TableName: process.env.TABLE_NAME,
          Key: { pk: 'COUNTER#live', sk: 'COUNTER' },
          UpdateExpression: 'ADD #total :one, #repo :one',
          ExpressionAttributeNames: { '#total': 'total', '#repo': `repo#${s.labels.repository}` },
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    }
    return { name, operationId, specVersion, spec: s, actor: 'arn:aws:iam::000000000000:user/ci' };
  }

  /** What a PUT with a new spec does while an operation runs: a new desired spec, same operation. */
  async acceptNewSpec(name: string, s: EnvironmentSpec): Promise<number> {
    const result = await dynamodbClient().send(
      new UpdateCommand({
        TableName: process.env.TABLE_NAME,
        Key: { pk: `ENV#${name}`, sk: 'ENV' },
        UpdateExpression: 'SET #spec = :spec, specVersion = specVersion + :one, version = version + :one',
        ExpressionAttributeNames: { '#spec': 'spec' },
        ExpressionAttributeValues: { ':spec': s, ':one': 1 },
        ReturnValues: 'ALL_NEW',
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

  /** newest first */
  async events(name: string): Promise<{ type: string; message: string; details?: Record<string, unknown> }[]> {
    const { Items } = await dynamodbClient().send(
      new QueryCommand({
        TableName: process.env.TABLE_NAME,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :evt)',
        ExpressionAttributeValues: { ':pk': `ENV#${name}`, ':evt': 'EVT#' },
        ScanIndexForward: false,
      }),
    );
    return (Items ?? []) as { type: string; message: string; details?: Record<string, unknown> }[];
  }

  async run(kind: WorkflowKind, input: WorkflowInput): Promise<ExecutionRecord> {
    const started = await this.world.runner.startExecution(kind, `${input.name}--${input.operationId}`, input);
    return this.world.runner.waitForExecution(started.executionArn);
  }

  /** create an environment and wait until it runs */
  async created(name: string, s: EnvironmentSpec = spec()): Promise<ExecutionRecord> {
    const input = await this.seedEnvironment(name, s);
    const record = await this.run('create', input);
    if (record.status !== 'SUCCEEDED') throw new Error(`create of ${name} failed: ${record.error} ${record.cause}`);
    return record;
  }
}
