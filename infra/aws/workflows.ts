/**
 * The workflows: the task Lambdas the state machines invoke, the Standard state machines that
 * functions/ starts (functions/contract/workflows.ts) loaded from `statemachines/*.asl.json`, and the
 * EventBridge rule that feeds ECS service events to `functions/events/ecs-service-events.ts`
 * (which completes the `waitForTaskToken` step of `await-steady-state`).
 *
 * Each state machine's role is derived from its own ASL: every `aws-sdk:<service>:<action>`
 * and optimised integration it calls is looked up in `ACTION_SCOPES` below, which says how
 * AWS lets that action be scoped. An action the table does not know fails the synth, so a
 * new ASL call cannot ship without a deliberate IAM decision.
 *
 * Dependency direction (no cycles): state machines -> task Lambdas; API Lambdas and the event
 * Lambda -> state machines. Task Lambdas never reference a state machine in their environment;
 * the one that answers task tokens gets `states:SendTask*` from a separate policy the
 * function does not depend on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Fn, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  functionArnSubstitution,
  STARTED_WORKFLOW_KINDS,
  type StartedWorkflowKind,
  type TaskLambdaName,
  WORKFLOWS as WORKFLOW_REGISTRY,
} from '#contract/workflows.ts';
import { type FledgeFunction, type FledgeFunctionProps, REPO_ROOT, type SharedFunctionProps, sharedFunction } from './lambda-function.ts';
import { RuleTargetFunction } from './rule-target-function.ts';
import type { Network } from './network.ts';
import { grantReadShardPool } from './shards.ts';

/** The state machines this construct makes (the cleanup's is infra/aws/cleanup.ts's): those functions/ starts. */
export const WORKFLOWS = STARTED_WORKFLOW_KINDS;
export type WorkflowName = StartedWorkflowKind;

/** Their task Lambdas: file name under functions/tasks/ -> the ASL substitution that carries its ARN. */
export type TaskFunctionName = (typeof WORKFLOW_REGISTRY)[WorkflowName]['taskLambdas'][number];
export const TASK_FUNCTIONS = Object.fromEntries(
  WORKFLOWS.flatMap((kind) => WORKFLOW_REGISTRY[kind].taskLambdas).map((name) => [name, functionArnSubstitution(name)]),
) as Record<TaskFunctionName, string>;

/**
 * What each task Lambda touches (from the adapters it imports): the table, and read access to
 * the ECS/ELB resources of environments (`grantObserveEnvironments`).
 */
const TASK_PERMISSIONS: Record<TaskFunctionName, { table: boolean; observe: boolean }> = {
  'plan-resources': { table: true, observe: true }, // allocates the listener priority, records the plan; describes the shared task definition (create) and the target group (update)
  'await-steady-state': { table: true, observe: true }, // stores the wait token, describes the service
  'complete-operation': { table: true, observe: true }, // describes the service and stopped tasks
  'fail-operation': { table: true, observe: true }, // stopped tasks give the failure reason
  'discover-resources': { table: false, observe: true }, // finds what teardown must remove
  'finish-teardown': { table: true, observe: true }, // waits until the service is INACTIVE, marks the record DELETED
  'plan-scale': { table: true, observe: true }, // describes service, task definition, target group and rule; records the plan
  'complete-scale': { table: true, observe: true }, // describes the service and stopped tasks; records RUNNING/SLEEPING
  'inspect-environment': { table: true, observe: true }, // describes service, target group, rule, target health, alarms; records the attempt
  'finish-heal': { table: true, observe: true }, // stopped tasks give the failure reason; records the end of the heal
  'degrade-environment': { table: true, observe: true }, // stopped tasks give the reason; records DEGRADED
  'recheck-dns-record': { table: false, observe: false }, // reads the records of the name when Route 53 refused the create's CREATE (route53:ListResourceRecordSets, below)
  'record-hook-run': { table: true, observe: true }, // records a hook run's event and task-seconds; lists and describes the hook tasks to stop one whose state timed out
};

