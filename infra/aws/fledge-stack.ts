/**
 * The Fledge control plane on AWS: network and cluster, state table, workflows, HTTP API,
 * ECS event handling and observability. `infra/aws/app.ts` instantiates it from context.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { GITHUB_WORKFLOW_EVENTS, type FledgeConfig } from './config.ts';
import { FledgeHttpApi } from './http-api.ts';
import { REPO_ROOT } from './lambda-function.ts';
import { Network } from './network.ts';
import { Observability } from './observability.ts';
import { StateTable } from './state-table.ts';
import { acknowledge, acknowledgeWildcards, type WildcardReason } from './nag.ts';
import { Cleanup } from './cleanup.ts';
import { EcsServiceEvents, UNSCOPABLE_ACTIONS, Workflows, WORKFLOWS } from './workflows.ts';
import { arnVariable } from '#contract/workflows.ts';
import { tablePrice } from '#contract/fargate-prices.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '#contract/metrics.ts';
import { HealNotifications, HealTrigger } from './healing.ts';
import { Scaling } from './scaling.ts';
import { AsyncFailures } from './async-failures.ts';
import { installationIdFor } from '#domain/resource-names.ts';
import type { LambdaEnvironment } from '#runtime/config.ts';
import { checkLambdaEnvironmentSize, checkRequiredVariables } from './lambda-environment.ts';
import { grantReadEnvironmentLogs } from './environment-logs.ts';
import {
  hostedZoneArn, hostedZoneVariable, perEnvironmentDns, type ShardDescription, shardDescriptions, ShardPoolItem, shardPoolVariable,
} from './shards.ts';

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
  readonly cleanup: Cleanup;
  readonly observability: Observability;
  readonly healNotifications: HealNotifications;
  readonly healTrigger: HealTrigger;
  readonly scaling: Scaling;
  /** on-failure destinations (and their alarms) of the asynchronously invoked Lambdas */
  readonly asyncFailures: AsyncFailures;
  /** scopes target group and alarm names (context `installationId`, or derived from the stack name) */
  readonly installationId: string;
  /** The pool of load balancers, in shard order (the state table's POOL#shards item). */
  readonly shards: ShardDescription[];
  /** writes `shards` to the state table on every deploy (FLEDGE_SHARD_POOL=table) */
  readonly shardPool: ShardPoolItem;
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

    this.installationId = config.installationId ?? installationIdFor(this.stackName);
    this.network = new Network(this, 'Network', { config, logRetention, installationId: this.installationId });
    this.stateTable = new StateTable(this, 'State', { kmsKeyArn: config.tableKmsKeyArn });
    const table = this.stateTable.table;
    const { network } = this;

    const version = (JSON.parse(readFileSync(join(sourceRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
    // the names are functions/runtime/config.ts's (`satisfies` refuses one it does not declare)
    const sharedEnvironment = {
      FLEDGE_INSTALLATION_ID: this.installationId,
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
      FLEDGE_ALLOW_PINNING: String(config.allowPinning),
      // which secrets an environment may reference (functions/domain/secret-ownership.ts): the installation's own account
      FLEDGE_ACCOUNT_ID: this.account,
      FLEDGE_PARTITION: this.partition,
      FLEDGE_SECRET_ROOT: config.secretRoot,
      ...(config.secretArnPrefixes.length ? ({ FLEDGE_SECRET_ARN_PREFIXES: config.secretArnPrefixes.join(',') } satisfies LambdaEnvironment) : {}),
      FLEDGE_VERSION: version,
      // the service dimension and namespace the dashboard and alarms read (infra/aws/observability.ts)
      POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      FLEDGE_HEAL_MAX_PER_HOUR: String(config.healMaxPerHour),
      FLEDGE_HEAL_BACKOFF: config.healBackoff,
    } satisfies LambdaEnvironment;

    this.healNotifications = new HealNotifications(this, 'HealNotifications', { alarmEmail: config.alarmEmail });
    // The pool lives in the state table, not in the Lambdas' 4 KB of variables (infra/aws/shards.ts):
    // the Lambdas that need it read it there (FLEDGE_SHARD_POOL=table), the waker too, whose
    // target groups the item names without a dependency cycle (the waker reads it at run time).
    const taskEnvironment: Record<string, string> = { ...sharedEnvironment, ...hostedZoneVariable(config), ...shardPoolVariable() };
    this.scaling = new Scaling(this, 'Scaling', {
      network,
      table,
      environment: taskEnvironment,
      shardCount: config.shardCount,
      logRetention,
      logRemovalPolicy,
      sourceRoot,
    });
    this.shards = shardDescriptions(network, config.closedShards, this.scaling.wakerTargetGroups);
    this.shardPool = new ShardPoolItem(this, 'ShardPool', { table, shards: this.shards, logRetention, logRemovalPolicy });
    checkLambdaEnvironmentSize(this, { NODE_OPTIONS: '--enable-source-maps', ...taskEnvironment }, 'the task Lambdas');
    this.workflows = new Workflows(this, 'Workflows', {
      network,
      table,
      taskEnvironment,
      notificationTopic: this.healNotifications.topic,
      extraSubstitutions: { WakerTargetGroupArn: this.scaling.wakerTargetGroup.targetGroupArn },
      stateMachineNames: { scale: this.scaling.scaleStateMachineName },
      ...(perEnvironmentDns(config) ? { hostedZoneArn: hostedZoneArn(this, config.hostedZoneId) } : {}),
      logRetention,
      logRemovalPolicy,
      sourceRoot,
    });
    const machines = this.workflows.stateMachines;
    const machineArns = Object.fromEntries(WORKFLOWS.map((kind) => [arnVariable(kind), machines[kind].stateMachineArn]));
    // The event Lambdas hold the state machine ARNs and use no shard; the cleanup's add the pool
    // (its orphan sweep looks for rules and alias records on every shard).
    const withMachines: Record<string, string> = { ...sharedEnvironment, ...hostedZoneVariable(config), ...machineArns };
    checkLambdaEnvironmentSize(this, { NODE_OPTIONS: '--enable-source-maps', ...withMachines }, 'the event and cleanup Lambdas');
    if (config.idleSleepAfter && config.idleSleepAfterMs) this.scaling.addIdleSleep(machines.scale, config.idleSleepAfter, config.idleSleepAfterMs, taskEnvironment);
    // who may do what through the API (functions/runtime/config.ts); both APIs' Lambdas read it.
    // No pool: the API places no environment (PlanResources does).
    const apiEnvironment = {
      ...sharedEnvironment,
      ...machineArns,
      FLEDGE_OPERATORS: JSON.stringify(config.operators),
      FLEDGE_IAM_REPOSITORIES: JSON.stringify(config.iamRepositories),
      // whose GitHub Actions tokens the CI API accepts; unset, the Lambdas accept none (fail closed)
      ...(config.oidcRepositoryOwners.length ? ({ FLEDGE_OIDC_OWNERS: JSON.stringify(config.oidcRepositoryOwners) } satisfies LambdaEnvironment) : {}),
      // the GitHub events whose tokens are refused (a fork's code with the base repository's identity); `none` for none
      FLEDGE_OIDC_REFUSED_EVENTS: config.oidcRefusedEvents.length ? config.oidcRefusedEvents.join(',') : 'none',
      // the repositories that may reference secrets, each with its own execution role (functions/runtime/config.ts)
      FLEDGE_SECRET_REPOSITORIES: config.secretRepositories.join(','),
      // the operator's Fargate prices, instead of the table's for the region (README "Cost")
      ...(config.fargatePrices ? ({ FLEDGE_FARGATE_PRICES: JSON.stringify(config.fargatePrices) } satisfies LambdaEnvironment) : {}),
    } satisfies LambdaEnvironment;
    // Lambda's 4 KB limit on environment variables: fail the synth, not the deploy (NODE_OPTIONS: lambda-function.ts)
    checkLambdaEnvironmentSize(this, { NODE_OPTIONS: '--enable-source-maps', ...apiEnvironment }, 'the API Lambdas');
    this.functionEnvironment = { task: taskEnvironment, api: apiEnvironment, events: withMachines };
    // every variable a kind of Lambda cannot run without: fail the synth, not the first invocation
    for (const [kind, environment] of Object.entries(this.functionEnvironment)) checkRequiredVariables(kind as keyof typeof this.functionEnvironment, environment);
    if (config.operators.length === 0 && Object.keys(config.iamRepositories).length === 0) {
      Annotations.of(this).addInfo('No operators and no iamRepositories in context: every IAM caller of the API is an operator (IAM access to execute-api is the operator grant).');
    }

    if (!config.fargatePrices && config.region && !tablePrice(config.region)) {
      Annotations.of(this).addWarningV2(
        'fledge:no-fargate-price',
        `functions/contract/fargate-prices.ts has no Fargate price for ${config.region}: environments will show no cost. ` +
          'Set the context fargatePrices to {"vcpuHour": <USD>, "gbHour": <USD>} from https://aws.amazon.com/fargate/pricing/.',
      );
    }

    const unknownEvents = config.oidcRefusedEvents.filter((event) => !GITHUB_WORKFLOW_EVENTS.has(event));
    if (unknownEvents.length) {
      Annotations.of(this).addWarningV2(
        'fledge:unknown-refused-event',
        `oidcRefusedEvents names ${unknownEvents.join(', ')}, not an event GitHub documents as triggering workflows ("Events that trigger workflows"): ` +
          'a misspelt event refuses nothing. Check the spelling against the event_name claim.',
      );
    }
    if (config.oidcAudiences.length && config.oidcRefusedEvents.length === 0) {
      Annotations.of(this).addInfo(
        'oidcRefusedEvents is empty: the CI API accepts tokens of every GitHub event, pull_request_target and workflow_run jobs included. ' +
          "Such a job runs with the base repository's identity, so if it checks out or builds a fork's pull request, that fork can create, change and delete " +
          "the base repository's environments, running its own image with the base repository's secrets.",
      );
    }

    this.httpApi = new FledgeHttpApi(this, 'Http', {
      table,
      stateMachines: Object.values(machines),
      environment: apiEnvironment,
      ...(config.oidcAudiences.length ? { oidc: { issuer: config.oidcIssuer, audiences: config.oidcAudiences } } : {}),
      logRetention,
      logRemovalPolicy,
      throttle: { rateLimit: config.apiThrottleRateLimit, burstLimit: config.apiThrottleBurstLimit },
      routeGrants: { 'list-logs': (role) => grantReadEnvironmentLogs(role, network) },
      sourceRoot,
    });

    this.cleanup = new Cleanup(this, 'Cleanup', {
      network,
      table,
      stateMachines: machines,
      environment: { ...withMachines, ...shardPoolVariable(), FLEDGE_CLEANUP_TASK_DEFINITION_GRACE: config.taskDefinitionGrace },
      rate: Duration.minutes(config.cleanupRateMinutes),
      logRetention,
      logRemovalPolicy,
      stateMachineLogs: this.workflows.stateMachineLogs,
      ...(perEnvironmentDns(config) ? { hostedZoneArn: hostedZoneArn(this, config.hostedZoneId) } : {}),
      sourceRoot,
    });
    // no workflow, cleanup run or idle-sleep check before the pool item exists (a first deploy:
    // the API answers before the stack is complete); the waker cannot wait for it (the item
    // names its target groups) and runs only for environments a workflow put to sleep
    for (const dependent of [...Object.values(machines), this.cleanup.stateMachine, this.scaling.idleSleepSchedule]) dependent?.node.addDependency(this.shardPool);

    this.ecsEvents = new EcsServiceEvents(this, 'EcsEvents', {
      network,
      table,
      stateMachines: Object.values(machines),
      environment: withMachines,
      logRetention,
      logRemovalPolicy,
      sourceRoot,
    });

    this.healTrigger = new HealTrigger(this, 'HealTrigger', {
      table,
      clusterArn: network.cluster.clusterArn,
      installationId: this.installationId,
      healStateMachine: machines.heal,
      environment: withMachines,
      logRetention,
      logRemovalPolicy,
      sourceRoot,
    });

    this.observability = new Observability(this, 'Observability', {
      api: this.httpApi.api,
      apiStage: this.httpApi.stage,
      ...(this.httpApi.ciApi ? { ciApi: { api: this.httpApi.ciApi.api, stage: this.httpApi.ciApi.stage } } : {}),
      functions: [
        ...this.httpApi.functions.map(({ route, fn }) => ({ name: route.handler, fn: fn.function })),
        ...Object.entries(this.workflows.taskFunctions).map(([name, fn]) => ({ name, fn: fn.function })),
        { name: 'ecs-service-events', fn: this.ecsEvents.handler.function },
        ...Object.entries(this.cleanup.functions).map(([name, fn]) => ({ name, fn: fn.function })),
        { name: 'heal-trigger', fn: this.healTrigger.handler.function },
        { name: 'waker', fn: this.scaling.waker.function },
        ...(this.scaling.idleSleep ? [{ name: 'idle-sleep', fn: this.scaling.idleSleep.function }] : []),
      ],
      stateMachines: [...Object.entries(machines).map(([name, machine]) => ({ name, machine })), { name: 'cleanup', machine: this.cleanup.stateMachine }],
      table,
      deadLetterQueue: this.ecsEvents.deadLetterQueue,
      alarmEmail: config.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.httpApi.url, description: 'Fledge API base URL (SigV4, service execute-api)' });
    if (this.httpApi.ciUrl) {
      new CfnOutput(this, 'CiApiUrl', { value: this.httpApi.ciUrl, description: `Fledge API base URL for CI: Authorization: Bearer <OIDC token of ${config.oidcIssuer}>` });
    }
    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'Fledge state table' });
    new CfnOutput(this, 'LoadBalancerDnsName', {
      value: network.loadBalancer.loadBalancerDnsName,
      description: `Point *.${config.baseDomain} (CNAME or alias) at this name (shard s1)`,
    });
    // the other shards are reached through each environment's own alias record (hostedZoneId)
    network.loadBalancers.slice(1).forEach((loadBalancer, index) => {
      new CfnOutput(this, `Shard${index + 2}LoadBalancerDnsName`, {
        value: loadBalancer.loadBalancerDnsName,
        description: `Shard s${index + 2}: environments placed on it get an alias record to this name in the hosted zone`,
      });
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.observability.topic.topicArn });
    new CfnOutput(this, 'InstallationId', {
      value: this.installationId,
      description: 'Prefix of the target groups (<id>-<name>-<hash>) and alarms (fledge-<id>-<name>-<kind>) of this installation',
    });
    this.asyncFailures = new AsyncFailures(this, 'AsyncFailures', {
      topic: this.observability.topic,
      functions: [
        {
          name: 'ecs-service-events', fn: this.ecsEvents.handler, retryAttempts: 2, maxEventAge: Duration.hours(1),
          impact: 'a steady-state wait may not be answered (it falls back to its timeout)',
        },
        {
          name: 'heal-trigger', fn: this.healTrigger.handler, retryAttempts: 2, maxEventAge: Duration.minutes(15),
          impact: 'an environment may not have healed itself',
        },
        ...(this.scaling.idleSleep
          ? [{
            name: 'idle-sleep', fn: this.scaling.idleSleep, retryAttempts: 1, maxEventAge: Duration.minutes(15),
            impact: 'idle environments were not put to sleep this run (the next run tries again)',
          }]
          : []),
      ],
    });
    this.observability.showLoadBalancers(network.loadBalancers.map((loadBalancer, index) => ({ id: this.shards[index]!.id, loadBalancer })));
    const healDeadLetters = this.healTrigger.watchDeadLetters(this.observability.topic);
    this.observability.showFailureQueues(
      [
        { name: 'ecs-events (undelivered)', queue: this.ecsEvents.deadLetterQueue },
        { name: 'heal-trigger (undelivered)', queue: this.healTrigger.deadLetterQueue },
        ...Object.entries(this.asyncFailures.queues).map(([name, queue]) => ({ name: `${name} (failed)`, queue })),
      ],
      [healDeadLetters, ...Object.values(this.asyncFailures.alarms)],
    );
    new CfnOutput(this, 'EnvironmentNotificationsTopicArn', {
      value: this.healNotifications.topic.topicArn,
      description: 'Told when an environment could not heal itself (DEGRADED)',
    });

    this.addNagSuppressions();
  }

  /** Every cdk-nag AwsSolutions finding Fledge accepts, with the reason (see nag.ts). */
  private addNagSuppressions(): void {
    const unscopable: WildcardReason = {
      match: /^\*$/,
      why: 'AWS offers no resource-level permissions for these actions (ecs:ListServices/ListTasks are narrowed to the Fledge cluster by the ecs:cluster condition; xray:PutTraceSegments/PutTelemetryRecords are the X-Ray writes of Lambda active tracing, as in AWS\'s AWSXRayDaemonWriteAccess policy).',
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

    for (const fn of [...this.httpApi.functions.map(({ fn: f }) => f), ...Object.values(this.workflows.taskFunctions), this.ecsEvents.handler, this.healTrigger.handler, this.scaling.waker, ...(this.scaling.idleSleep ? [this.scaling.idleSleep] : [])]) {
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
            why: 'Target groups are created per environment (named <installation>-<name>-<hash>; environments of earlier versions: the name itself), so their ARNs are only known at run time; the teardown must reach both kinds.',
          },
          { match: /:listener-rule\/.*\/\*$/, why: "Rules of the Fledge listeners (one per shard's ALB) only." },
          { match: /:cloudwatch:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):alarm:fledge-\*$/, why: 'Per-environment alarms, all named fledge-*.' },
          {
            match: /:cloudwatch:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):alarm:TargetTracking-service\/\*$/,
            why: 'The alarms Application Auto Scaling makes for the target-tracking policies of ECS services (TargetTracking-service/<cluster>/<service>-...); it checks that its caller may manage them.',
          },
          {
            match: /:application-autoscaling:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):scalable-target\/\*$/,
            why: 'Scalable targets get a generated id when registered (tagging them on registration).',
          },
          { match: /^<Workflows.*Function.*\.Arn>:\*$/, why: 'Versions and aliases of the task Lambdas this state machine invokes.' },
          { match: /:route53:::change\/\*$/, why: 'Route 53 names each change batch with an id it generates (GetChange reads the status of the alias-record changes only).' },
        ],
        UNSCOPABLE_ACTIONS,
      );
    }

    acknowledge(this, 'AwsSolutions-L1', 'Fledge pins Node.js 22 for every function (local mode and the tests run on Node 22); move to a newer runtime together with the toolchain.');
    acknowledge(
      this.ecsEvents.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the EventBridge target (not an SQS redrive source); an alarm watches it.',
    );
    acknowledge(
      this.healTrigger.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the heal trigger rules (not an SQS redrive source); an alarm watches it.',
    );
  }
}
