import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_BASE_DOMAIN, MAX_ENVIRONMENTS_PER_ALB, readConfig, shardsNeeded } from '../../infra/aws/config.ts';
import { REPO_ROOT } from '../../infra/aws/lambda-function.ts';
import { aslCalls, TASK_FUNCTIONS, UNSCOPABLE_ACTIONS, WORKFLOWS } from '../../infra/aws/workflows.ts';

const read = (context: Record<string, unknown>) => readConfig((key) => context[key]);

describe('infra/aws/config.ts', () => {
  it('has offline defaults: new VPC with one NAT, HTTP, placeholder domain, default quotas', () => {
    const config = read({});
    expect(config).toMatchObject({
      vpcId: undefined,
      natGateways: 1,
      certificateArn: undefined,
      baseDomain: DEFAULT_BASE_DOMAIN,
      baseDomainIsDefault: true,
      maxTtl: '30d',
      maxEnvironments: 99,
      shardCount: 1,
      closedShards: [],
      quotaGlobal: 99,
      quotaPerRepository: 20,
      logRetentionDays: 30,
      account: undefined,
      region: undefined,
      albIngressCidrs: ['0.0.0.0/0'],
    });
    expect(config.hostedZoneId).toBeUndefined();
  });

  it('reads strings from -c (numbers and comma lists as text) and JSON from cdk.json alike', () => {
    const fromCli = read({ quotaGlobal: '7', publicSubnetIds: 'subnet-a, subnet-b', vpcId: 'vpc-1', baseDomain: 'Preview.Acme.dev.' });
    expect(fromCli.quotaGlobal).toBe(7);
    expect(fromCli.publicSubnetIds).toEqual(['subnet-a', 'subnet-b']);
    expect(fromCli.baseDomain).toBe('preview.acme.dev');
    expect(fromCli.baseDomainIsDefault).toBe(false);
    const fromJson = read({ quotaGlobal: 7, publicSubnetIds: ['subnet-a', 'subnet-b'], vpcId: 'vpc-1' });
    expect(fromJson.publicSubnetIds).toEqual(['subnet-a', 'subnet-b']);
  });

  it.each([
    [{ maxTtl: '30 days' }, /maxTtl/],
    [{ quotaGlobal: 0 }, /quotaGlobal/],
    [{ quotaPerRepository: '2.5' }, /quotaPerRepository/],
    [{ logRetentionDays: 10 }, /logRetentionDays/],
    [{ baseDomain: 'not a domain' }, /baseDomain/],
    [{ certificateArn: 'arn:aws:iam::1:server-certificate/x' }, /certificateArn/],
    [{ publicSubnetIds: 'subnet-a,subnet-b' }, /need vpcId/],
    [{ vpcId: 'vpc-1', publicSubnetIds: 'subnet-a' }, /at least 2/],
    [{ vpcId: 'vpc-1', privateSubnetIds: 'subnet-a,subnet-b' }, /publicSubnetIds/],
    [{ secretArnPrefixes: 'arn:aws:s3:::bucket/' }, /secretArnPrefixes/],
    [{ natGateways: 3 }, /natGateways/],
    [{ installationId: 'Fledge' }, /installationId must be 2-8 characters/],
    [{ installationId: 'a-b' }, /installationId/],
    [{ installationId: 'internal' }, /installationId must not be "internal"/],
    [{ fargatePrices: '{"vcpuHour": 0.04}' }, /fargatePrices must be/],
    [{ fargatePrices: { vcpuHour: -1, gbHour: 0.004 } }, /fargatePrices must be/],
    [{ fargatePrices: 'cheap' }, /fargatePrices must be a JSON object/],
  ])('rejects %j', (context, message) => {
    expect(() => read(context)).toThrow(ConfigError);
    expect(() => read(context)).toThrow(message);
  });

  it('reads the operator\'s Fargate prices from -c (JSON text) or cdk.json; none by default', () => {
    expect(read({}).fargatePrices).toBeUndefined();
    expect(read({ fargatePrices: '{"vcpuHour": 0.05, "gbHour": 0.005}' }).fargatePrices).toEqual({ vcpuHour: 0.05, gbHour: 0.005 });
    expect(read({ fargatePrices: { vcpuHour: 0.05, gbHour: 0.005 } }).fargatePrices).toEqual({ vcpuHour: 0.05, gbHour: 0.005 });
  });

  it('keeps the global quota within what one ALB holds by default: 99 passes, 100 fails naming the limit and the setting', () => {
    expect(read({ quotaGlobal: 99 }).quotaGlobal).toBe(99);
    expect(read({ quotaGlobal: '99' }).quotaGlobal).toBe(99);
    expect(MAX_ENVIRONMENTS_PER_ALB).toBe(99);
    for (const quotaGlobal of [100, '100', 500]) {
      expect(() => read({ quotaGlobal })).toThrow(ConfigError);
      expect(() => read({ quotaGlobal })).toThrow(/context quotaGlobal is \d+, but the pool holds 99 environments: 1 Application Load Balancer\(s\) of 99 \(100 target groups per ALB, a hard limit, one of them the waker's\)\. Raise maxEnvironments/);
    }
  });

  it.each([
    [1, 1], [99, 1], [100, 2], [198, 2], [199, 3], [250, 3], [1000, 11], [4950, 50],
  ])('sizes the pool from maxEnvironments: %i environments need %i load balancers (99 each)', (maxEnvironments, shards) => {
    expect(shardsNeeded(maxEnvironments)).toBe(shards);
    const config = read({ maxEnvironments: String(maxEnvironments), hostedZoneId: 'Z0123456789ABCDEFGHIJ' });
    expect(config.shardCount).toBe(shards);
    // the global quota defaults to the pool's capacity
    expect(config.quotaGlobal).toBe(shards * 99);
  });

  it('needs the hosted zone past one load balancer, and only accepts a hosted zone id', () => {
    expect(() => read({ maxEnvironments: 100 })).toThrow(ConfigError);
    expect(() => read({ maxEnvironments: 100 })).toThrow(/maxEnvironments is 100, which needs 2 load balancers.*set hostedZoneId to the Route 53 hosted zone of baseDomain/);
    expect(read({ maxEnvironments: 99 }).hostedZoneId).toBeUndefined();
    // a zone with one shard is accepted (it is not used: the wildcard record is enough)
    expect(read({ hostedZoneId: 'Z0123456789ABCDEFGHIJ' }).hostedZoneId).toBe('Z0123456789ABCDEFGHIJ');
    expect(read({ maxEnvironments: 250, hostedZoneId: '/hostedzone/Z0123456789ABCDEFGHIJ' }).hostedZoneId).toBe('Z0123456789ABCDEFGHIJ');
    for (const hostedZoneId of ['preview.acme.dev', 'z123', 'Z12 34']) {
      expect(() => read({ maxEnvironments: 250, hostedZoneId })).toThrow(/context hostedZoneId must be a Route 53 hosted zone id/);
    }
  });

  it('refuses a pool beyond AWS\'s default 50 Application Load Balancers per Region, and nonsense sizes', () => {
    expect(read({ maxEnvironments: 4950, hostedZoneId: 'Z0123456789ABCDEFGHIJ' }).shardCount).toBe(50);
    expect(() => read({ maxEnvironments: 4951, hostedZoneId: 'Z0123456789ABCDEFGHIJ' })).toThrow(
      /maxEnvironments is 4951, which needs 51 Application Load Balancers.*default quota is 50 Application Load Balancers per Region, so set maxEnvironments to at most 4950/,
    );
    for (const maxEnvironments of [0, -5, 2.5, 'many']) expect(() => read({ maxEnvironments })).toThrow(/context maxEnvironments must be an integer/);
  });

  it('keeps the quotas within the pool: quotaGlobal <= shards * 99, quotaPerRepository <= quotaGlobal', () => {
    const zone = { hostedZoneId: 'Z0123456789ABCDEFGHIJ' };
    expect(read({ ...zone, maxEnvironments: 250, quotaGlobal: 297 }).quotaGlobal).toBe(297);
    expect(() => read({ ...zone, maxEnvironments: 250, quotaGlobal: 298 })).toThrow(/quotaGlobal is 298, but the pool holds 297 environments: 3 Application Load Balancer/);
    expect(() => read({ quotaGlobal: 10, quotaPerRepository: 11 })).toThrow(/quotaPerRepository is 11, above quotaGlobal \(10\)/);
    // the per-repository default (20) never exceeds a smaller global quota
    expect(read({ quotaGlobal: 10 }).quotaPerRepository).toBe(10);
  });

  it('reads closedShards as shard ids of this pool, never all of them', () => {
    const zone = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', maxEnvironments: 250 };
    expect(read({ ...zone, closedShards: 's1' }).closedShards).toEqual(['s1']);
    expect(read({ ...zone, closedShards: ['s1', 's3', 's1'] }).closedShards).toEqual(['s1', 's3']);
    expect(() => read({ ...zone, closedShards: 's4' })).toThrow(/closedShards: "s4" is not a shard of this pool \(s1 to s3\)/);
    expect(() => read({ ...zone, closedShards: 'lb-1' })).toThrow(/closedShards: "lb-1" is not a shard/);
    expect(() => read({ closedShards: 's1' })).toThrow(/closedShards closes every shard/);
  });

  it('takes an installation id from context, or leaves it to the stack (derived from its name)', () => {
    expect(read({ installationId: 'prod1' }).installationId).toBe('prod1');
    expect(read({}).installationId).toBeUndefined();
  });

  it('documents every context key it reads in cdk.json', () => {
    const cdkJson = JSON.parse(readFileSync(`${REPO_ROOT}cdk.json`, 'utf8')) as { app: string; context: Record<string, unknown> };
    expect(cdkJson.app).toBe('npx tsx infra/aws/app.ts');
    const keys = new Set<string>();
    readConfig((key) => {
      keys.add(key);
      return undefined;
    });
    for (const key of keys) expect(cdkJson.context[`//${key}`], key).toEqual(expect.any(String));
  });
});

describe('aslCalls (state machine permissions are derived from the ASL)', () => {
  it('collects SDK integrations, optimised integrations and invoked task Lambdas in branches and maps', () => {
    const calls = aslCalls({
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:ecs:registerTaskDefinition', Next: 'B' },
        B: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'C',
              States: {
                C: {
                  Type: 'Task',
                  Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
                  Parameters: { FunctionName: '${AwaitSteadyStateFunctionArn}' },
                  End: true,
                },
              },
            },
          ],
          Next: 'D',
        },
        D: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'E',
            States: { E: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:elasticloadbalancingv2:deleteTargetGroup', End: true } },
          },
          Next: 'F',
        },
        F: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:updateItem', End: true },
      },
    });
    expect(calls.actions).toEqual(['dynamodb:UpdateItem', 'ecs:RegisterTaskDefinition', 'elasticloadbalancing:DeleteTargetGroup']);
    expect(calls.functions).toEqual(['AwaitSteadyStateFunctionArn']);
  });

  it('refuses integrations it has no IAM mapping for', () => {
    expect(() => aslCalls({ States: { A: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:s3:getObject' } } })).toThrow(/s3/);
    expect(() =>
      aslCalls({ States: { A: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'arn:aws:lambda:x' } } } }),
    ).toThrow(/substitution/);
  });

  it('finds only known task Lambdas in the repository ASL files', () => {
    const known = new Set<string>(Object.values(TASK_FUNCTIONS));
    for (const workflow of WORKFLOWS) {
      const calls = aslCalls(JSON.parse(readFileSync(`${REPO_ROOT}statemachines/${workflow}.asl.json`, 'utf8')));
      for (const fn of calls.functions) expect(known.has(fn), `${workflow}: ${fn}`).toBe(true);
      expect(calls.actions.length, workflow).toBeGreaterThan(0);
    }
    expect(UNSCOPABLE_ACTIONS).toContain('ecs:RegisterTaskDefinition');
  });
});