/** Task Lambdas that answer Step Functions task tokens themselves (an already-steady service). */
const TOKEN_ANSWERING_TASKS: readonly TaskFunctionName[] = ['await-steady-state'];

export const ECS_EVENT_DETAIL_TYPES = ['ECS Service Action', 'ECS Deployment State Change'];

/**
 * IAM actions AWS only accepts with `Resource: "*"` (no resource-level permissions), used by
 * Fledge's roles. Tests allow `*` for exactly these and nothing else.
 */
export const UNSCOPABLE_ACTIONS = [
  'ecs:RegisterTaskDefinition',
  'ecs:DeregisterTaskDefinition',
  'ecs:DeleteTaskDefinitions',
  'ecs:DescribeTaskDefinition',
  'ecs:ListTaskDefinitions',
  'ecs:ListTaskDefinitionFamilies', // the cleanup finds fledge-* families (a prefix only this call takes)
  'ecs:ListServices', // scoped to the cluster by the ecs:cluster condition
  'ecs:ListTasks', // scoped to the cluster by the ecs:cluster condition
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeTargetHealth',
  'elasticloadbalancing:DescribeRules',
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeLoadBalancers',
  'elasticloadbalancing:DescribeTags',
  'elasticloadbalancing:DescribeTargetGroupAttributes',
  'application-autoscaling:RegisterScalableTarget',
  'application-autoscaling:DeregisterScalableTarget',
  'application-autoscaling:PutScalingPolicy',
  'application-autoscaling:DeleteScalingPolicy',
  'application-autoscaling:DescribeScalableTargets',
  'application-autoscaling:DescribeScalingPolicies',
  'cloudwatch:DescribeAlarms',
  'cloudwatch:GetMetricData', // idle sleep reads ALB request counts
  'ecr:GetAuthorizationToken',
  // Step Functions: vended log delivery and X-Ray (added by CDK for logging and tracing).
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
] as const;

interface Scope {
  /** resource ARNs; `*` only for actions in UNSCOPABLE_ACTIONS */
  resources: string[];
  conditions?: Record<string, Record<string, unknown>>;
}

/** Everything ACTION_SCOPES needs to know about the deployment. */
interface ScopeContext {
  partition: string;
  region: string;
  account: string;
  clusterArn: string;
  servicePattern: string;
  taskPattern: string;
  taskDefinitionPattern: string;
  /** every shard's listener, and the patterns of their rules */
  listenerArns: string[];
  listenerRulePatterns: string[];
  targetGroupPattern: string;
  /** the operator's hosted zone, only when environments get their own DNS records (infra/aws/shards.ts perEnvironmentDns) */
  hostedZoneArn?: string;
  alarmPattern: string;
  notificationTopicArns: string[];
  tableArns: string[];
  passRoleArns: string[];
}

const UNSCOPED: Scope = { resources: ['*'] };
/** Granted nothing: the states that call it are skipped in this installation (Route 53 without per-environment DNS). */
const NOT_GRANTED: Scope = { resources: [] };

/** `TargetTracking-service/<cluster>/<service>-AlarmHigh-<id>`: the alarms of ECS target-tracking policies. */
function targetTrackingAlarms(c: ScopeContext): string {
  return `arn:${c.partition}:cloudwatch:${c.region}:${c.account}:alarm:TargetTracking-service/*`;
}

/** The EventBridge rule Step Functions manages for `ecs:runTask.sync`. */
function ecsSyncRule(c: ScopeContext): string {
  return `arn:${c.partition}:events:${c.region}:${c.account}:rule/StepFunctionsGetEventsForECSTaskRule`;
}

