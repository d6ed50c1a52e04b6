/**
 * The Fledge control plane on AWS: network and cluster, state table, workflows, HTTP API,
 * ECS event handling and observability. `infra/aws/app.ts` instantiates it from context.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { FledgeConfig } from './config.ts';
import { FledgeHttpApi } from './http-api.ts';
import { REPO_ROOT } from './lambda-function.ts';
import { Network } from './network.ts';
import { Observability } from './observability.ts';
import { StateTable } from './state-table.ts';
import { acknowledge, acknowledgeWildcards, type WildcardReason } from './nag.ts';
import { EcsServiceEvents, UNSCOPABLE_ACTIONS, Workflows } from './workflows.ts';

export interface FledgeStackProps extends StackProps {
  config: FledgeConfig;
  /** The directory holding `functions/`, `statemachines/` and `package-lock.json`; default: the repository root. */
  sourceRoot?: string;
}

export class FledgeStack extends Stack {
  readonly network: Network;
  readonly stateTable: StateTable;
  readonly workflows: Workflows;
  readonly httpApi: FledgeHttpApi;
  readonly ecsEvents: EcsServiceEvents;
  readonly observability: Observability;
  /** The environment variables of each kind of function (documented in README/docs). */
  readonly functionEnvironment: { task: Record<string, string>; api: Record<string, string>; events: Record<string, string> };

  constructor(scope: Construct, id: string, props: FledgeStackProps) {
    super(scope, id, props);
    const { config } = props;
    const sourceRoot = props.sourceRoot ?? REPO_ROOT;
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    const logRemovalPolicy = RemovalPolicy.DESTROY;

    if (config.baseDomainIsDefault) {
      Annotations.of(this).addWarningV2(
        'fledge:default-base-domain',
        `No baseDomain in context: environment URLs use the placeholder ${config.baseDomain}. Set -c baseDomain=<domain> and point *.<domain> at the ALB.`,
      );
    }

    this.network = new Network(this, 'Network', { config, logRetention });
    this.stateTable = new StateTable(this, 'State', { kmsKeyArn: config.tableKmsKeyArn });
    const table = this.stateTable.table;
    const { network } = this;

    const version = (JSON.parse(readFileSync(join(sourceRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
    const taskEnvironment: Record<string, string> = {
      TABLE_NAME: table.tableName,
      FLEDGE_CLUSTER_ARN: network.cluster.clusterArn,
      FLEDGE_LISTENER_ARN: network.listener.listenerArn,
      FLEDGE_VPC_ID: network.vpc.vpcId,
      FLEDGE_SUBNET_IDS: network.taskSubnets.map((s) => s.subnetId).join(','),
      FLEDGE_SECURITY_GROUP_IDS: network.taskSecurityGroup.securityGroupId,
      FLEDGE_ASSIGN_PUBLIC_IP: network.assignPublicIp ? 'ENABLED' : 'DISABLED',
      FLEDGE_EXECUTION_ROLE_ARN: network.executionRole.roleArn,
      FLEDGE_TASK_ROLE_ARN: network.taskRole.roleArn,
      FLEDGE_LOG_GROUP: network.environmentLogGroup.logGroupName,
      FLEDGE_BASE_DOMAIN: config.baseDomain,
      FLEDGE_URL_SCHEME: network.urlScheme,
      FLEDGE_MAX_TTL: config.maxTtl,
      FLEDGE_QUOTA_GLOBAL: String(config.quotaGlobal),
      FLEDGE_QUOTA_PER_REPOSITORY: String(config.quotaPerRepository),
      FLEDGE_VERSION: version,
      POWERTOOLS_SERVICE_NAME: 'fledge',
      POWERTOOLS_METRICS_NAMESPACE: 'Fledge',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };

    this.workflows = new Workflows(this, 'Workflows', {
      network,
      table,
      taskEnvironment,
      logRetention,
      logRemovalPolicy,
      sourceRoot,
    });
    const machines = this.workflows.stateMachines;
    const withMachines: Record<string, string> = {
      ...taskEnvironment,
      FLEDGE_CREATE_STATE_MACHINE_ARN: machines.create.stateMachineArn,
      FLEDGE_UPDATE_STATE_MACHINE_ARN: machines.update.stateMachineArn,
      FLEDGE_TEARDOWN_STATE_MACHINE_ARN: machines.teardown.stateMachineArn,
    };
    this.functionEnvironment = { task: taskEnvironment, api: withMachines, events: withMachines };

    this.httpApi = new FledgeHttpApi(this, 'Http', {
      table,
      stateMachines: Object.values(machines),
      environment: withMachines,
      logRetention,
      logRemovalPolicy,
      throttle: { rateLimit: config.apiThrottleRateLimit, burstLimit: config.apiThrottleBurstLimit },
      sourceRoot,
    });

    this.ecsEvents = new EcsServiceEvents(this, 'EcsEvents', {
      network,
      table,
      stateMachines: Object.values(machines),
      environment: withMachines,
      logRetention,
      logRemovalPolicy,
      sourceRoot,
    });

    this.observability = new Observability(this, 'Observability', {
      api: this.httpApi.api,
      apiStage: this.httpApi.stage,
      functions: [
        ...this.httpApi.functions.map(({ route, fn }) => ({ name: route.handler, fn: fn.function })),
        ...Object.entries(this.workflows.taskFunctions).map(([name, fn]) => ({ name, fn: fn.function })),
        { name: 'ecs-service-events', fn: this.ecsEvents.handler.function },
      ],
      stateMachines: Object.entries(machines).map(([name, machine]) => ({ name, machine })),
      table,
      deadLetterQueue: this.ecsEvents.deadLetterQueue,
      alarmEmail: config.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.httpApi.url, description: 'Fledge API base URL (SigV4, service execute-api)' });
    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'Fledge state table' });
    new CfnOutput(this, 'LoadBalancerDnsName', {
      value: network.loadBalancer.loadBalancerDnsName,
      description: `Point *.${config.baseDomain} (CNAME or alias) at this name`,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.observability.topic.topicArn });

    this.addNagSuppressions();
  }

  /** Every cdk-nag AwsSolutions finding Fledge accepts, with the reason (see nag.ts). */
  private addNagSuppressions(): void {
    const unscopable: WildcardReason = {
      match: /^\*$/,
      why: 'AWS offers no resource-level permissions for these actions (ecs:ListServices/ListTasks are narrowed to the Fledge cluster by the ecs:cluster condition).',
    };
    const tableIndexes: WildcardReason = { match: /^<.*Table.*\.Arn>\/index\/\*$/, why: 'The global secondary indexes of the Fledge table only.' };
    const services: WildcardReason = {
      match: /:ecs:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):service\/<.*Cluster.*>\/\*$/,
      why: 'Services of the Fledge cluster only; each is named after an environment, known at run time.',
    };
    const tasks: WildcardReason = { match: /:ecs:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):task\/<.*Cluster.*>\/\*$/, why: 'Tasks of the Fledge cluster only.' };
    const executions: WildcardReason = {
      match: /:states:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):execution:.*StateMachine.*:\*$/,
      why: 'Executions of the Fledge state machines only (execution names are per operation).',
    };

