/**
 * The scheduled cleanup: its task Lambdas, the Standard state machine loaded from
 * `statemachines/cleanup.asl.json`, and the EventBridge Scheduler schedule that starts it
 * every `cleanupRate` (context, default 15 minutes).
 *
 * Unlike the create/update/teardown task Lambdas, the cleanup's Lambdas act through the
 * domain commands (a DELETE starts the teardown workflow), so they get the workflow state
 * machine ARNs: dependency direction schedule -> cleanup machine -> cleanup Lambdas ->
 * workflow machines -> workflow task Lambdas, no cycle.
 *
 * IAM: the state machine role comes from its ASL (`aslCalls`): it only invokes the Lambdas
 * the ASL names. Each Lambda gets what its code calls, resource-scoped where AWS allows:
 * - plan-cleanup: reads the table's indexes;
 * - cleanup-environment: the table, StartExecution of the teardown machine, Describe/Stop
 *   of the workflow executions (a DELETE stops a running operation; lost ones are described);
 * - reconcile-orphans: lists and reads tags of the cluster's services, target groups, the
 *   listener's rules, `fledge-*` alarms and task definitions, and deletes those resources
 *   (services of the cluster, target groups, rules of every shard's listener, alarms `fledge-*`,
 *   and with per-environment DNS the alias records in the operator's hosted zone);
 * - heal-missed-alarms: DescribeAlarms (no resource-level permission), the table, and
 *   StartExecution of the heal machine (an alarm in ALARM whose event started no heal);
 * - report-cleanup: nothing beyond its logs and the pool item (its wrapper loads the pool:
 *   FLEDGE_SHARD_POOL=table, infra/aws/shards.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type FledgeFunction, REPO_ROOT } from './lambda-function.ts';
import { acknowledgeWildcards, type WildcardReason } from './nag.ts';
import type { Network } from './network.ts';
import { grantReadShardPool } from './shards.ts';
import { functionArnSubstitution, WORKFLOWS } from '#contract/workflows.ts';
import { aslCalls, listenerRulePattern, taskFunctions, UNSCOPABLE_ACTIONS } from './workflows.ts';

/** Cleanup task Lambdas: file name under functions/tasks/ -> the ASL substitution that carries its ARN. */
export type CleanupFunctionName = (typeof WORKFLOWS)['cleanup']['taskLambdas'][number];
export const CLEANUP_FUNCTIONS = Object.fromEntries(
  WORKFLOWS.cleanup.taskLambdas.map((name) => [name, functionArnSubstitution(name)]),
) as Record<CleanupFunctionName, string>;

export interface CleanupProps {
  network: Network;
  table: dynamodb.ITable;
  /** the workflow machines: the teardown is started, every execution may be described or stopped */
  stateMachines: { teardown: sfn.IStateMachine; heal: sfn.IStateMachine } & Record<string, sfn.IStateMachine>;
  /** environment of the cleanup Lambdas (with the workflow state machine ARNs) */
  environment: Record<string, string>;
  /** how often the schedule starts a run */
  rate: Duration;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
  /** where the state machine logs (the workflows' vended log group) */
  stateMachineLogs: logs.ILogGroup;
  /** the operator's hosted zone when environments get their own DNS records: the orphan sweep removes theirs */
  hostedZoneArn?: string;
  sourceRoot?: string;
}

export class Cleanup extends Construct {
  readonly functions: Record<CleanupFunctionName, FledgeFunction>;
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: scheduler.Schedule;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: CleanupProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const root = props.sourceRoot ?? REPO_ROOT;
    const { network, table } = props;

    // the orphan reconciliation stops starting new environments after 150 s
    const timeout = (name: CleanupFunctionName) => (name === 'reconcile-orphans' ? Duration.minutes(5) : undefined);
    this.functions = taskFunctions(this, Object.keys(CLEANUP_FUNCTIONS) as CleanupFunctionName[], props, 'cleanup', timeout);
    const fn = this.functions;