/** IAM action -> how Fledge's state machines may use it. */
function actionScopes(c: ScopeContext): Record<string, Scope> {
  const inCluster: Scope = { resources: ['*'], conditions: { ArnEquals: { 'ecs:cluster': c.clusterArn } } };
  const services: Scope = { resources: [c.servicePattern] };
  const targetGroups: Scope = { resources: [c.targetGroupPattern] };
  const rules: Scope = { resources: c.listenerRulePatterns };
  // Route 53 resources are global: arn:aws:route53:::hostedzone/<id> and arn:aws:route53:::change/<id>
  // (Route 53 Developer Guide, "Actions, resources, and condition keys for Amazon Route 53")
  const zone: Scope = c.hostedZoneArn ? { resources: [c.hostedZoneArn] } : NOT_GRANTED;
  const table: Scope = { resources: c.tableArns };
  return {
    'ecs:RegisterTaskDefinition': UNSCOPED,
    'ecs:DeregisterTaskDefinition': UNSCOPED,
    'ecs:DeleteTaskDefinitions': UNSCOPED,
    'ecs:DescribeTaskDefinition': UNSCOPED,
    'ecs:ListTaskDefinitions': UNSCOPED,
    'ecs:CreateService': services,
    'ecs:UpdateService': services,
    'ecs:DeleteService': services,
    'ecs:DescribeServices': services,
    'ecs:ListServices': inCluster,
    'ecs:ListTasks': inCluster,
    'ecs:DescribeTasks': { resources: [c.taskPattern] },
    'ecs:StopTask': { resources: [c.taskPattern] },
    // a hook's one-off task: only revisions of Fledge's families, only in the installation's cluster
    'ecs:RunTask': { resources: [c.taskDefinitionPattern], conditions: { ArnEquals: { 'ecs:cluster': c.clusterArn } } },
    'ecs:TagResource': { resources: [c.servicePattern, c.taskDefinitionPattern, c.taskPattern] },
    // the managed rule through which Step Functions learns that a .sync task stopped ("IAM policies for Amazon ECS/AWS Fargate")
    'events:PutTargets': { resources: [ecsSyncRule(c)] },
    'events:PutRule': { resources: [ecsSyncRule(c)] },
    'events:DescribeRule': { resources: [ecsSyncRule(c)] },
    'ecs:ListTagsForResource': { resources: [c.servicePattern, c.taskDefinitionPattern] },
    'elasticloadbalancing:CreateTargetGroup': targetGroups,
    'elasticloadbalancing:DeleteTargetGroup': targetGroups,
    'elasticloadbalancing:ModifyTargetGroup': targetGroups,
    'elasticloadbalancing:ModifyTargetGroupAttributes': targetGroups,
    'elasticloadbalancing:CreateRule': { resources: c.listenerArns },
    'elasticloadbalancing:DeleteRule': rules,
    'elasticloadbalancing:ModifyRule': rules,
    'elasticloadbalancing:SetRulePriorities': rules,
    'elasticloadbalancing:AddTags': { resources: [c.targetGroupPattern, ...c.listenerRulePatterns] },
    'elasticloadbalancing:DescribeTargetGroups': UNSCOPED,
    'elasticloadbalancing:DescribeTargetHealth': UNSCOPED,
    'elasticloadbalancing:DescribeRules': UNSCOPED,
    'elasticloadbalancing:DescribeListeners': UNSCOPED,
    'elasticloadbalancing:DescribeTags': UNSCOPED,
    'elasticloadbalancing:DescribeTargetGroupAttributes': UNSCOPED,
    'application-autoscaling:RegisterScalableTarget': UNSCOPED,
    'application-autoscaling:DeregisterScalableTarget': UNSCOPED,
    'application-autoscaling:PutScalingPolicy': UNSCOPED,
    'application-autoscaling:DeleteScalingPolicy': UNSCOPED,
    'application-autoscaling:DescribeScalableTargets': UNSCOPED,
    'application-autoscaling:DescribeScalingPolicies': UNSCOPED,
    'application-autoscaling:TagResource': { resources: [`arn:${c.partition}:application-autoscaling:${c.region}:${c.account}:scalable-target/*`] },
    // the first RegisterScalableTarget of an account creates Application Auto Scaling's ECS service-linked role
    'iam:CreateServiceLinkedRole': {
      resources: [`arn:${c.partition}:iam::${c.account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`],
      conditions: { StringLike: { 'iam:AWSServiceName': 'ecs.application-autoscaling.amazonaws.com' } },
    },
    // per-environment alarms (fledge-*) and the target-tracking alarms Application Auto Scaling makes for ECS services
    'cloudwatch:PutMetricAlarm': { resources: [c.alarmPattern, targetTrackingAlarms(c)] },
    'cloudwatch:DeleteAlarms': { resources: [c.alarmPattern, targetTrackingAlarms(c)] },
    'cloudwatch:TagResource': { resources: [c.alarmPattern] },
    // the heal sets the environment's alarms back to OK when it ends, so a persisting fault alarms again
    'cloudwatch:SetAlarmState': { resources: [c.alarmPattern] },
    'cloudwatch:DescribeAlarms': UNSCOPED,
    'sns:Publish': { resources: c.notificationTopicArns },
    'dynamodb:GetItem': table,
    'dynamodb:PutItem': table,
    'dynamodb:UpdateItem': table,
    'dynamodb:DeleteItem': table,
    'dynamodb:Query': table,
    // the per-environment alias records (skipped by a Choice without `$.dns`: granted only with them)
    'route53:ChangeResourceRecordSets': zone,
    'route53:ListResourceRecordSets': zone,
    'route53:GetChange': c.hostedZoneArn ? { resources: [`arn:${c.partition}:route53:::change/*`] } : NOT_GRANTED,
  };
}

