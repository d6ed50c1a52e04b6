/**
 * The pool of load balancers on AWS (issue 14): the stack creates ceil(maxEnvironments / 99)
 * ALBs, each with its listener and its own waker target group; shard 1 keeps the construct ids
 * of the single ALB of earlier versions; a custom resource writes every shard to the state
 * table's item POOL#shards/POOL on every deploy, and the Lambdas that need the pool get only
 * FLEDGE_SHARD_POOL=table (and, with more than one shard, FLEDGE_HOSTED_ZONE_ID), so 11 shards
 * (1,000 environments) fit Lambda's 4 KB; the workflows may manage rules on every shard's
 * listener and, with per-environment DNS only, records in that one hosted zone.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Token } from 'aws-cdk-lib';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../infra/aws/config.ts';
import { FledgeStack } from '../../infra/aws/fledge-stack.ts';
import { REPO_ROOT } from '../../infra/aws/lambda-function.ts';
import { LAMBDA_ENVIRONMENT_LIMIT, lambdaEnvironmentSize } from '../../infra/aws/lambda-environment.ts';
import { Network } from '../../infra/aws/network.ts';
import { bundlingContext, PRODUCTION_CONTEXT, PRODUCTION_ENV, synthFledge, type Synthesized } from './synth-fledge.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation properties are untyped JSON
type Json = any;
type Resources = Record<string, { Type: string; Properties?: Record<string, Json>; DependsOn?: string[] | string }>;
interface Statement { Effect: string; Action: string | string[]; Resource?: unknown }

const ZONE = 'Z0123456789ABCDEFGHIJ';
const POOL = { ...PRODUCTION_CONTEXT, quotaGlobal: 150, maxEnvironments: 150, hostedZoneId: ZONE, closedShards: 's1' };
const asArray = <T,>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const idOf = (s: { stack: Stack }, construct: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(construct.node.defaultChild as never);
const ofType = (resources: Resources, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

function roleStatements(resources: Resources, roleId: string): Statement[] {
  return Object.values(resources)
    // CDK moves statements past a policy's size into overflow managed policies attached to the same role
    .filter((r) => (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && asArray(r.Properties?.Roles).some((ref: Json) => ref?.Ref === roleId))
    .flatMap((r) => r.Properties!.PolicyDocument.Statement as Statement[]);
}
const grants = (statements: Statement[], action: string) => statements.filter((s) => asArray(s.Action).includes(action)).flatMap((s) => asArray(s.Resource));

/** A JSON text as deployed (a string or an Fn::Join), parsed, with every reference written as <logicalId> or <logicalId.Attribute>. */
function deployedJson(value: Json): Json {
  const parts: Json[] = typeof value === 'string' ? [value] : value['Fn::Join'][1];
  const text = parts
    .map((part) => (typeof part === 'string' ? part : part.Ref ? `<${part.Ref}>` : `<${part['Fn::GetAtt'].join('.')}>`))
    .join('');
  return JSON.parse(text) as Json;
}

/** The pool item's custom resource in a template, and the SDK calls it makes on create and update. */
function poolItem(s: Synthesized): { id: string; resource: Json; create: Json; update: Json } {
  const found = Object.entries(s.template.findResources('Custom::FledgeShardPool')) as [string, Json][];
  expect(found).toHaveLength(1);
  const [id, resource] = found[0]!;
  return { id, resource, create: deployedJson(resource.Properties.Create), update: deployedJson(resource.Properties.Update) };
}
const shardsOf = (s: Synthesized): Json[] => JSON.parse(poolItem(s).create.parameters.Item.shards.S) as Json[];

let dev: Synthesized;
let pool: Synthesized;
let devResources: Resources;
let resources: Resources;

beforeAll(() => {
  dev = synthFledge();
  pool = synthFledge(POOL, PRODUCTION_ENV);
  devResources = dev.template.toJSON().Resources as Resources;
  resources = pool.template.toJSON().Resources as Resources;
});

afterAll(() => {
  dev?.dispose();
  pool?.dispose();
});