    // plan-cleanup: queries of the expiry and status indexes
    table.grantReadData(fn['plan-cleanup'].role);
    grantReadShardPool(fn['report-cleanup'].role, table);

    // cleanup-environment: the DELETE path (records, events, counters) and the workflows
    table.grantReadWriteData(fn['cleanup-environment'].role);
    props.stateMachines.teardown.grantStartExecution(fn['cleanup-environment'].role);
    for (const machine of Object.values(props.stateMachines)) {
      machine.grantExecution(fn['cleanup-environment'].role, 'states:DescribeExecution', 'states:StopExecution');
    }

    // heal-missed-alarms: alarms in ALARM that started no heal start one
    const missed = fn['heal-missed-alarms'].role;
    table.grantReadWriteData(missed);
    props.stateMachines.heal.grantStartExecution(missed);
    missed.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadAlarmStates', actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }));

    // reconcile-orphans: find and remove what is tagged fledge:environment but not tracked
    const orphans = fn['reconcile-orphans'].role;
    table.grantReadWriteData(orphans); // records (BatchGet) and the orphans-removed events
    const arn = (service: string, resource: string) => `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
    const statements: iam.PolicyStatement[] = [
      new iam.PolicyStatement({
        sid: 'ListClusterServices',
        // ListServices has no resource type; the ecs:cluster condition scopes it
        actions: ['ecs:ListServices'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': network.cluster.clusterArn } },
      }),
      new iam.PolicyStatement({
        sid: 'ReadAndDeleteClusterServices',
        actions: ['ecs:DescribeServices', 'ecs:ListTagsForResource', 'ecs:DeleteService'],
        resources: [network.serviceArnPattern()],
      }),
      new iam.PolicyStatement({
        sid: 'ReadTaskDefinitionTags',
        actions: ['ecs:ListTagsForResource'],
        resources: [arn('ecs', 'task-definition/fledge-*:*')],
      }),
      new iam.PolicyStatement({
        sid: 'DeleteEnvironmentLoadBalancing',
        actions: ['elasticloadbalancing:DeleteTargetGroup'],
        resources: [arn('elasticloadbalancing', 'targetgroup/*/*')],
      }),
      new iam.PolicyStatement({
        sid: 'DeleteListenerRules',
        actions: ['elasticloadbalancing:DeleteRule'],
        // the rules of every shard's listener
        resources: network.listeners.map((listener) => listenerRulePattern(listener.listenerArn)),
      }),
      // the alias records of environments that are gone (per-environment DNS only)
      ...(props.hostedZoneArn
        ? [new iam.PolicyStatement({ sid: 'SweepDnsRecords', actions: ['route53:ListResourceRecordSets', 'route53:ChangeResourceRecordSets'], resources: [props.hostedZoneArn] })]
        : []),
      new iam.PolicyStatement({
        sid: 'ReadAndDeleteEnvironmentAlarms',
        actions: ['cloudwatch:ListTagsForResource', 'cloudwatch:DeleteAlarms'],
        resources: [arn('cloudwatch', 'alarm:fledge-*')],
      }),
      new iam.PolicyStatement({
        sid: 'Unscopable',
        // no resource-level permissions exist for these (AWS accepts only "*")
        actions: [
          'ecs:ListTaskDefinitionFamilies',
          'ecs:ListTaskDefinitions',
          'ecs:DescribeTaskDefinition',
          'ecs:DeregisterTaskDefinition',
          'ecs:DeleteTaskDefinitions',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeRules',
          'elasticloadbalancing:DescribeTags',
          'cloudwatch:DescribeAlarms',
        ],
        resources: ['*'],
      }),
    ];
    for (const statement of statements) orphans.addToPrincipalPolicy(statement);

    // ------------------------------------------------------------ the state machine
    const file = join(root, 'statemachines', WORKFLOWS.cleanup.asl);
    const calls = aslCalls(JSON.parse(readFileSync(file, 'utf8')));
    if (calls.actions.length > 0) {
      throw new Error(`statemachines/cleanup.asl.json calls ${calls.actions.join(', ')}; infra/aws/cleanup.ts grants the cleanup machine Lambda invocations only`);
    }
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('states.amazonaws.com'), description: 'Fledge cleanup workflow' });
    const substitutions: Record<string, string> = {};
    for (const [name, key] of Object.entries(CLEANUP_FUNCTIONS)) substitutions[key] = fn[name as CleanupFunctionName].function.functionArn;
    const invoked = calls.functions.map((key) => {
      const entry = Object.entries(CLEANUP_FUNCTIONS).find(([, k]) => k === key);
      if (!entry) throw new Error(`statemachines/cleanup.asl.json references unknown \${${key}}`);
      return fn[entry[0] as CleanupFunctionName].function;
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeTasks',
        actions: ['lambda:InvokeFunction'],
        resources: invoked.flatMap((f) => [f.functionArn, `${f.functionArn}:*`]),
      }),
    );
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(file),
      definitionSubstitutions: substitutions,
      role: this.role,
      comment: 'Fledge cleanup workflow (statemachines/cleanup.asl.json)',
      tracingEnabled: true,
      logs: { destination: props.stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      timeout: Duration.minutes(30),
    });

    // ------------------------------------------------------------ the schedule
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Fledge cleanup: expired environments, lost operations, orphaned resources (every ${props.rate.toHumanString()})`,
      schedule: scheduler.ScheduleExpression.rate(props.rate),
      target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({}),
        // a missed run is made up by the next one: no dead-letter queue, a short event age
        retryAttempts: 3,
        maxEventAge: Duration.minutes(10),
      }),
    });

    this.acknowledgeWildcards(network);
  }

  private acknowledgeWildcards(network: Network): void {
    const region = '(<AWS::Region>|[a-z0-9-]+)';
    const account = '(<AWS::AccountId>|\\d{12})';
    const common: WildcardReason[] = [
      { match: /^\*$/, why: 'AWS offers no resource-level permissions for these actions (ecs:ListServices is narrowed to the Fledge cluster by the ecs:cluster condition).' },
      { match: /^<.*Table.*\.Arn>\/index\/\*$/, why: 'The global secondary indexes of the Fledge table only (the expiry and status indexes).' },
      { match: new RegExp(`:ecs:${region}:${account}:service\\/<.*Cluster.*>\\/\\*$`), why: 'Services of the Fledge cluster only; each is named after an environment, known at run time.' },
      { match: new RegExp(`:ecs:${region}:${account}:task-definition\\/fledge-\\*:\\*$`), why: 'Fledge task definition families (fledge-<environment>) and their revisions only.' },
      { match: new RegExp(`:elasticloadbalancing:${region}:${account}:targetgroup\\/\\*\\/\\*$`), why: 'Target groups are named after environments, known at run time; only those tagged fledge:environment for an environment that no longer exists are deleted.' },
      { match: /:listener-rule\/.*\/\*$/, why: 'Rules of the shared Fledge listener only.' },
      { match: new RegExp(`:cloudwatch:${region}:${account}:alarm:fledge-\\*$`), why: 'Per-environment alarms, all named fledge-*.' },
      { match: /:states:.*:execution:.+:\*$/, why: 'Executions of the Fledge workflow state machines only (execution names are per operation): a cleanup DELETE stops a running one, a lost one is described.' },
    ];
    void network;
    for (const f of Object.values(this.functions)) acknowledgeWildcards(f.role, common, UNSCOPABLE_ACTIONS);
    acknowledgeWildcards(
      this.role,
      [
        { match: /^\*$/, why: 'The X-Ray and CloudWatch Logs vended-delivery calls Step Functions tracing and logging need; AWS offers no resource-level permissions for them.' },
        { match: /^<Cleanup.*\.Arn>:\*$/, why: 'Versions and aliases of the cleanup task Lambdas this state machine invokes.' },
      ],
      UNSCOPABLE_ACTIONS,
    );
  }
}