/** Actions a call implies (tagging on create, passing the task roles). */
const IMPLIED_ACTIONS: Record<string, string[]> = {
  'ecs:RegisterTaskDefinition': ['ecs:TagResource', 'iam:PassRole'],
  'ecs:CreateService': ['ecs:TagResource'],
  // RunTask passes the definition's roles to ECS and tags the task it starts
  'ecs:RunTask': ['iam:PassRole', 'ecs:TagResource'],
  'elasticloadbalancing:CreateTargetGroup': ['elasticloadbalancing:AddTags'],
  'elasticloadbalancing:CreateRule': ['elasticloadbalancing:AddTags'],
  'cloudwatch:PutMetricAlarm': ['cloudwatch:TagResource'],
  // Application Auto Scaling checks that its caller may do what it will do on its behalf
  'application-autoscaling:RegisterScalableTarget': ['iam:CreateServiceLinkedRole', 'application-autoscaling:TagResource', 'ecs:DescribeServices', 'ecs:UpdateService'],
  'application-autoscaling:PutScalingPolicy': ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:DeleteAlarms'],
  'application-autoscaling:DeregisterScalableTarget': ['cloudwatch:DeleteAlarms'],
};

/** `aws-sdk:<service>` integration names -> IAM service prefixes. */
const SDK_SERVICE_PREFIX: Record<string, string> = {
  ecs: 'ecs',
  elasticloadbalancingv2: 'elasticloadbalancing',
  applicationautoscaling: 'application-autoscaling',
  cloudwatch: 'cloudwatch',
  dynamodb: 'dynamodb',
  sns: 'sns',
  route53: 'route53',
};

/**
 * Optimised ECS integrations. `.sync` ("Run a Job") also needs what Step Functions does to wait
 * for the task and stop it (on a timeout or a stopped execution): ecs:DescribeTasks, ecs:StopTask
 * and its managed EventBridge rule ("IAM policies for Amazon ECS/AWS Fargate",
 * https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html).
 */
const ECS_INTEGRATIONS: Record<string, { action: string; sync: string[] }> = {
  runTask: { action: 'ecs:RunTask', sync: ['ecs:DescribeTasks', 'ecs:StopTask', 'events:PutTargets', 'events:PutRule', 'events:DescribeRule'] },
};

/** Optimised DynamoDB integrations (`arn:aws:states:::dynamodb:<action>`). */
const DYNAMODB_INTEGRATIONS: Record<string, string> = {
  getItem: 'dynamodb:GetItem',
  putItem: 'dynamodb:PutItem',
  updateItem: 'dynamodb:UpdateItem',
  deleteItem: 'dynamodb:DeleteItem',
};