    for (const fn of [...this.httpApi.functions.map(({ fn: f }) => f), ...Object.values(this.workflows.taskFunctions), this.ecsEvents.handler]) {
      acknowledgeWildcards(fn.role, [unscopable, tableIndexes, services, tasks, executions], UNSCOPABLE_ACTIONS);
    }
    for (const machine of Object.values(this.workflows.stateMachines)) {
      acknowledgeWildcards(
        machine.role as iam.Role,
        [
          {
            match: /^\*$/,
            why: 'AWS offers no resource-level permissions for these actions: task definition registration, Describe/List calls, Application Auto Scaling, and the X-Ray and CloudWatch Logs vended-delivery calls Step Functions tracing and logging need.',
          },
          tableIndexes,
          services,
          tasks,
          {
            match: /:ecs:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):task-definition\/fledge-\*:\*$/,
            why: 'Fledge task definition families (fledge-<environment>) and their revisions only.',
          },
          {
            match: /:elasticloadbalancing:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):targetgroup\/\*\/\*$/,
            why: 'Target groups are created per environment and named after it, so their ARNs are only known at run time; ELB offers no name-prefix scoping that fits DNS-label names.',
          },
          { match: /:listener-rule\/.*\/\*$/, why: 'Rules of the shared Fledge listener only.' },
          { match: /:cloudwatch:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):alarm:fledge-\*$/, why: 'Per-environment alarms, all named fledge-*.' },
          { match: /^<Workflows.*Function.*\.Arn>:\*$/, why: 'Versions and aliases of the task Lambdas this state machine invokes.' },
        ],
        UNSCOPABLE_ACTIONS,
      );
    }

    acknowledge(this, 'AwsSolutions-L1', 'SPEC pins Node.js 22 for every function (local mode and the tests run on Node 22); move to a newer runtime together with the toolchain.');
    acknowledge(
      this.ecsEvents.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the EventBridge target (not an SQS redrive source); an alarm watches it.',
    );
  }
}