describe('the pool size follows maxEnvironments (99 environments per load balancer)', () => {
  it('creates one ALB by default and two for 150 environments, each internet-facing in the public subnets with the shared security group', () => {
    expect(ofType(devResources, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toHaveLength(1);
    const albs = ofType(resources, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(albs).toHaveLength(2);
    for (const [, alb] of albs) {
      expect(alb.Properties).toMatchObject({
        Scheme: 'internet-facing',
        Subnets: PRODUCTION_CONTEXT.publicSubnetIds.split(','),
        SecurityGroups: [{ 'Fn::GetAtt': [idOf(pool, pool.stack.network.albSecurityGroup), 'GroupId'] }],
      });
    }
  });

  it.each([[99, 1], [100, 2], [250, 3], [1000, 11]])('%i environments: %i load balancers, each with its listener', (maxEnvironments, count) => {
    // the network alone (the whole stack at 1,000: "the pool item and FLEDGE_SHARD_POOL")
    const stack = new Stack(new App(), 'Pool');
    const config = readConfig((key) => ({ maxEnvironments, hostedZoneId: ZONE })[key]);
    const network = new Network(stack, 'Network', { config, logRetention: 30, installationId: 'pool1' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', count);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', count);
    expect(network.listeners).toHaveLength(count);
  });

  it("keeps shard 1's logical ids of the single ALB of earlier versions (an upgrade replaces nothing)", () => {
    // the construct paths of the one ALB before the pool (logical ids follow from them)
    expect(pool.stack.network.loadBalancer.node.path).toBe('Fledge/Network/LoadBalancer');
    expect(pool.stack.network.listener.node.path).toBe('Fledge/Network/LoadBalancer/Https');
    expect(pool.stack.scaling.wakerTargetGroup.node.path).toBe('Fledge/Scaling/WakerTargetGroup');
    expect(dev.stack.network.listener.node.path).toBe('Fledge/Network/LoadBalancer/Http');
    for (const pick of [(s: Synthesized) => s.stack.network.loadBalancer, (s: Synthesized) => s.stack.scaling.wakerTargetGroup]) {
      expect(idOf(pool, pick(pool))).toBe(idOf(dev, pick(dev)));
    }
    expect(idOf(dev, dev.stack.network.loadBalancer)).toMatch(/^NetworkLoadBalancer[0-9A-F]{8}$/);
  });
});

describe("each shard's listener and waker", () => {
  it('listens on HTTPS with the shared certificate, answers 404 by default, and redirects HTTP', () => {
    const listeners = ofType(resources, 'AWS::ElasticLoadBalancingV2::Listener');
    for (const loadBalancer of pool.stack.network.loadBalancers) {
      const own = listeners.filter(([, l]) => l.Properties!.LoadBalancerArn.Ref === idOf(pool, loadBalancer)).map(([, l]) => l.Properties!);
      expect(own).toHaveLength(2);
      expect(own.find((l) => l.Port === 443)).toMatchObject({
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: PRODUCTION_CONTEXT.certificateArn }],
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
      });
      expect(own.find((l) => l.Port === 80)).toMatchObject({ DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443' } }] });
    }
  });

  it('has its own waker target group, targeting the one waker, registered after the invoke permission', () => {
    const fnId = idOf(pool, pool.stack.scaling.waker.function);
    const groups = pool.stack.scaling.wakerTargetGroups;
    expect(groups).toHaveLength(2);
    const permissions = ofType(resources, 'AWS::Lambda::Permission').filter(([, r]) => r.Properties?.FunctionName?.['Fn::GetAtt']?.[0] === fnId);
    // one permission for the load balancers of this account covers both target groups
    expect(permissions).toHaveLength(1);
    expect(permissions[0]![1].Properties).toMatchObject({ Principal: 'elasticloadbalancing.amazonaws.com', SourceAccount: PRODUCTION_ENV.account });
    for (const group of groups) {
      const tg = resources[idOf(pool, group)]!;
      expect(tg.Properties).toMatchObject({ TargetType: 'lambda', Targets: [{ Id: { 'Fn::GetAtt': [fnId, 'Arn'] } }] });
      expect(asArray(tg.DependsOn)).toContain(permissions[0]![0]);
    }
  });

  it('outputs each further shard\'s DNS name next to the wildcard\'s (shard s1)', () => {
    const outputs = pool.template.toJSON().Outputs as Record<string, { Value: Json; Description: string }>;
    expect(outputs.LoadBalancerDnsName!.Value).toEqual({ 'Fn::GetAtt': [idOf(pool, pool.stack.network.loadBalancer), 'DNSName'] });
    expect(outputs.Shard2LoadBalancerDnsName!.Value).toEqual({ 'Fn::GetAtt': [idOf(pool, pool.stack.network.loadBalancers[1]!), 'DNSName'] });
    expect(Object.keys(outputs).filter((key) => key.startsWith('Shard'))).toEqual(['Shard2LoadBalancerDnsName']);
  });
});

describe('the pool item and FLEDGE_SHARD_POOL', () => {
  const functions = (s: Synthesized) => Object.entries(s.template.findResources('AWS::Lambda::Function')) as [string, Json][];
  const variablesOf = (fn: Json): Record<string, Json> => fn.Properties.Environment?.Variables ?? {};
  const tableId = () => idOf(pool, pool.stack.stateTable.table);

  it('a custom resource puts every shard, in order, with its listener, ALB, metric dimension, waker, DNS name and zone, into POOL#shards/POOL on create and update; closedShards marks closed', () => {
    const lb = (i: number) => idOf(pool, pool.stack.network.loadBalancers[i]!);
    const expected = [0, 1].map((i) => ({
      id: `s${i + 1}`,
      listenerArn: `<${idOf(pool, pool.stack.network.listeners[i]!)}>`,
      loadBalancerArn: `<${lb(i)}>`,
      loadBalancerDimension: `<${lb(i)}.LoadBalancerFullName>`,
      wakerTargetGroupArn: `<${idOf(pool, pool.stack.scaling.wakerTargetGroups[i]!)}>`,
      dnsName: `<${lb(i)}.DNSName>`,
      canonicalHostedZoneId: `<${lb(i)}.CanonicalHostedZoneID>`,
      ...(i === 0 ? { closed: true } : {}),
    }));
    const { create, update } = poolItem(pool);
    expect(create).toMatchObject({
      service: 'DynamoDB',
      action: 'PutItem',
      parameters: { TableName: `<${tableId()}>`, Item: { pk: { S: 'POOL#shards' }, sk: { S: 'POOL' } } },
    });
    expect(shardsOf(pool)).toEqual(expected);
    expect(create.parameters.Item.updatedAt.S).toMatch(/^\d{4}-\d\d-\d\dT/);
    // every deploy rewrites it (the update call is the create call)
    expect(update).toEqual(create);
  });

  it('is written before any workflow, cleanup run or idle-sleep check can start (a first deploy)', () => {
    const { id } = poolItem(pool);
    const dependents = [...Object.values(pool.stack.workflows.stateMachines), pool.stack.cleanup.stateMachine, pool.stack.scaling.idleSleepSchedule!];
    for (const dependent of dependents) {
      const logicalId = idOf(pool, dependent);
      expect(asArray(resources[logicalId]!.DependsOn), logicalId).toContain(id);
    }
  });

  it('its physical id changes with the pool (an update rewrites the item), not between two syntheses of one pool', () => {
    const physicalId = (s: Synthesized) => poolItem(s).create.physicalResourceId.id as string;
    expect(physicalId(pool)).toMatch(/^fledge-shard-pool-[0-9a-f]{16}$/);
    expect(physicalId(dev)).not.toBe(physicalId(pool));
    const closedS2 = synthFledge({ ...POOL, closedShards: 's2' }, PRODUCTION_ENV);
    const again = synthFledge(POOL, PRODUCTION_ENV);
    try {
      expect(physicalId(closedS2)).not.toBe(physicalId(pool));
      expect(physicalId(again)).toBe(physicalId(pool));
    } finally {
      closedS2.dispose();
      again.dispose();
    }
  });

  it("its writer may put that item of the state table only (and use the table's key), on CDK's prebuilt provider: no bundling, no Docker, no SDK download", () => {
    const roleId = idOf(pool, pool.stack.shardPool.role);
    const statements = roleStatements(resources, roleId);
    const dynamodb = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamodb).toEqual([expect.objectContaining({
      Action: 'dynamodb:PutItem',
      Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] },
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['POOL#shards'] } },
    })]);
    expect(grants(statements, 'kms:Encrypt')).toEqual([PRODUCTION_CONTEXT.tableKmsKeyArn]);
    expect(statements.flatMap((s) => asArray(s.Action)).sort()).toEqual(
      ['dynamodb:PutItem', 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*', 'logs:CreateLogStream', 'logs:PutLogEvents'],
    );
    const { resource } = poolItem(pool);
    const [providerId, provider] = functions(pool).find(([id]) => resource.Properties.ServiceToken['Fn::GetAtt'][0] === id)!;
    expect(provider.Properties.Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(provider.Properties.Code.S3Key, providerId).toMatch(/\.zip$/);
    expect(resource.Properties.InstallLatestAwsSdk).toBe(false);
    const assets = JSON.parse(readFileSync(join(pool.outdir, 'Fledge.assets.json'), 'utf8')) as { dockerImages?: object };
    expect(Object.keys(assets.dockerImages ?? {})).toEqual([]);
  });

  it('the task Lambdas, the waker, idle sleep and the cleanup get FLEDGE_SHARD_POOL=table and may read the item; no Lambda gets FLEDGE_SHARDS', () => {
    const all = functions(pool);
    for (const [id, fn] of all) expect(variablesOf(fn).FLEDGE_SHARDS, id).toBeUndefined();
    const withPool = all.filter(([, fn]) => variablesOf(fn).FLEDGE_SHARD_POOL !== undefined);
    const expectedIds = [
      ...Object.values(pool.stack.workflows.taskFunctions), ...Object.values(pool.stack.cleanup.functions), pool.stack.scaling.waker, pool.stack.scaling.idleSleep!,
    ].map((fn) => idOf(pool, fn.function)).sort();
    expect(withPool.map(([id]) => id).sort()).toEqual(expectedIds);
    for (const [id, fn] of withPool) {
      expect(variablesOf(fn).FLEDGE_SHARD_POOL, id).toBe('table');
      expect(variablesOf(fn).FLEDGE_HOSTED_ZONE_ID, id).toBe(ZONE);
      // shard 1's listener stays for code that predates the pool
      expect(variablesOf(fn).FLEDGE_LISTENER_ARN, id).toEqual({ Ref: idOf(pool, pool.stack.network.listener) });
      const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
      expect(grants(roleStatements(resources, roleId), 'dynamodb:GetItem'), id).toContainEqual({ 'Fn::GetAtt': [tableId(), 'Arn'] });
    }
    // discover-resources has no other access to the table: the pool item only
    const discover = roleStatements(resources, idOf(pool, pool.stack.workflows.taskFunctions['discover-resources'].role as never));
    expect(discover.filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')))).toEqual([expect.objectContaining({
      Action: 'dynamodb:GetItem', Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['POOL#shards'] } },
    })]);
  });

  it('leave the API and event Lambdas without the pool (they place nothing), and set no hosted zone with one shard', () => {
    const api = pool.stack.functionEnvironment.api;
    expect(api).not.toHaveProperty('FLEDGE_SHARD_POOL');
    expect(api).not.toHaveProperty('FLEDGE_HOSTED_ZONE_ID');
    for (const [id, fn] of functions(pool).filter(([id]) => id.startsWith('Cleanup') || id.startsWith('EcsEvents') || id.startsWith('HealTrigger'))) {
      expect(variablesOf(fn).FLEDGE_SHARD_POOL, id).toBe(id.startsWith('Cleanup') ? 'table' : undefined);
      // the orphan sweep finds the zone's records
      expect(variablesOf(fn).FLEDGE_HOSTED_ZONE_ID, id).toBe(ZONE);
    }
    expect(dev.stack.functionEnvironment.task).not.toHaveProperty('FLEDGE_HOSTED_ZONE_ID');
    expect(shardsOf(dev)).toHaveLength(1);
    // a zone with one shard: the wildcard record is enough, no per-environment records
    const oneShardWithZone = synthFledge({ hostedZoneId: ZONE });
    try {
      expect(oneShardWithZone.stack.functionEnvironment.task).not.toHaveProperty('FLEDGE_HOSTED_ZONE_ID');
    } finally {
      oneShardWithZone.dispose();
    }
  });

  it("1,000 environments: 11 shards synthesize, all in the item, every Lambda's environment under 4 KB (measured), cdk-nag clean", () => {
    const big = synthFledge({ ...PRODUCTION_CONTEXT, maxEnvironments: 1000, quotaGlobal: 1000, hostedZoneId: ZONE, closedShards: 's3' }, PRODUCTION_ENV);
    try {
      expect(big.stack.network.loadBalancers).toHaveLength(11);
      expect(shardsOf(big).map((shard) => shard.id)).toEqual(Array.from({ length: 11 }, (_, i) => `s${i + 1}`));
      expect(shardsOf(big).filter((shard) => shard.closed).map((shard) => shard.id)).toEqual(['s3']);
      let largest = { total: 0, path: '' };
      let count = 0;
      for (const construct of big.stack.node.findAll()) {
        if (!(construct instanceof CfnFunction)) continue;
        // as CloudFormation gets them, each reference a token again (counted at its upper bound)
        const resolved = (big.stack.resolve(construct.environment) as { variables?: Record<string, unknown> } | undefined)?.variables ?? {};
        const variables = Object.fromEntries(Object.entries(resolved).map(([name, value]) => [name, typeof value === 'string' ? value : Token.asString(value)]));
        const { total } = lambdaEnvironmentSize(big.stack, variables);
        expect(total, construct.node.path).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_LIMIT);
        if (total > largest.total) largest = { total, path: construct.node.path };
        count += 1;
      }
      expect(count).toBeGreaterThan(20);
      console.info(`infra: 11 shards: the largest Lambda environment (upper bound) is ${largest.total} of ${LAMBDA_ENVIRONMENT_LIMIT} bytes (${largest.path}), of ${count} functions`);
      const report = new AwsSolutionsChecks().validateScope(big.stack);
      expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    } finally {
      big.dispose();
    }
  });
});