export interface AslCalls {
  /** IAM actions the ASL's service integrations need, e.g. `ecs:CreateService` */
  actions: string[];
  /** substitution names (`PlanResourcesFunctionArn`) of the Lambdas it invokes */
  functions: string[];
}

/** What a state machine definition calls: walks every state, branch and map iterator. */
export function aslCalls(definition: unknown): AslCalls {
  const actions = new Set<string>();
  const functions = new Set<string>();
  const substitution = (value: unknown) => {
    const match = typeof value === 'string' ? /^\$\{(\w+FunctionArn)\}/.exec(value) : null;
    if (match?.[1]) functions.add(match[1]);
    return Boolean(match);
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const state = node as Record<string, unknown>;
    if (state.Type === 'Task' && typeof state.Resource === 'string') {
      const resource = state.Resource.replace(/\.(waitForTaskToken|sync(:2)?)$/, '');
      const parameters = (state.Parameters ?? state.Arguments ?? {}) as Record<string, unknown>;
      const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([a-zA-Z0-9]+)$/.exec(resource);
      const optimised = /^arn:aws:states:::([a-z]+):([a-zA-Z]+)$/.exec(resource);
      if (substitution(resource)) {
        // a Lambda ARN as the Resource
      } else if (sdk) {
        const [, service = '', action = ''] = sdk;
        const prefix = SDK_SERVICE_PREFIX[service];
        if (!prefix) throw new Error(`ASL calls aws-sdk:${service}:${action}; infra/aws/workflows.ts does not know the service`);
        actions.add(`${prefix}:${action.charAt(0).toUpperCase()}${action.slice(1)}`);
      } else if (optimised?.[1] === 'lambda' && optimised[2] === 'invoke') {
        const fn = parameters.FunctionName ?? parameters['FunctionName.$'];
        if (!substitution(fn)) throw new Error(`ASL lambda:invoke of ${String(fn)}: use a \${<Task>FunctionArn} substitution`);
      } else if (optimised?.[1] === 'ecs' && optimised[2] && ECS_INTEGRATIONS[optimised[2]]) {
        const ecs = ECS_INTEGRATIONS[optimised[2]]!;
        actions.add(ecs.action);
        if (state.Resource.endsWith('.sync')) for (const action of ecs.sync) actions.add(action);
      } else if (optimised?.[1] === 'dynamodb' && optimised[2] && DYNAMODB_INTEGRATIONS[optimised[2]]) {
        actions.add(DYNAMODB_INTEGRATIONS[optimised[2]]!);
      } else {
        throw new Error(`ASL Task resource ${state.Resource} is not supported by infra/aws/workflows.ts`);
      }
    }
    for (const value of Object.values(state)) visit(value);
  };
  visit(definition);
  return { actions: [...actions].sort(), functions: [...functions].sort() };
}

export interface WorkflowsProps {
  network: Network;
  table: dynamodb.ITable;
  /** environment of every task Lambda (never a state machine ARN: see the header) */
  taskEnvironment: Record<string, string>;
  /** where the heal workflow tells operators that an environment went DEGRADED */
  notificationTopic: sns.ITopic;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
  /** The directory that holds `functions/` and `statemachines/`; default: the repository root. */
  sourceRoot?: string;
  /** more ASL substitutions (the waker's target group: `WakerTargetGroupArn`) */
  extraSubstitutions?: Record<string, string>;
  /** fixed names of state machines something reaches by name (the scale machine: see infra/aws/scaling.ts) */
  stateMachineNames?: Partial<Record<WorkflowName, string>>;
  /** the operator's hosted zone when environments get their own DNS records (infra/aws/shards.ts perEnvironmentDns) */
  hostedZoneArn?: string;
}

