/**
 * Sleep and wake on AWS (README "Sleep, wake and scaling"; the local counterpart is infra/local/scaling.ts):
 *  - the waker: functions/events/waker.ts behind one shared Lambda target group. The scale
 *    workflow points a sleeping environment's listener rule at it (ASL substitution
 *    `${WakerTargetGroupArn}`), so a request to the URL starts the wake and gets a page that
 *    refreshes until the environment answers again. Elastic Load Balancing may invoke it only
 *    from that target group (resource policy with the target group as source).
 *  - idle sleep: functions/events/idle-sleep.ts on an EventBridge Scheduler schedule, when the
 *    operator's `idleSleepAfter` is not `off`: RUNNING environments without ALB requests for
 *    that long (CloudWatch GetMetricData, RequestCount per target group) are put to sleep.
 *
 * No dependency cycle: the scale state machine needs the waker's target group (substitution),
 * the target group needs the waker function, and the waker starts the scale workflow — so the
 * waker gets the machine's ARN built from its fixed name (`stateMachineArnByName`), not a
 * reference to the machine.
 */
import { ArnFormat, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { eventFunction, type FledgeFunction } from './lambda-function.ts';
import type { Network } from './network.ts';
import { acknowledgeWildcards } from './nag.ts';
import { grantObserveEnvironments, UNSCOPABLE_ACTIONS } from './workflows.ts';
import type { LambdaEnvironment } from '#runtime/config.ts';
import { checkLambdaEnvironmentSize } from './lambda-environment.ts';

/** The scale state machine's fixed name (the waker reaches it by name, see the header). */
export function scaleStateMachineName(stack: Stack): string {
  return `${stack.stackName}-scale`.slice(0, 80);
}

export function stateMachineArnByName(stack: Stack, name: string): string {
  return stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/** How often idle sleep looks: a quarter of the idle period, between 5 minutes and 1 hour. */
export function idleCheckMinutes(idleSleepAfterMs: number): number {
  return Math.min(60, Math.max(5, Math.round(idleSleepAfterMs / 60_000 / 4)));
}

export interface ScalingProps {
  network: Network;
  table: dynamodb.ITable;
  /** the task Lambdas' environment (table, cluster, listener, base domain...) */
  environment: Record<string, string>;
  /** load balancers in the pool: each shard has its own waker target group (a target group serves one load balancer) */
  shardCount: number;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
  sourceRoot?: string;
}

export class Scaling extends Construct {
  readonly waker: FledgeFunction;
  /** the first shard's waker target group (s1) */
  readonly wakerTargetGroup: elbv2.ApplicationTargetGroup;
  /** every shard's waker target group, in shard order: all target the one waker function */
  readonly wakerTargetGroups: elbv2.ApplicationTargetGroup[];
  /** name of the scale state machine, which Workflows must give it */
  readonly scaleStateMachineName: string;
  idleSleep?: FledgeFunction;
  idleSleepSchedule?: scheduler.Schedule;

  constructor(scope: Construct, id: string, private readonly props: ScalingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.scaleStateMachineName = scaleStateMachineName(stack);
    const scaleMachineArn = stateMachineArnByName(stack, this.scaleStateMachineName);

    const wakerEnvironment = { ...props.environment, ...({ FLEDGE_SCALE_STATE_MACHINE_ARN: scaleMachineArn } satisfies LambdaEnvironment) };
    checkLambdaEnvironmentSize(stack, { NODE_OPTIONS: '--enable-source-maps', ...wakerEnvironment }, 'the waker');
    this.waker = eventFunction(this, 'Waker', 'waker', props, {
      description: 'Fledge: answers the URL of a sleeping environment and wakes it (ALB Lambda target)',
      environment: wakerEnvironment,
      timeout: Duration.seconds(15),
    });
    props.table.grantReadWriteData(this.waker.role);
    // DescribeRules: is the rule of a RUNNING environment still at the waker?
    grantObserveEnvironments(this.waker.role, props.network);
    this.waker.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'StartWake', actions: ['states:StartExecution'], resources: [scaleMachineArn] }),
    );

    // One Lambda target group per shard for its sleeping environments ("Load balancers per
    // target group: 1", Elastic Load Balancing "Quotas for your Application Load Balancers"), all
    // targeting the one waker. Elastic Load Balancing may invoke the waker from load balancers of
    // this account only: one permission covers every shard's target group (a target group's ARN
    // cannot be the source: it does not exist until the permission does, which registering the
    // target needs), and each target group depends on it.
    const wakerFunction = this.waker.function;
    const wakerTarget: elbv2.IApplicationLoadBalancerTarget = {
      attachToApplicationTargetGroup: (targetGroup) => {
        const permission = wakerFunction.node.tryFindChild('InvokeFromLoadBalancer') ?? (wakerFunction.addPermission('InvokeFromLoadBalancer', {
          principal: new iam.ServicePrincipal('elasticloadbalancing.amazonaws.com'),
          action: 'lambda:InvokeFunction',
          sourceAccount: stack.account,
        }), wakerFunction.node.findChild('InvokeFromLoadBalancer'));
        targetGroup.node.addDependency(permission);
        return { targetType: elbv2.TargetType.LAMBDA, targetJson: { id: wakerFunction.functionArn } };
      },
    };
    // shard 1 keeps the construct id of the single waker target group of earlier versions
    this.wakerTargetGroups = Array.from({ length: props.shardCount }, (_, index) =>
      new elbv2.ApplicationTargetGroup(this, index === 0 ? 'WakerTargetGroup' : `WakerTargetGroupS${index + 1}`, {
        targetType: elbv2.TargetType.LAMBDA,
        targets: [wakerTarget],
      }));
    this.wakerTargetGroup = this.wakerTargetGroups[0]!;
  }

  /** Idle sleep: the idle-sleep Lambda on a schedule (not created when `idleSleepAfterMs` is undefined: off); `environment`: the task Lambdas' (with every shard). */
  addIdleSleep(scaleMachine: sfn.IStateMachine, idleSleepAfter: string, idleSleepAfterMs: number, environment: Record<string, string> = this.props.environment): void {
    const props = this.props;
    const idleEnvironment = {
      ...environment,
      ...({ FLEDGE_IDLE_SLEEP_AFTER: idleSleepAfter, FLEDGE_SCALE_STATE_MACHINE_ARN: scaleMachine.stateMachineArn } satisfies LambdaEnvironment),
    };
    checkLambdaEnvironmentSize(Stack.of(this), { NODE_OPTIONS: '--enable-source-maps', ...idleEnvironment }, 'the idle-sleep Lambda');
    this.idleSleep = eventFunction(this, 'IdleSleep', 'idle-sleep', props, {
      description: `Fledge: puts environments without requests for ${idleSleepAfter} to sleep`,
      environment: idleEnvironment,
      timeout: Duration.minutes(5),
    });
    props.table.grantReadWriteData(this.idleSleep.role);
    scaleMachine.grantStartExecution(this.idleSleep.role);
    this.idleSleep.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeTargetGroups',
        // no resource-level permissions for these
        actions: ['elasticloadbalancing:DescribeTargetGroups', 'cloudwatch:GetMetricData'],
        resources: ['*'],
      }),
    );
    const minutes = idleCheckMinutes(idleSleepAfterMs);
    // its own role: it may invoke the idle-sleep Lambda (and its versions) and nothing else
    const role = new iam.Role(this, 'IdleSleepScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'Fledge: the idle-sleep schedule invokes the idle-sleep Lambda',
    });
    this.idleSleepSchedule = new scheduler.Schedule(this, 'IdleSleepSchedule', {
      description: `Fledge: idle sleep every ${minutes} minutes (environments idle for ${idleSleepAfter})`,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(minutes)),
      target: new schedulerTargets.LambdaInvoke(this.idleSleep.function, { role, retryAttempts: 2, maxEventAge: Duration.minutes(minutes) }),
    });
    acknowledgeWildcards(role, [{ match: /^<ScalingIdleSleepFunction[A-Za-z0-9]*\.Arn>:\*$/, why: 'Versions and aliases of the idle-sleep Lambda this schedule invokes.' }], UNSCOPABLE_ACTIONS);
  }
}
