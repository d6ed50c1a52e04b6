/**
 * The AWS of the API handler tests (test/unit/api): DynamoDB (document client) and Step
 * Functions mocked with aws-sdk-client-mock, made fresh before each test.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, onTestFinished } from 'vitest';
import { resetClients } from '../../functions/adapters/aws-clients.ts';
import type { EnvironmentRecord } from '../../functions/domain/environment.ts';
import { resetConfig } from '../../functions/runtime/config.ts';
import { item } from './records.ts';
import { arnVariable, STARTED_WORKFLOW_KINDS, type StartedWorkflowKind } from '../../functions/contract/workflows.ts';

export const TEST_ACCOUNT = '123456789012';

/** The workflows the API starts, each with its state machine ARN in the environment. */

export const stateMachineArn = (workflow: StartedWorkflowKind) => `arn:aws:states:eu-west-1:${TEST_ACCOUNT}:stateMachine:fledge-${workflow}`;

/**
 * Call once at the top of a test file, before its own `beforeEach` (which then runs after this
 * one and can change the environment or the answers). Before each test: both mocks reset, the
 * SDK clients and every configuration the API reads dropped (they are read again, lazily, from
 * the environment), `TABLE_NAME` and every workflow's state machine ARN set, and the default
 * answers: no environment (GetItem finds nothing), empty queries, writes that succeed,
 * executions that start.
 */
export function mockApiAws() {
  const dynamodb = mockClient(DynamoDBDocumentClient);
  const sfn = mockClient(SFNClient);

  beforeEach(() => {
    dynamodb.reset();
    sfn.reset();
    resetClients();
    resetConfig();
    process.env.TABLE_NAME = 'fledge';
    // the API renders a spec's task definition to check its size (runtimeConfig: the CDK gives the API these too)
    Object.assign(process.env, {
      FLEDGE_INSTALLATION_ID: 'test', FLEDGE_CLUSTER_ARN: 'arn:aws:ecs:eu-west-1:123456789012:cluster/fledge',
      FLEDGE_LISTENER_ARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/fledge/0123456789abcdef/0123456789abcdef',
      FLEDGE_SUBNET_IDS: 'subnet-a', FLEDGE_SECURITY_GROUP_IDS: 'sg-1', FLEDGE_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/exec',
      FLEDGE_TASK_ROLE_ARN: 'arn:aws:iam::123456789012:role/task', FLEDGE_LOG_GROUP: '/fledge/environments', FLEDGE_BASE_DOMAIN: 'preview.example.com',
      AWS_REGION: process.env.AWS_REGION ?? 'eu-west-1',
    });
    for (const workflow of STARTED_WORKFLOW_KINDS) process.env[arnVariable(workflow)] = stateMachineArn(workflow);
    dynamodb.on(GetCommand).resolves({});
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    dynamodb.on(TransactWriteCommand).resolves({});
    dynamodb.on(PutCommand).resolves({});
    sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn}:${input.name}` }));
  });

  /** GetItem of the environment `name` answers this record (undefined: no such environment). */
  const stored = (r: EnvironmentRecord | undefined, name = r?.name ?? 'pr-1') => {
    dynamodb.on(GetCommand, { Key: { pk: `ENV#${name}`, sk: 'ENV' } }).resolves({ Item: r && item(r) });
  };

  return { dynamodb, sfn, stored };
}

/** Sets one variable of the API's environment for the rest of the running test (the configuration is read again), and removes it when the test ends. */
export function setApiEnvForTest(name: string, value: string): void {
  process.env[name] = value;
  resetConfig();
  onTestFinished(() => {
    delete process.env[name];
    resetConfig();
  });
}