export class Workflows extends Construct {
  readonly taskFunctions: Record<TaskFunctionName, FledgeFunction>;
  readonly stateMachines = {} as Record<WorkflowName, sfn.StateMachine>;
  readonly stateMachineLogs: logs.LogGroup;
  /** Per machine, the IAM actions its ASL needs (for tests and the report). */
  readonly calls = {} as Record<WorkflowName, AslCalls>;

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const root = props.sourceRoot ?? REPO_ROOT;
    const { network, table } = props;

    // ------------------------------------------------------------ task Lambdas
    this.taskFunctions = taskFunctions(this, Object.keys(TASK_FUNCTIONS) as TaskFunctionName[], { ...props, environment: props.taskEnvironment }, 'workflow');
    for (const [name, fn] of Object.entries(this.taskFunctions) as [TaskFunctionName, FledgeFunction][]) {
      if (TASK_PERMISSIONS[name].table) table.grantReadWriteData(fn.role);
      else grantReadShardPool(fn.role, table); // its wrapper loads the pool (FLEDGE_SHARD_POOL=table)
      if (TASK_PERMISSIONS[name].observe) grantObserveEnvironments(fn.role, network);
    }
    // RecordHookRun stops a hook's task whose state timed out (functions/adapters/hook-tasks.ts): Step Functions is not documented to
    this.taskFunctions['record-hook-run'].role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StopTimedOutHookTasks',
        actions: ['ecs:StopTask'],
        resources: [`arn:${stack.partition}:ecs:${stack.region}:${stack.account}:task/${network.cluster.clusterName}/*`],
      }),
    );
    // the heal's inspection notices an environment whose alias record is missing; the create's plan
    // looks at its name before anything is made (a record Fledge does not manage there: DNS_NAME_IN_USE),
    // and RecheckDnsRecord again when Route 53 refused the CREATE (its own record of a lost answer, or another's)
    if (props.hostedZoneArn) {
      for (const name of ['inspect-environment', 'plan-resources', 'recheck-dns-record'] as const) {
        this.taskFunctions[name].role.addToPrincipalPolicy(
          new iam.PolicyStatement({ sid: 'ReadDnsRecords', actions: ['route53:ListResourceRecordSets'], resources: [props.hostedZoneArn] }),
        );
      }
    }

    // ------------------------------------------------------------ state machines
    this.stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogs', {
      // Vended logs of Step Functions must go to a group under /aws/vendedlogs/ (resource policy size).
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-workflows`,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    const substitutions: Record<string, string> = {
      TableName: table.tableName,
      ClusterArn: network.cluster.clusterArn,
      // shard s1's; the ASL takes each environment's listener from `$.shard` once the placement lands
      ListenerArn: network.listener.listenerArn,
      VpcId: network.vpc.vpcId,
      NotificationTopicArn: props.notificationTopic.topicArn,
    };
    for (const [name, key] of Object.entries(TASK_FUNCTIONS)) {
      substitutions[key] = this.taskFunctions[name as TaskFunctionName].function.functionArn;
    }
    Object.assign(substitutions, props.extraSubstitutions ?? {});

    const p = stack.partition;
    const arn = (service: string, resource: string) => `arn:${p}:${service}:${stack.region}:${stack.account}:${resource}`;
    const scopes = actionScopes({
      partition: p,
      region: stack.region,
      account: stack.account,
      clusterArn: network.cluster.clusterArn,
      servicePattern: network.serviceArnPattern(),
      taskPattern: arn('ecs', `task/${network.cluster.clusterName}/*`),
      taskDefinitionPattern: arn('ecs', 'task-definition/fledge-*:*'),
      listenerArns: network.listeners.map((listener) => listener.listenerArn),
      listenerRulePatterns: network.listeners.map((listener) => listenerRulePattern(listener.listenerArn)),
      targetGroupPattern: arn('elasticloadbalancing', 'targetgroup/*/*'),
      ...(props.hostedZoneArn ? { hostedZoneArn: props.hostedZoneArn } : {}),
      alarmPattern: arn('cloudwatch', 'alarm:fledge-*'),
      tableArns: [table.tableArn, `${table.tableArn}/index/*`],
      passRoleArns: [network.executionRole.roleArn, ...Object.values(network.secretExecutionRoles).map((role) => role.roleArn), network.taskRole.roleArn],
      notificationTopicArns: [props.notificationTopic.topicArn],
    });

    for (const workflow of WORKFLOWS) {
      const file = join(root, 'statemachines', WORKFLOW_REGISTRY[workflow].asl);
      const calls = aslCalls(JSON.parse(readFileSync(file, 'utf8')));
      this.calls[workflow] = calls;

      const role = new iam.Role(this, `${pascal(workflow)}Role`, {
        assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
        description: `Fledge ${workflow} workflow`,
      });
      const machine = new sfn.StateMachine(this, `${pascal(workflow)}StateMachine`, {
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromFile(file),
        definitionSubstitutions: substitutions,
        role,
        comment: `Fledge ${workflow} workflow (statemachines/${workflow}.asl.json)`,
        stateMachineName: props.stateMachineNames?.[workflow],
        tracingEnabled: true,
        logs: {
          destination: this.stateMachineLogs,
          level: sfn.LogLevel.ALL,
          // Execution data holds the spec (environment variables): kept in the execution history, not copied to logs.
          includeExecutionData: false,
        },
        timeout: Duration.hours(2),
      });
      this.stateMachines[workflow] = machine;

      // The Lambdas this machine invokes (and nothing else).
      const invoked = calls.functions.map((key) => {
        const entry = Object.entries(TASK_FUNCTIONS).find(([, k]) => k === key);
        if (!entry) throw new Error(`statemachines/${workflow}.asl.json references unknown \${${key}}`);
        return this.taskFunctions[entry[0] as TaskFunctionName].function;
      });
      if (invoked.length) {
        role.addToPolicy(
          new iam.PolicyStatement({
            sid: 'InvokeTasks',
            actions: ['lambda:InvokeFunction'],
            resources: invoked.flatMap((fn) => [fn.functionArn, `${fn.functionArn}:*`]),
          }),
        );
      }

      // Its service integrations, grouped by identical scope.
      const needed = new Set<string>();
      for (const action of calls.actions) {
        needed.add(action);
        for (const implied of IMPLIED_ACTIONS[action] ?? []) needed.add(implied);
      }
      if (needed.delete('iam:PassRole')) {
        role.addToPolicy(
          new iam.PolicyStatement({
            sid: 'PassTaskRoles',
            actions: ['iam:PassRole'],
            // the shared execution role, the repositories' own (environments with secrets) and the task role
            resources: [network.executionRole.roleArn, ...Object.values(network.secretExecutionRoles).map((r) => r.roleArn), network.taskRole.roleArn],
            conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
          }),
        );
      }
      const groups = new Map<string, { scope: Scope; actions: string[] }>();
      for (const action of [...needed].sort()) {
        const scope = scopes[action];
        if (!scope) {
          throw new Error(
            `statemachines/${workflow}.asl.json calls ${action}; add it to actionScopes() in infra/aws/workflows.ts with its narrowest resource scope`,
          );
        }
        const key = stack.toJsonString(scope);
        const group = groups.get(key) ?? { scope, actions: [] };
        group.actions.push(action);
        groups.set(key, group);
      }
      for (const { scope, actions } of groups.values()) {
        if (scope.resources.length === 0) continue; // NOT_GRANTED
        role.addToPolicy(new iam.PolicyStatement({ actions, resources: scope.resources, conditions: scope.conditions }));
      }
    }

    // Task Lambdas that answer a task token themselves. A separate policy, which the function
    // does not depend on: state machine -> function -> policy -> state machine would be a cycle.
    for (const name of TOKEN_ANSWERING_TASKS) {
      const fn = this.taskFunctions[name];
      const policy = new iam.Policy(this, `${pascal(name)}TaskTokens`, {
        statements: [
          new iam.PolicyStatement({
            actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
            resources: Object.values(this.stateMachines).map((m) => m.stateMachineArn),
          }),
        ],
      });
      policy.attachToRole(fn.role);
    }
  }
}

