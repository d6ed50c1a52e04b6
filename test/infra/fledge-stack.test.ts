import { readFileSync } from 'node:fs';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/aws/lambda-function.ts';
import { LAMBDA_ENVIRONMENT_LIMIT, lambdaEnvironmentSize } from '../../infra/aws/lambda-environment.ts';
import { aslCalls, ECS_EVENT_DETAIL_TYPES, TASK_FUNCTIONS, UNSCOPABLE_ACTIONS, WORKFLOWS } from '../../infra/aws/workflows.ts';
import { routes } from '../../functions/contract/routes.ts';
import { tableDefinition } from '../../functions/contract/table-definition.ts';
import { PRODUCTION_CONTEXT, PRODUCTION_ENV, synthFledge, type Synthesized } from './synth-fledge.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation properties are untyped JSON
type Json = any;
type Resources = Record<string, { Type: string; Properties?: Record<string, Json>; DependsOn?: string[] | string; DeletionPolicy?: string }>;

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const asArray = <T,>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Every identity-policy statement in the template, with the logical id of its policy. */
function identityStatements(resources: Resources): { policy: string; statement: Statement }[] {
  const found: { policy: string; statement: Statement }[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      for (const statement of resource.Properties?.PolicyDocument?.Statement ?? []) found.push({ policy: id, statement });
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const inline of resource.Properties?.Policies ?? []) {
        for (const statement of inline.PolicyDocument.Statement) found.push({ policy: id, statement });
      }
    }
  }
  return found;
}

/** Statements of the policies attached to a role (by the role's logical id). */
function roleStatements(resources: Resources, roleId: string): Statement[] {
  return Object.values(resources)
    // CDK moves statements past a policy's size into overflow managed policies attached to the same role
    .filter((r) => (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && asArray(r.Properties?.Roles).some((ref: Json) => ref?.Ref === roleId))
    .flatMap((r) => r.Properties!.PolicyDocument.Statement as Statement[]);
}

function logicalIdOf(ref: unknown): string | undefined {
  if (ref && typeof ref === 'object') {
    const o = ref as Record<string, unknown>;
    if (typeof o.Ref === 'string') return o.Ref;
    if (Array.isArray(o['Fn::GetAtt'])) return o['Fn::GetAtt'][0] as string;
  }
  return undefined;
}

/** Logical ids a value references (Ref, GetAtt, Fn::Sub), anywhere inside it. */
function references(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => references(v, into));
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === 'string' && !o.Ref.startsWith('AWS::')) into.add(o.Ref);
    if (Array.isArray(o['Fn::GetAtt'])) into.add(o['Fn::GetAtt'][0] as string);
    for (const v of Object.values(o)) references(v, into);
  }
  return into;
}

let dev: Synthesized;
let prod: Synthesized;
let resources: Resources;

beforeAll(() => {
  const started = Date.now();
  dev = synthFledge();
  prod = synthFledge(PRODUCTION_CONTEXT, PRODUCTION_ENV);
  resources = dev.template.toJSON().Resources as Resources;
  console.info(`infra: synthesized 2 Fledge stacks (not bundled) in ${Date.now() - started} ms`);
});

afterAll(() => {
  dev?.dispose();
  prod?.dispose();
});

