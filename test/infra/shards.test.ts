/**
 * The pool of load balancers on AWS (issue 14): the stack creates ceil(maxEnvironments / 99)
 * ALBs, each with its listener and its own waker target group; shard 1 keeps the construct ids
 * of the single ALB of earlier versions; the task Lambdas get FLEDGE_SHARDS (every shard) and,
 * with more than one shard, FLEDGE_HOSTED_ZONE_ID; the workflows may manage rules on every
 * shard's listener and, with per-environment DNS only, records in that one hosted zone.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../infra/aws/config.ts';
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
    .filter((r) => r.Type === 'AWS::IAM::Policy' && asArray(r.Properties?.Roles).some((ref: Json) => ref?.Ref === roleId))
    .flatMap((r) => r.Properties!.PolicyDocument.Statement as Statement[]);
}
const grants = (statements: Statement[], action: string) => statements.filter((s) => asArray(s.Action).includes(action)).flatMap((s) => asArray(s.Resource));

/** FLEDGE_SHARDS of a function as deployed: the Fn::Join parts, with every reference written as <logicalId.Attribute>. */
function shardsOf(variables: Record<string, Json>): Json[] {
  const value = variables.FLEDGE_SHARDS;
  const parts: Json[] = typeof value === 'string' ? [value] : value['Fn::Join'][1];
  const text = parts
    .map((part) => (typeof part === 'string' ? part : part.Ref ? `<${part.Ref}>` : `<${part['Fn::GetAtt'].join('.')}>`))
    .join('');
  return JSON.parse(text) as Json[];
}

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
    // the network alone: past 2 shards the whole stack does not synthesize (see "the environment of the Lambdas")
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

describe('FLEDGE_SHARDS and FLEDGE_HOSTED_ZONE_ID', () => {
  const functions = (s: Synthesized) => Object.entries(s.template.findResources('AWS::Lambda::Function')) as [string, Json][];

  it('name every shard, in order, with its listener, ALB, metric dimension, waker, DNS name and zone; closedShards marks closed', () => {
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
    const tasks = functions(pool).filter(([id]) => id.startsWith('Workflows'));
    expect(tasks.length).toBeGreaterThan(10);
    for (const [id, fn] of tasks) {
      expect(shardsOf(fn.Properties.Environment.Variables), id).toEqual(expected);
      expect(fn.Properties.Environment.Variables.FLEDGE_HOSTED_ZONE_ID, id).toBe(ZONE);
      // shard 1's listener stays for code that predates the pool
      expect(fn.Properties.Environment.Variables.FLEDGE_LISTENER_ARN, id).toEqual({ Ref: idOf(pool, pool.stack.network.listener) });
    }
  });

  it("give the waker every shard but the waker target groups (each targets the waker: it would depend on itself)", () => {
    const waker = resources[idOf(pool, pool.stack.scaling.waker.function)]!;
    const shards = shardsOf(waker.Properties!.Environment.Variables);
    expect(shards.map((shard) => shard.id)).toEqual(['s1', 's2']);
    for (const shard of shards) expect(shard).not.toHaveProperty('wakerTargetGroupArn');
    const idle = resources[idOf(pool, pool.stack.scaling.idleSleep!.function)]!;
    expect(shardsOf(idle.Properties!.Environment.Variables).map((shard) => shard.wakerTargetGroupArn)).toHaveLength(2);
  });

  it('leave the API, event and cleanup Lambdas alone (they place nothing; next to the machine ARNs it would not fit), and set no hosted zone with one shard', () => {
    const api = pool.stack.functionEnvironment.api;
    expect(api).not.toHaveProperty('FLEDGE_SHARDS');
    expect(api).not.toHaveProperty('FLEDGE_HOSTED_ZONE_ID');
    for (const [id, fn] of functions(pool).filter(([id]) => id.startsWith('Cleanup') || id.startsWith('EcsEvents') || id.startsWith('HealTrigger'))) {
      expect(fn.Properties.Environment.Variables.FLEDGE_SHARDS, id).toBeUndefined();
      // the orphan sweep finds the zone's records
      expect(fn.Properties.Environment.Variables.FLEDGE_HOSTED_ZONE_ID, id).toBe(ZONE);
    }
    expect(dev.stack.functionEnvironment.task).not.toHaveProperty('FLEDGE_HOSTED_ZONE_ID');
    expect(shardsOf(dev.stack.resolve(dev.stack.functionEnvironment.task))).toHaveLength(1);
    // a zone with one shard: the wildcard record is enough, no per-environment records
    const oneShardWithZone = synthFledge({ hostedZoneId: ZONE });
    try {
      expect(oneShardWithZone.stack.functionEnvironment.task).not.toHaveProperty('FLEDGE_HOSTED_ZONE_ID');
    } finally {
      oneShardWithZone.dispose();
    }
  });

  it("fit Lambda's 4 KB with two shards (references at their documented maxima), with the size measured", () => {
    const size = lambdaEnvironmentSize(pool.stack, { NODE_OPTIONS: '--enable-source-maps', ...pool.stack.functionEnvironment.task }).total;
    console.info(`infra: task Lambda environment upper bound with 2 shards: ${size} bytes of ${LAMBDA_ENVIRONMENT_LIMIT}`);
    expect(size).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_LIMIT);
  });

  it('refuse at synth a pool whose FLEDGE_SHARDS does not fit a Lambda environment, saying so', () => {
    expect(() => synthFledge({ maxEnvironments: 250, hostedZoneId: ZONE })).toThrow(ConfigError);
    expect(() => synthFledge({ maxEnvironments: 250, hostedZoneId: ZONE })).toThrow(
      /the task Lambdas may take \d+ bytes, over Lambda's limit of 4096 bytes.*FLEDGE_SHARDS \(\d+ bytes\).*FLEDGE_SHARDS names all 3 load balancers of the pool/,
    );
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

  it('scope Route 53 to the hosted zone: the orphan sweep and the heal inspection; nothing without per-environment DNS', () => {
    const zoneArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:route53:::hostedzone/${ZONE}`]] };
    const orphans = roleStatements(resources, idOf(pool, pool.stack.cleanup.functions['reconcile-orphans'].role as never));
    expect(grants(orphans, 'route53:ChangeResourceRecordSets')).toEqual([zoneArn]);
    expect(grants(orphans, 'route53:ListResourceRecordSets')).toEqual([zoneArn]);
    const inspect = roleStatements(resources, idOf(pool, pool.stack.workflows.taskFunctions['inspect-environment'].role as never));
    expect(grants(inspect, 'route53:ListResourceRecordSets')).toEqual([zoneArn]);
    expect(grants(inspect, 'route53:ChangeResourceRecordSets')).toEqual([]);
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