/** The listener's rules: `...:listener/app/<lb>/<id>/<listener>` -> `...:listener-rule/app/<lb>/<id>/<listener>/*`. */
export function listenerRulePattern(listenerArn: string): string {
  // The ARN is a token at synth time: split it in CloudFormation.
  const parts = () => Fn.split(':listener/', listenerArn);
  return `${Fn.select(0, parts())}:listener-rule/${Fn.select(1, parts())}/*`;
}

/**
 * Read access to what environments consist of, for task and event Lambdas: ECS services and
 * tasks of the cluster, task definitions, and the ALB's target groups and rules.
 */
export function grantObserveEnvironments(role: iam.IRole, network: Network): void {
  const stack = Stack.of(network);
  const taskArns = `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:task/${network.cluster.clusterName}/*`;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DescribeEnvironmentServices',
      actions: ['ecs:DescribeServices', 'ecs:ListTagsForResource'],
      resources: [network.serviceArnPattern()],
    }),
  );
  role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'DescribeEnvironmentTasks', actions: ['ecs:DescribeTasks'], resources: [taskArns] }));
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ListClusterResources',
      // ListServices and ListTasks have no resource type; the ecs:cluster condition scopes them.
      actions: ['ecs:ListServices', 'ecs:ListTasks'],
      resources: ['*'],
      conditions: { ArnEquals: { 'ecs:cluster': network.cluster.clusterArn } },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DescribeUnscopable',
      // No resource-level permissions exist for these (AWS accepts only "*").
      actions: [
        'ecs:DescribeTaskDefinition',
        'ecs:ListTaskDefinitions',
        'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:DescribeRules',
        'elasticloadbalancing:DescribeTags',
        'cloudwatch:DescribeAlarms',
      ],
      resources: ['*'],
    }),
  );
}