describe('HTTP API', () => {
  it('has every route of functions/contract/routes.ts, each with AWS_IAM authorization and its own Lambda integration', () => {
    const routeResources = dev.template.findResources('AWS::ApiGatewayV2::Route');
    expect(Object.keys(routeResources)).toHaveLength(routes.length);
    const integrations = dev.template.findResources('AWS::ApiGatewayV2::Integration');
    const functions = dev.template.findResources('AWS::Lambda::Function');
    const usedIntegrations = new Set<string>();
    const usedFunctions = new Set<string>();

    for (const route of routes) {
      const match = Object.values(routeResources).find((r) => r.Properties.RouteKey === `${route.method} ${route.path}`);
      expect(match, `${route.method} ${route.path}`).toBeDefined();
      expect(match!.Properties.AuthorizationType).toBe('AWS_IAM');

      const target = match!.Properties.Target['Fn::Join'][1] as unknown[];
      expect(target[0]).toBe('integrations/');
      const integrationId = logicalIdOf(target[1])!;
      const integration = integrations[integrationId]!;
      expect(integration.Properties.IntegrationType).toBe('AWS_PROXY');
      expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
      const functionId = logicalIdOf(integration.Properties.IntegrationUri)!;
      expect(functions[functionId]!.Properties.Description).toBe(`Fledge API: ${route.method} ${route.path}`);
      usedIntegrations.add(integrationId);
      usedFunctions.add(functionId);
    }
    expect(usedIntegrations.size).toBe(routes.length);
    expect(usedFunctions.size).toBe(routes.length);
  });

  it('logs access to a log group and throttles the stage', () => {
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('\\$context.requestId') },
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('lets only the mutating routes start and stop workflows; reads need no write access', () => {
    for (const route of routes) {
      const [roleId] = Object.entries(resources).find(
        ([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith(`Http${route.handler.replace(/(^|-)(.)/g, (_, __, c: string) => c.toUpperCase())}Role`),
      )!;
      const actions = roleStatements(resources, roleId).flatMap((s) => asArray(s.Action));
      expect(actions.includes('states:StartExecution'), route.handler).toBe(route.mutates);
      expect(actions.includes('dynamodb:PutItem'), route.handler).toBe(route.mutates);
      expect(actions).toContain('dynamodb:GetItem');
    }
  });
});

describe('logs route', () => {
  const roleOf = (handler: string) =>
    Object.keys(resources).find((id) => resources[id]!.Type === 'AWS::IAM::Role' && id.startsWith(`Http${handler.replace(/(^|-)(.)/g, (_, __, c: string) => c.toUpperCase())}Role`))!;
  it("lets its Lambda filter the environments' log group only, and list and describe the cluster's tasks only", () => {
    const environmentLogGroup = Object.keys(resources).find((id) => resources[id]!.Type === 'AWS::Logs::LogGroup' && id.startsWith('NetworkEnvironmentLogs'))!;
    const cluster = Object.keys(resources).find((id) => resources[id]!.Type === 'AWS::ECS::Cluster')!;
    const statements = roleStatements(resources, roleOf('list-logs'));
    const filter = statements.filter((s) => asArray(s.Action).includes('logs:FilterLogEvents'));
    expect(filter).toHaveLength(1);
    expect(asArray(filter[0]!.Action)).toEqual(['logs:FilterLogEvents']);
    expect(asArray(filter[0]!.Resource)).toEqual([{ 'Fn::GetAtt': [environmentLogGroup, 'Arn'] }]);
    const list = statements.find((s) => asArray(s.Action).includes('ecs:ListTasks'))!;
    expect(asArray(list.Action)).toEqual(['ecs:ListTasks']);
    expect(list.Condition).toEqual({ ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [cluster, 'Arn'] } } });
    const describe = statements.find((s) => asArray(s.Action).includes('ecs:DescribeTasks'))!;
    expect(describe.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':task/', { Ref: cluster }, '/*']],
    });
    // and nothing beyond what every read route has (the table, its own log group, tracing)
    const reads = new Set(roleStatements(resources, roleOf('get-environment')).flatMap((s) => asArray(s.Action)));
    const extra = [...new Set(statements.flatMap((s) => asArray(s.Action)))].filter((a) => !reads.has(a));
    expect(extra.sort()).toEqual(['ecs:DescribeTasks', 'ecs:ListTasks', 'logs:FilterLogEvents']);
  });

  it("is the only API route that reads the environments' logs or their tasks", () => {
    for (const route of routes.filter((r) => r.handler !== 'list-logs')) {
      const actions = roleStatements(resources, roleOf(route.handler)).flatMap((s) => asArray(s.Action));
      expect(actions.filter((a) => a.startsWith('logs:Filter') || a.startsWith('logs:Get') || a.startsWith('ecs:')), route.handler).toEqual([]);
    }
  });
});