describe('permissions', () => {
  const machineRoles = (s: Synthesized) => Object.values(s.stack.workflows.stateMachines).map((m) => idOf(s, m.role as never));

  it("let the workflows create, modify and delete rules on every shard's listener, and no other", () => {
    const listenerIds = pool.stack.network.listeners.map((l) => idOf(pool, l));
    const create = roleStatements(resources, idOf(pool, pool.stack.workflows.stateMachines.create.role as never));
    expect(grants(create, 'elasticloadbalancing:CreateRule')).toEqual(listenerIds.map((id) => ({ Ref: id })));
    const teardown = roleStatements(resources, idOf(pool, pool.stack.workflows.stateMachines.teardown.role as never));
    const rulePatterns = grants(teardown, 'elasticloadbalancing:DeleteRule');
    expect(rulePatterns).toHaveLength(2);
    listenerIds.forEach((id, i) => expect(JSON.stringify(rulePatterns[i])).toContain(`"Ref":"${id}"`));
    // the orphan sweep may delete rules of both listeners too
    const orphans = roleStatements(resources, idOf(pool, pool.stack.cleanup.functions['reconcile-orphans'].role as never));
    expect(grants(orphans, 'elasticloadbalancing:DeleteRule')).toHaveLength(2);
  });

  it("scope Route 53 to the hosted zone: the orphan sweep, the heal inspection, the create's plan and its recheck; nothing without per-environment DNS", () => {
    const zoneArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:route53:::hostedzone/${ZONE}`]] };
    const orphans = roleStatements(resources, idOf(pool, pool.stack.cleanup.functions['reconcile-orphans'].role as never));
    expect(grants(orphans, 'route53:ChangeResourceRecordSets')).toEqual([zoneArn]);
    expect(grants(orphans, 'route53:ListResourceRecordSets')).toEqual([zoneArn]);
    const inspect = roleStatements(resources, idOf(pool, pool.stack.workflows.taskFunctions['inspect-environment'].role as never));
    expect(grants(inspect, 'route53:ListResourceRecordSets')).toEqual([zoneArn]);
    expect(grants(inspect, 'route53:ChangeResourceRecordSets')).toEqual([]);
    // the create's plan looks at its name before anything is made (a record Fledge does not manage: DNS_NAME_IN_USE); it writes nothing itself
    const plan = roleStatements(resources, idOf(pool, pool.stack.workflows.taskFunctions['plan-resources'].role as never));
    expect(grants(plan, 'route53:ListResourceRecordSets')).toEqual([zoneArn]);
    expect(grants(plan, 'route53:ChangeResourceRecordSets')).toEqual([]);
    // RecheckDnsRecord reads the name again when Route 53 refused the create's CREATE; it writes nothing, and touches no environment's item
    const recheck = roleStatements(resources, idOf(pool, pool.stack.workflows.taskFunctions['recheck-dns-record'].role as never));
    expect(grants(recheck, 'route53:ListResourceRecordSets')).toEqual([zoneArn]);
    expect(grants(recheck, 'route53:ChangeResourceRecordSets')).toEqual([]);
    expect(grants(recheck, 'dynamodb:PutItem')).toEqual([]);
    expect(grants(recheck, 'dynamodb:UpdateItem')).toEqual([]);
    // one shard: no Route 53 permission anywhere
    expect(JSON.stringify(devResources)).not.toContain('route53:');
    expect(machineRoles(dev).length).toBeGreaterThan(3);
  });

  it('give a state machine whose ASL calls Route 53 the zone (and its changes) only, and nothing without the zone', () => {
    const root = mkdtempSync(join(tmpdir(), 'fledge-asl-'));
    try {
      for (const entry of ['functions', 'package.json', 'package-lock.json', 'tsconfig.json']) symlinkSync(join(REPO_ROOT, entry), join(root, entry));
      mkdirSync(join(root, 'statemachines'));
      for (const file of readdirSync(join(REPO_ROOT, 'statemachines')).filter((f) => f.endsWith('.asl.json'))) {
        const definition = JSON.parse(readFileSync(join(REPO_ROOT, 'statemachines', file), 'utf8'));
        if (file === 'create.asl.json') {
          // what the DNS states call (H14b): an UPSERT and the wait for it
          definition.States.UpsertDnsRecord = { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:route53:changeResourceRecordSets', Parameters: {}, End: true };
          definition.States.AwaitDnsChange = { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:route53:getChange', Parameters: {}, End: true };
        }
        writeFileSync(join(root, 'statemachines', file), JSON.stringify(definition));
      }
      const synth = (context: Record<string, unknown>) => {
        const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'fledge-cdk-')), context: bundlingContext(false) });
        const stack = new FledgeStack(app, 'Fledge', { config: readConfig((key) => context[key]), env: PRODUCTION_ENV, sourceRoot: root });
        return { stack, resources: Template.fromStack(stack).toJSON().Resources as Resources, outdir: app.outdir };
      };
      const withZone = synth(POOL);
      const create = roleStatements(withZone.resources, withZone.stack.getLogicalId(withZone.stack.workflows.stateMachines.create.role.node.defaultChild as never));
      expect(grants(create, 'route53:ChangeResourceRecordSets')).toEqual([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:route53:::hostedzone/${ZONE}`]] }]);
      expect(grants(create, 'route53:GetChange')).toEqual([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::change/*']] }]);
      const report = new AwsSolutionsChecks().validateScope(withZone.stack);
      expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);

      const withoutZone = synth({ ...PRODUCTION_CONTEXT });
      expect(JSON.stringify(withoutZone.resources)).not.toContain('route53:');
      for (const dir of [withZone.outdir, withoutZone.outdir]) rmSync(dir, { recursive: true, force: true });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the dashboard', () => {
  it("draws every shard's ALB requests and its own 5xx answers, one line per shard", () => {
    const [dashboard] = Object.values(pool.template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard!.Properties.DashboardBody);
    for (const loadBalancer of pool.stack.network.loadBalancers) {
      const dimension = JSON.stringify({ 'Fn::GetAtt': [idOf(pool, loadBalancer), 'LoadBalancerFullName'] });
      expect(body.split(dimension).length - 1, idOf(pool, loadBalancer)).toBe(2);
    }
    expect(body).toContain('RequestCount');
    expect(body).toContain('HTTPCode_ELB_5XX_Count');
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports nothing unacknowledged for a pool of two shards with per-environment DNS', () => {
    const report = new AwsSolutionsChecks().validateScope(pool.stack);
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });
});