/** The Lambda of `functions/tasks/<name>.ts` (construct id: the name in PascalCase), 60 s unless `timeout` says otherwise. */
export function taskFunction(
  scope: Construct,
  name: TaskLambdaName,
  props: SharedFunctionProps & Pick<FledgeFunctionProps, 'timeout'>,
  workflow: string,
): FledgeFunction {
  return sharedFunction(scope, pascal(name), props, {
    entry: `functions/tasks/${name}.ts`,
    description: `Fledge ${workflow} task: ${name}`,
    timeout: props.timeout ?? Duration.seconds(60),
  });
}

/** The task Lambdas of one workflow, by name; `timeout` names those that need more than 60 s. */
export function taskFunctions<N extends TaskLambdaName>(
  scope: Construct,
  names: readonly N[],
  props: SharedFunctionProps,
  workflow: string,
  timeout: (name: N) => Duration | undefined = () => undefined,
): Record<N, FledgeFunction> {
  return Object.fromEntries(names.map((name) => [name, taskFunction(scope, name, { ...props, timeout: timeout(name) }, workflow)])) as Record<N, FledgeFunction>;
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase());
}

/** The ECS event rule and its target, the ecs-service-events Lambda. */
export interface EcsEventsProps {
  network: Network;
  table: dynamodb.ITable;
  stateMachines: sfn.IStateMachine[];
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
  sourceRoot?: string;
}

export class EcsServiceEvents extends RuleTargetFunction {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: EcsEventsProps) {
    super(scope, id, 'ecs-service-events', props, {
      description: 'Fledge: ECS service events -> steady-state task tokens, environment status',
      timeout: Duration.seconds(30),
    });
    props.table.grantReadWriteData(this.handler.role);
    grantObserveEnvironments(this.handler.role, props.network);
    for (const machine of props.stateMachines) machine.grantTaskResponse(this.handler.role);

    this.rule = new events.Rule(this, 'Rule', {
      description: 'Fledge: ECS service actions and deployment state changes of the cluster',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ECS_EVENT_DETAIL_TYPES,
        resources: events.Match.prefix(props.network.serviceArnPrefix()),
      },
    });
    this.rule.addTarget(this.target(8, Duration.hours(1)));
  }
}