describe('workflows', () => {
  const substitutionKeys = [
    'TableName',
    'ClusterArn',
    'ListenerArn',
    'VpcId',
    'PlanResourcesFunctionArn',
    'AwaitSteadyStateFunctionArn',
    'CompleteOperationFunctionArn',
    'FailOperationFunctionArn',
    'DiscoverResourcesFunctionArn',
    'FinishTeardownFunctionArn',
  ];

  it('has the three Standard state machines from statemachines/*.asl.json, logging ALL, traced', () => {
    const machines = dev.template.findResources('AWS::StepFunctions::StateMachine');
    expect(Object.keys(machines).length).toBeGreaterThanOrEqual(WORKFLOWS.length);
    for (const workflow of WORKFLOWS) {
      const id = dev.stack.getLogicalId(dev.stack.workflows.stateMachines[workflow].node.defaultChild as never);
      const machine = machines[id];
      expect(machine, workflow).toBeDefined();
      expect(machine!.Properties.StateMachineType).toBe('STANDARD');
      expect(machine!.Properties.DefinitionS3Location).toBeDefined();
      // every machine gets every substitution (a workflow's own extras, e.g. WakerTargetGroupArn, included)
      expect(Object.keys(machine!.Properties.DefinitionSubstitutions)).toEqual(expect.arrayContaining([...substitutionKeys, ...Object.values(TASK_FUNCTIONS)]));
      expect(machine!.Properties.LoggingConfiguration.Level).toBe('ALL');
      expect(machine!.Properties.LoggingConfiguration.Destinations).toHaveLength(1);
      expect(machine!.Properties.TracingConfiguration).toEqual({ Enabled: true });
    }
  });

  it('grants each state machine exactly the service calls of its ASL, with iam:PassRole limited to ECS tasks', () => {
    const machines = Object.values(dev.stack.workflows.stateMachines);
    for (const [workflow, machine] of Object.entries(dev.stack.workflows.stateMachines)) {
      const roleId = dev.stack.getLogicalId(machine.role.node.defaultChild as never);
      const statements = roleStatements(resources, roleId);
      const granted = new Set(statements.flatMap((s) => asArray(s.Action)));
      const calls = aslCalls(JSON.parse(readFileSync(`${REPO_ROOT}statemachines/${workflow}.asl.json`, 'utf8')));
      // Route 53 only with the operator's hosted zone (per-environment DNS): this stack has none, so its DNS states never run
      for (const action of calls.actions) expect(granted.has(action), `${workflow}: ${action}`).toBe(!action.startsWith('route53:'));
      expect([...granted].filter((action) => action.startsWith('route53:')), workflow).toEqual([]);

      const passRole = statements.filter((s) => asArray(s.Action).includes('iam:PassRole'));
      for (const s of passRole) {
        expect(s.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
        // the shared execution role and the task role (no repository listed in the default context)
        expect(asArray(s.Resource)).toHaveLength(2);
      }
      if (calls.actions.includes('ecs:RegisterTaskDefinition')) expect(passRole.length).toBeGreaterThan(0);

      const invoke = statements.filter((s) => asArray(s.Action).includes('lambda:InvokeFunction'));
      expect(invoke.length, workflow).toBeGreaterThan(0);
      for (const s of invoke) for (const r of asArray(s.Resource)) expect(references(r).size).toBe(1);
    }
    expect(machines).toHaveLength(WORKFLOWS.length);
  });

  it('scopes ECS service and ELB calls to the cluster, target groups and the shared listener', () => {
    const all = Object.values(dev.stack.workflows.stateMachines).flatMap((m) =>
      roleStatements(resources, dev.stack.getLogicalId(m.role.node.defaultChild as never)),
    );
    const resourceOf = (action: string) => all.filter((s) => asArray(s.Action).includes(action)).flatMap((s) => asArray(s.Resource));
    const flat = (r: unknown) => JSON.stringify(r);
    for (const action of ['ecs:CreateService', 'ecs:UpdateService', 'ecs:DeleteService', 'ecs:DescribeServices']) {
      for (const r of resourceOf(action)) expect(flat(r), action).toMatch(/:service\/".*NetworkCluster.*"\/\*"/);
    }
    for (const action of ['elasticloadbalancing:CreateTargetGroup', 'elasticloadbalancing:DeleteTargetGroup', 'elasticloadbalancing:ModifyTargetGroupAttributes']) {
      for (const r of resourceOf(action)) expect(flat(r), action).toContain(':targetgroup/*/*');
    }
    for (const r of resourceOf('elasticloadbalancing:CreateRule')) expect(logicalIdOf(r)).toMatch(/^NetworkLoadBalancerHttp/);
    for (const r of resourceOf('elasticloadbalancing:DeleteRule')) expect(flat(r)).toContain(':listener-rule/');
  });

  it('lets the create, update and teardown machines run a hook: ecs:RunTask on fledge-* revisions in the cluster, what .sync needs, the task roles', () => {
    for (const workflow of ['create', 'update', 'teardown'] as const) {
      const statements = roleStatements(resources, dev.stack.getLogicalId(dev.stack.workflows.stateMachines[workflow].role.node.defaultChild as never));
      const of = (action: string) => statements.filter((s) => asArray(s.Action).includes(action));
      const flat = (value: unknown) => JSON.stringify(value);
      // "IAM policies for Amazon ECS/AWS Fargate" (Step Functions developer guide), Run a Job (.sync)
      const [runTask] = of('ecs:RunTask');
      expect(flat(runTask!.Resource), workflow).toContain(':task-definition/fledge-*:*');
      expect(flat(runTask!.Condition), workflow).toMatch(/ArnEquals.*ecs:cluster.*NetworkCluster/);
      for (const action of ['ecs:StopTask', 'ecs:DescribeTasks']) {
        for (const statement of of(action)) expect(flat(statement.Resource), `${workflow} ${action}`).toMatch(/:task\/".*NetworkCluster.*"\/\*"/);
        expect(of(action).length, `${workflow} ${action}`).toBeGreaterThan(0);
      }
      for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
        expect(of(action).flatMap((s) => asArray(s.Resource)).map(flat), `${workflow} ${action}`).toEqual([expect.stringContaining(':rule/StepFunctionsGetEventsForECSTaskRule')]);
      }
      expect(flat(of('ecs:TagResource').flatMap((s) => asArray(s.Resource))), workflow).toContain(':task/');
      expect(of('iam:PassRole').length, workflow).toBeGreaterThan(0);
    }
  });

  it('lets RecordHookRun find and stop a timed-out hook task: ListTasks in the cluster, DescribeTasks and StopTask on its tasks only', () => {
    const statements = roleStatements(resources, dev.stack.getLogicalId(dev.stack.workflows.taskFunctions['record-hook-run'].role.node.defaultChild as never));
    const of = (action: string) => statements.filter((s) => asArray(s.Action).includes(action));
    expect(of('ecs:StopTask')).toHaveLength(1);
    for (const action of ['ecs:StopTask', 'ecs:DescribeTasks']) {
      for (const statement of of(action)) expect(JSON.stringify(statement.Resource), action).toMatch(/:task\/".*NetworkCluster.*"\/\*"/);
    }
    expect(JSON.stringify(of('ecs:ListTasks')[0]!.Condition)).toMatch(/ArnEquals.*ecs:cluster/);
  });

  it('routes ECS service events of the cluster to the event handler, with a dead-letter queue', () => {
    dev.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ECS_EVENT_DETAIL_TYPES,
        resources: [{ prefix: Match.objectLike({ 'Fn::Join': Match.anyValue() }) }],
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EcsEventsHandlerFunction'), 'Arn'] },
          DeadLetterConfig: { Arn: Match.anyValue() },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: Match.anyValue() }),
        }),
      ],
    });
    const rule = Object.values(dev.template.findResources('AWS::Events::Rule'))[0]!;
    expect(JSON.stringify(rule.Properties.EventPattern.resources)).toContain(':service/');
    expect(ECS_EVENT_DETAIL_TYPES).toEqual(['ECS Service Action', 'ECS Deployment State Change']);
  });
});

