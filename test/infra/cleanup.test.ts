/**
 * The cleanup's infrastructure (infra/aws/cleanup.ts), synthesized on its own in a stack with
 * the real network and table constructs and the real handlers (not bundled: no test here looks
 * at a bundle; test/infra/synth-fledge.ts): the state
 * machine from statemachines/cleanup.asl.json, its role derived from the ASL, the
 * EventBridge Scheduler schedule, least-privilege task Lambdas, and cdk-nag.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, CLEANUP_FUNCTIONS } from '../../infra/aws/cleanup.ts';
import { ConfigError, readConfig } from '../../infra/aws/config.ts';
import { REPO_ROOT } from '../../infra/aws/lambda-function.ts';
import { Network } from '../../infra/aws/network.ts';
import { StateTable } from '../../infra/aws/state-table.ts';
import { aslCalls, UNSCOPABLE_ACTIONS } from '../../infra/aws/workflows.ts';
import { bundlingContext } from './synth-fledge.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation is untyped JSON
type Json = any;
interface Statement { Effect: string; Action: string | string[]; Resource: Json; Condition?: Json }
const asArray = <T,>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

let outdir: string;
let stack: Stack;
let cleanup: Cleanup;
let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'fledge-cleanup-cdk-'));
  const app = new App({ outdir, context: bundlingContext(false) });
  stack = new Stack(app, 'CleanupTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  const config = readConfig((key) => ({ cleanupRate: '30m', allowPinning: 'false' })[key as 'cleanupRate']);
  const network = new Network(stack, 'Network', { config, logRetention: logs.RetentionDays.ONE_MONTH, installationId: 'test' });
  const table = new StateTable(stack, 'State').table;
  const machine = (kind: string) => sfn.StateMachine.fromStateMachineArn(stack, `${kind}Machine`, `arn:aws:states:eu-west-1:123456789012:stateMachine:fledge-${kind}`);
  cleanup = new Cleanup(stack, 'Cleanup', {
    network,
    table,
    stateMachines: { create: machine('create'), update: machine('update'), teardown: machine('teardown'), heal: machine('heal') },
    environment: { TABLE_NAME: table.tableName, FLEDGE_ALLOW_PINNING: String(config.allowPinning) },
    rate: Duration.minutes(config.cleanupRateMinutes),
    logRetention: logs.RetentionDays.ONE_MONTH,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    stateMachineLogs: new logs.LogGroup(stack, 'MachineLogs', { logGroupName: '/aws/vendedlogs/states/cleanup-test' }),
  });
  // as FledgeStack does for the whole stack (Fledge pins Node.js 22)
  Validations.of(stack).acknowledge({ id: 'AwsSolutions-L1', reason: 'Fledge pins Node.js 22 for every function.' });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const idOf = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
function statementsOf(roleId: string): Statement[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && asArray(r.Properties.Roles).some((ref: Json) => ref?.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
}
const roleOf = (name: keyof typeof CLEANUP_FUNCTIONS) => idOf(cleanup.functions[name].role);
const actionsOf = (statements: Statement[]) => new Set(statements.flatMap((s) => asArray(s.Action)));

describe('the cleanup state machine', () => {
  it('is a Standard machine from statemachines/cleanup.asl.json, logging ALL without execution data, traced', () => {
    const machine = resources[idOf(cleanup.stateMachine)]!;
    expect(machine.Type).toBe('AWS::StepFunctions::StateMachine');
    expect(machine.Properties.StateMachineType).toBe('STANDARD');
    expect(Object.keys(machine.Properties.DefinitionSubstitutions).sort()).toEqual(Object.values(CLEANUP_FUNCTIONS).sort());
    expect(machine.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('may invoke exactly the Lambdas its ASL names, and call nothing else', () => {
    const calls = aslCalls(JSON.parse(readFileSync(`${REPO_ROOT}statemachines/cleanup.asl.json`, 'utf8')));
    expect(calls.actions).toEqual([]);
    expect(calls.functions.sort()).toEqual(Object.values(CLEANUP_FUNCTIONS).sort());
    const statements = statementsOf(idOf(cleanup.role));
    const invoke = statements.filter((s) => asArray(s.Action).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    const targets = new Set(asArray(invoke[0]!.Resource).map((r: Json) => JSON.stringify(r).match(/"(Cleanup[A-Za-z0-9]+)"/)?.[1]));
    expect([...targets].sort()).toEqual(Object.keys(CLEANUP_FUNCTIONS).map((name) => idOf(cleanup.functions[name as keyof typeof CLEANUP_FUNCTIONS].function)).sort());
    const others = [...actionsOf(statements)].filter((a) => a !== 'lambda:InvokeFunction');
    expect(others.every((a) => a.startsWith('logs:') || a.startsWith('xray:')), others.join()).toBe(true);
  });
});

describe('the schedule', () => {
  it('starts the machine at the operator rate (context cleanupRate) through its own role', () => {
    const schedules = template.findResources('AWS::Scheduler::Schedule');
    expect(Object.keys(schedules)).toHaveLength(1);
    const schedule = Object.values(schedules)[0]!;
    expect(schedule.Properties.ScheduleExpression).toBe('rate(30 minutes)');
    expect(schedule.Properties.State).toBe('ENABLED');
    expect(schedule.Properties.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(schedule.Properties.Target.Arn).toEqual({ Ref: idOf(cleanup.stateMachine) });
    expect(schedule.Properties.Target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 });
    const roleId = schedule.Properties.Target.RoleArn['Fn::GetAtt'][0] as string;
    expect(resources[roleId]!.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    const statements = statementsOf(roleId);
    expect([...actionsOf(statements)]).toEqual(['states:StartExecution']);
    expect(statements.flatMap((s) => asArray(s.Resource))).toEqual([{ Ref: idOf(cleanup.stateMachine) }]);
  });

  it('defaults to every 15 minutes; rejects rates outside 1m-24h', () => {
    expect(readConfig(() => undefined)).toMatchObject({ cleanupRateMinutes: 15, allowPinning: true });
    expect(readConfig((k) => (k === 'cleanupRate' ? '2h' : undefined)).cleanupRateMinutes).toBe(120);
    expect(() => readConfig((k) => (k === 'cleanupRate' ? '30s' : undefined))).toThrow(ConfigError);
    expect(() => readConfig((k) => (k === 'cleanupRate' ? '2d' : undefined))).toThrow(ConfigError);
    expect(() => readConfig((k) => (k === 'allowPinning' ? 'maybe' : undefined))).toThrow(ConfigError);
  });

  it('collects unused shared task definitions after 24 h by default (context taskDefinitionGrace, 1h-30d)', () => {
    expect(readConfig(() => undefined).taskDefinitionGrace).toBe('24h');
    expect(readConfig((k) => (k === 'taskDefinitionGrace' ? '7d' : undefined)).taskDefinitionGrace).toBe('7d');
    for (const bad of ['30m', '31d', 'a day', '2w']) {
      expect(() => readConfig((k) => (k === 'taskDefinitionGrace' ? bad : undefined)), bad).toThrow(/taskDefinitionGrace/);
    }
  });
});

describe('the cleanup Lambdas', () => {
  it('get the operator settings (pinning forbidden here by context allowPinning=false)', () => {
    for (const name of Object.keys(CLEANUP_FUNCTIONS) as (keyof typeof CLEANUP_FUNCTIONS)[]) {
      const fn = resources[idOf(cleanup.functions[name].function)]!;
      expect(fn.Properties.Environment.Variables.FLEDGE_ALLOW_PINNING, name).toBe('false');
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
    }
  });

  it('plan-cleanup only reads the table', () => {
    const actions = [...actionsOf(statementsOf(roleOf('plan-cleanup')))].filter((a) => !a.startsWith('logs:') && !['xray:PutTraceSegments', 'xray:PutTelemetryRecords'].includes(a)); // its own logs and traces
    expect(actions.every((a) => /^dynamodb:(BatchGet|Get|Query|Scan|ConditionCheck|Describe)/.test(a)), actions.join()).toBe(true);
    expect(actions).toContain('dynamodb:Query');
  });

  it('cleanup-environment may start only the teardown workflow, and describe or stop workflow executions', () => {
    const statements = statementsOf(roleOf('cleanup-environment'));
    const start = statements.filter((s) => asArray(s.Action).includes('states:StartExecution'));
    expect(start.flatMap((s) => asArray(s.Resource))).toEqual(['arn:aws:states:eu-west-1:123456789012:stateMachine:fledge-teardown']);
    const execution = statements.filter((s) => asArray(s.Action).includes('states:StopExecution'));
    expect(execution.flatMap((s) => asArray(s.Action)).sort()).toEqual(expect.arrayContaining(['states:DescribeExecution', 'states:StopExecution']));
    for (const r of execution.flatMap((s) => asArray(s.Resource))) expect(JSON.stringify(r)).toMatch(/:execution:fledge-(create|update|teardown|heal):\*/);
  });

  it('reconcile-orphans deletes only cluster services, target groups, listener rules, fledge-* alarms and task definitions', () => {
    const statements = statementsOf(roleOf('reconcile-orphans'));
    const star = statements.filter((s) => asArray(s.Resource).includes('*'));
    for (const s of star) {
      for (const a of asArray(s.Action)) expect(UNSCOPABLE_ACTIONS as readonly string[], a).toContain(a);
      if (asArray(s.Action).includes('ecs:ListServices')) expect(s.Condition?.ArnEquals?.['ecs:cluster']).toBeDefined();
    }
    const deletes = statements.flatMap((s) => asArray(s.Action).filter((a) => /:Delete|:Deregister/.test(a)).map((a) => [a, JSON.stringify(s.Resource)]));
    const scope = Object.fromEntries(deletes);
    expect(scope['ecs:DeleteService']).toMatch(/service\//);
    expect(scope['elasticloadbalancing:DeleteTargetGroup']).toMatch(/targetgroup\/\*\/\*/);
    expect(scope['elasticloadbalancing:DeleteRule']).toMatch(/listener-rule\//);
    expect(scope['cloudwatch:DeleteAlarms']).toMatch(/alarm:fledge-\*/);
    // task definitions have no resource-level permissions: ownership is checked in code (tag and execution role)
    expect(scope['ecs:DeleteTaskDefinitions']).toMatch(/^\[?"\*"\]?$/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports nothing unacknowledged for the cleanup', () => {
    const report = new AwsSolutionsChecks().validateScope(cleanup);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});