describe('state table', () => {
  it('is built from functions/contract/table-definition.ts with PITR, SSE, TTL and on-demand billing, and is retained', () => {
    const tables = dev.template.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(1);
    const [table] = Object.values(tables);
    expect(table!.DeletionPolicy).toBe('Retain');
    const p = table!.Properties;
    expect(p.KeySchema).toEqual([
      { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
      { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
    ]);
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.SSESpecification).toEqual({ SSEEnabled: true });
    prod.template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: PRODUCTION_CONTEXT.tableKmsKeyArn },
    });
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'purgeAt', Enabled: true });
    expect(p.DeletionProtectionEnabled).toBe(true);
    for (const attribute of p.AttributeDefinitions) expect(attribute.AttributeType).toBe('S');

    const indexes = Object.entries(tableDefinition.indexes);
    expect(p.GlobalSecondaryIndexes).toHaveLength(4);
    for (const [name, index] of indexes) {
      const gsi = p.GlobalSecondaryIndexes.find((g: Json) => g.IndexName === name);
      expect(gsi, name).toBeDefined();
      expect(gsi.KeySchema).toEqual([
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ]);
      expect(gsi.Projection).toEqual({ ProjectionType: 'ALL' });
    }
  });
});

describe('Lambda functions', () => {
  const functions = () => Object.entries(dev.template.findResources('AWS::Lambda::Function'));

  it('are one per route, six task Lambdas and the ECS event handler, all Node.js 22 on arm64', () => {
    // one per route, one per workflow task, and the event/schedule handlers (ECS events, waker, ...)
    expect(functions().length).toBeGreaterThanOrEqual(routes.length + Object.keys(TASK_FUNCTIONS).length + 1);
    for (const [id, fn] of functions()) {
      expect(fn.Properties.Runtime, id).toBe('nodejs22.x');
      expect(fn.Properties.Architectures, id).toEqual(['arm64']);
      expect(fn.Properties.Handler, id).toBe('index.handler');
      expect(fn.Properties.LoggingConfig?.LogGroup, id).toBeDefined();
    }
  });

  it("API Lambdas' environment fits Lambda's 4 KB (references at their upper bound), with the size measured", () => {
    const sizes = [dev, prod].map((synth) => lambdaEnvironmentSize(synth.stack, { NODE_OPTIONS: '--enable-source-maps', ...synth.stack.functionEnvironment.api }).total);
    console.info(`infra: API Lambda environment upper bound: ${sizes[0]} bytes (default context), ${sizes[1]} bytes (production context) of ${LAMBDA_ENVIRONMENT_LIMIT}`);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_LIMIT);
    // the operator's Fargate prices reach the API Lambdas (README "Cost"); without them, the table's
    expect((prod.stack.functionEnvironment.api as Record<string, string>).FLEDGE_FARGATE_PRICES).toBe('{"vcpuHour":0.0364,"gbHour":0.004}');
    expect(dev.stack.functionEnvironment.api).not.toHaveProperty('FLEDGE_FARGATE_PRICES');
  });

  it('get the deployment settings in their environment; task Lambdas never a state machine ARN', () => {
    const common = [
      'TABLE_NAME',
      'FLEDGE_CLUSTER_ARN',
      'FLEDGE_LISTENER_ARN',
      'FLEDGE_SUBNET_IDS',
      'FLEDGE_SECURITY_GROUP_IDS',
      'FLEDGE_ASSIGN_PUBLIC_IP',
      'FLEDGE_EXECUTION_ROLE_ARN',
      'FLEDGE_TASK_ROLE_ARN',
      'FLEDGE_LOG_GROUP',
      'FLEDGE_BASE_DOMAIN',
      'FLEDGE_URL_SCHEME',
      'FLEDGE_MAX_TTL',
      'FLEDGE_QUOTA_GLOBAL',
      'FLEDGE_QUOTA_PER_REPOSITORY',
      'FLEDGE_VERSION',
      'POWERTOOLS_SERVICE_NAME',
      'POWERTOOLS_METRICS_NAMESPACE',
    ];
    const machines = ['FLEDGE_CREATE_STATE_MACHINE_ARN', 'FLEDGE_UPDATE_STATE_MACHINE_ARN', 'FLEDGE_TEARDOWN_STATE_MACHINE_ARN'];
    // not the deploy-time provider of the shard pool item (infra/aws/shards.ts): it runs no Fledge code
    const provider = dev.stack.getLogicalId(dev.stack.node.findChild('AWS679f53fac002430cb0da5b7982bd2287').node.defaultChild as never);
    for (const [id, fn] of functions().filter(([id]) => id !== provider)) {
      const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
      for (const name of common) expect(variables[name], `${id} ${name}`).toBeDefined();
      const isTask = id.startsWith('Workflows');
      // the waker and idle sleep start the scale workflow only (test/infra/scaling.test.ts)
      const startsScaleOnly = id.startsWith('Scaling');
      if (!startsScaleOnly) for (const name of machines) expect(variables[name] === undefined, `${id} ${name}`).toBe(isTask);
      expect(variables.FLEDGE_URL_SCHEME).toBe('http');
      expect(variables.FLEDGE_BASE_DOMAIN).toBe('preview.example.com');
      expect(variables.FLEDGE_QUOTA_GLOBAL).toBe('99');
      expect(variables.FLEDGE_QUOTA_PER_REPOSITORY).toBe('20');
      // the cleanup's collection of shared task definitions reads its grace (context taskDefinitionGrace)
      expect(variables.FLEDGE_CLEANUP_TASK_DEFINITION_GRACE, id).toBe(id.startsWith('Cleanup') ? '24h' : undefined);
    }
  });
});

describe('IAM', () => {
  it('grants Resource "*" only for actions AWS cannot scope', () => {
    const offenders: string[] = [];
    for (const stack of [dev, prod]) {
      const all = identityStatements(stack.template.toJSON().Resources as Resources);
      expect(all.length).toBeGreaterThan(20);
      for (const { policy, statement } of all) {
        if (statement.Effect !== 'Allow' || !asArray(statement.Resource).includes('*')) continue;
        for (const action of asArray(statement.Action)) {
          if (!(UNSCOPABLE_ACTIONS as readonly string[]).includes(action)) offenders.push(`${policy}: ${action}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('has no wildcard actions (but the KMS grants CDK adds for a customer managed table key, on that key only)', () => {
    expect(identityStatements(resources).flatMap(({ statement }) => asArray(statement.Action).filter((a) => a.includes('*')))).toEqual([]);
    const prodStatements = identityStatements(prod.template.toJSON().Resources as Resources);
    for (const { policy, statement } of prodStatements) {
      const wild = asArray(statement.Action).filter((a) => a.includes('*'));
      if (wild.length === 0) continue;
      expect(wild.every((a) => a === 'kms:ReEncrypt*' || a === 'kms:GenerateDataKey*'), policy).toBe(true);
      expect(asArray(statement.Resource), policy).toEqual([PRODUCTION_CONTEXT.tableKmsKeyArn]);
    }
  });

  it('narrows ecs:ListServices / ecs:ListTasks to the Fledge cluster', () => {
    for (const { statement } of identityStatements(resources)) {
      const actions = asArray(statement.Action);
      if (actions.includes('ecs:ListServices') || actions.includes('ecs:ListTasks')) {
        expect(statement.Condition?.ArnEquals?.['ecs:cluster']).toBeDefined();
      }
    }
  });

  it('has no dependency cycle between resources (state machines -> task Lambdas only)', () => {
    const graph = new Map<string, Set<string>>();
    for (const [id, r] of Object.entries(resources)) {
      const deps = references(r.Properties);
      for (const d of asArray(r.DependsOn)) deps.add(d);
      graph.set(id, new Set([...deps].filter((d) => d in resources)));
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycle: string[] = [];
    const visit = (id: string, path: string[]): boolean => {
      if (state.get(id) === 'done') return false;
      if (state.get(id) === 'visiting') {
        cycle.push(...path.slice(path.indexOf(id)), id);
        return true;
      }
      state.set(id, 'visiting');
      for (const dep of graph.get(id) ?? []) if (visit(dep, [...path, id])) return true;
      state.set(id, 'done');
      return false;
    };
    for (const id of graph.keys()) if (visit(id, [])) break;
    expect(cycle).toEqual([]);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['default context (new VPC, HTTP)', () => dev],
    ['production context (existing VPC, HTTPS, concrete env)', () => prod],
  ])('reports no unacknowledged errors or warnings: %s', (_, get) => {
    const report = new AwsSolutionsChecks().validateScope(get().stack);
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });
});

describe('network and listener', () => {
  it('warns about plain HTTP and the placeholder domain when no certificate or domain is configured', () => {
    const annotations = Annotations.fromStack(dev.stack);
    annotations.hasWarning('*', Match.stringLikeRegexp('plain HTTP'));
    annotations.hasWarning('*', Match.stringLikeRegexp('preview\\.example\\.com'));
    dev.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) })],
    });
  });

  it('serves HTTPS with the certificate, redirects HTTP, and does not warn, when a certificate is configured', () => {
    const annotations = Annotations.fromStack(prod.stack);
    annotations.hasNoWarning('*', Match.stringLikeRegexp('plain HTTP'));
    annotations.hasNoWarning('*', Match.stringLikeRegexp('baseDomain'));
    prod.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: PRODUCTION_CONTEXT.certificateArn }],
      DefaultActions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) })],
    });
    prod.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: 'redirect' })],
    });
    const fn = Object.values(prod.template.findResources('AWS::Lambda::Function'))[0]!;
    expect(fn.Properties.Environment.Variables).toMatchObject({
      FLEDGE_URL_SCHEME: 'https',
      FLEDGE_BASE_DOMAIN: 'preview.acme.dev',
      FLEDGE_MAX_TTL: '14d',
      FLEDGE_QUOTA_GLOBAL: '50',
      FLEDGE_QUOTA_PER_REPOSITORY: '10',
      FLEDGE_SUBNET_IDS: 'subnet-0bbbbbbbbbbbbbbb1,subnet-0bbbbbbbbbbbbbbb2',
      FLEDGE_ASSIGN_PUBLIC_IP: 'DISABLED',
    });
    prod.template.resourceCountIs('AWS::EC2::VPC', 0);
    prod.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Subnets: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
  });

  it('creates a 2-AZ VPC with one NAT gateway, flow logs, and a Container Insights cluster by default', () => {
    dev.template.resourceCountIs('AWS::EC2::VPC', 1);
    dev.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    dev.template.resourceCountIs('AWS::EC2::Subnet', 4);
    dev.template.resourceCountIs('AWS::EC2::FlowLog', 1);
    dev.template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('lets the ALB reach tasks on the container port range, and nothing else reach them', () => {
    dev.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 1,
      ToPort: 65535,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkAlbSecurityGroup'), 'GroupId'] },
    });
    const taskGroup = Object.entries(dev.template.findResources('AWS::EC2::SecurityGroup')).find(([id]) => id.startsWith('NetworkTaskSecurityGroup'))!;
    expect(taskGroup[1].Properties.SecurityGroupIngress).toBeUndefined();
  });

  it("gives the shared task execution role no secret; each listed repository's role reads its namespace only", () => {
    const prodResources = prod.template.toJSON().Resources as Resources;
    for (const [template, all] of [[dev, resources], [prod, prodResources]] as const) {
      const roleId = template.stack.getLogicalId(template.stack.network.executionRole.node.defaultChild as never);
      const actions = roleStatements(all, roleId).flatMap((s) => asArray(s.Action));
      expect(actions.filter((a) => /^(secretsmanager|ssm|kms):/.test(a))).toEqual([]);
    }
    expect(Object.keys(dev.stack.network.secretExecutionRoles)).toEqual([]);
    const roles = prod.stack.network.secretExecutionRoles;
    expect(Object.keys(roles)).toEqual(['acme/web', 'acme/billing']);
    for (const [repository, role] of Object.entries(roles)) {
      const statements = roleStatements(prodResources, prod.stack.getLogicalId(role.node.defaultChild as never));
      const secrets = statements.find((s) => asArray(s.Action).includes('secretsmanager:GetSecretValue'))!;
      expect(JSON.stringify(secrets.Resource)).toContain(`:secret:fledge/${repository}/*`);
    }
  });

  it("lets the state machines pass each repository's execution role, to ECS tasks only", () => {
    const prodResources = prod.template.toJSON().Resources as Resources;
    const repositoryRoles = Object.values(prod.stack.network.secretExecutionRoles).map((role) => prod.stack.getLogicalId(role.node.defaultChild as never));
    for (const [workflow, machine] of Object.entries(prod.stack.workflows.stateMachines)) {
      const statements = roleStatements(prodResources, prod.stack.getLogicalId(machine.role.node.defaultChild as never));
      for (const s of statements.filter((st) => asArray(st.Action).includes('iam:PassRole'))) {
        expect(s.Condition, workflow).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
        const passed = asArray(s.Resource).map(logicalIdOf);
        expect(passed, workflow).toEqual(expect.arrayContaining(repositoryRoles));
        expect(passed, workflow).toHaveLength(2 + repositoryRoles.length);
      }
    }
  });

  it("tells the API its own account, partition and secret root, which decide the secrets a repository owns", () => {
    const api = Object.values(prod.template.findResources('AWS::Lambda::Function')).find((fn) => fn.Properties.Environment?.Variables?.FLEDGE_CREATE_STATE_MACHINE_ARN)!;
    expect(api.Properties.Environment.Variables).toMatchObject({ FLEDGE_ACCOUNT_ID: '123456789012', FLEDGE_PARTITION: { Ref: 'AWS::Partition' }, FLEDGE_SECRET_ROOT: 'fledge' });
    expect(api.Properties.Environment.Variables).not.toHaveProperty('FLEDGE_SECRET_ARN_PREFIXES');
    expect(api.Properties.Environment.Variables.FLEDGE_SECRET_REPOSITORIES).toBe('acme/web,acme/billing');
  });
});

describe('observability and outputs', () => {
  // which alarms there are, and that none pages on a user's failure: test/infra/observability.test.ts
  it('alarms to an encrypted topic, and has a dashboard', () => {
    const alarms = Object.values(dev.template.findResources('AWS::CloudWatch::Alarm'));
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
    dev.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    dev.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('outputs the API URL, table name and ALB DNS name', () => {
    const outputs = dev.template.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'TableName', 'LoadBalancerDnsName']));
  });
});

describe('asynchronously invoked Lambdas (EventBridge rules, EventBridge Scheduler)', () => {
  /** the event-driven functions and what invokes them asynchronously */
  const asyncFunctions = (s: Synthesized) => [
    { name: 'ecs-service-events', fn: s.stack.ecsEvents.handler },
    { name: 'heal-trigger', fn: s.stack.healTrigger.handler },
    { name: 'idle-sleep', fn: s.stack.scaling.idleSleep! },
  ];
  const logicalId = (s: Synthesized, construct: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(construct.node.defaultChild as never);

  it('each have an on-failure destination: an encrypted SQS queue that keeps records 14 days, with sensible retries', () => {
    const configs = Object.values(dev.template.findResources('AWS::Lambda::EventInvokeConfig'));
    // only these three: the waker (ALB), the API (API Gateway) and the task Lambdas (Step Functions) are invoked synchronously
    expect(configs).toHaveLength(3);
    for (const { name, fn } of asyncFunctions(dev)) {
      const fnId = logicalId(dev, fn.function as never);
      const config = configs.find((c) => c.Properties.FunctionName?.Ref === fnId);
      expect(config, name).toBeDefined();
      expect(config!.Properties.Qualifier, name).toBe('$LATEST');
      expect(config!.Properties.MaximumRetryAttempts, name).toBeGreaterThanOrEqual(1);
      expect(config!.Properties.MaximumRetryAttempts, name).toBeLessThanOrEqual(2);
      const destination = config!.Properties.DestinationConfig.OnFailure.Destination;
      const queueId = destination['Fn::GetAtt'][0] as string;
      expect(destination, name).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
      expect(resources[queueId]!.Type, name).toBe('AWS::SQS::Queue');
      expect(resources[queueId]!.Properties, name).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
      dev.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
      // the function may send its failure records there
      const sends = Object.values(dev.template.findResources('AWS::IAM::Policy')).filter((p) =>
        (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === logicalId(dev, fn.role as never)) &&
        JSON.stringify(p.Properties.PolicyDocument).includes('sqs:SendMessage') && JSON.stringify(p.Properties.PolicyDocument).includes(queueId));
      expect(sends, name).toHaveLength(1);
    }
  });

  it('each have an alarm on their failure queue (any visible message) to the operator topic', () => {
    const topicId = logicalId(dev, dev.stack.observability.topic);
    const alarms = Object.values(dev.template.findResources('AWS::CloudWatch::Alarm'));
    for (const { name } of asyncFunctions(dev)) {
      const queueId = logicalId(dev, dev.stack.asyncFailures.queues[name]!);
      const alarm = alarms.find((a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
        JSON.stringify(a.Properties.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }]));
      expect(alarm, name).toBeDefined();
      expect(alarm!.Properties, name).toMatchObject({
        Namespace: 'AWS/SQS', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1, AlarmActions: [{ Ref: topicId }],
      });
    }
  });

  it('keep the EventBridge target dead-letter queues for events that could not be delivered', () => {
    for (const rule of [dev.stack.ecsEvents.rule, ...dev.stack.healTrigger.rules]) {
      const targets = resources[logicalId(dev, rule)]!.Properties!.Targets as { DeadLetterConfig?: unknown }[];
      expect(targets.every((t) => t.DeadLetterConfig)).toBe(true);
    }
  });
});

describe('installation id', () => {
  it('comes from context installationId, or from the stack name, and reaches every Lambda', () => {
    expect(prod.stack.installationId).toBe('acme1');
    expect(dev.stack.installationId).toMatch(/^fled[0-9a-f]{4}$/);
    for (const s of [dev, prod]) {
      for (const [id, fn] of Object.entries(s.template.findResources('AWS::Lambda::Function'))) {
        const variables = (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
        if (!('TABLE_NAME' in variables)) continue; // CDK's own helper functions
        expect(variables.FLEDGE_INSTALLATION_ID, id).toBe(s.stack.installationId);
      }
    }
    expect((dev.template.toJSON().Outputs as Record<string, { Value: unknown }>).InstallationId!.Value).toBe(dev.stack.installationId);
  });
});
