import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_BASE_DOMAIN, MAX_ENVIRONMENTS_PER_ALB, readConfig } from '../../infra/aws/config.ts';
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
      quotaGlobal: 99,
      quotaPerRepository: 20,
      logRetentionDays: 30,
      account: undefined,
      region: undefined,
      albIngressCidrs: ['0.0.0.0/0'],
    });
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

  it('keeps the global quota within what one ALB holds: 99 passes, 100 fails naming the limit and the setting', () => {
    expect(read({ quotaGlobal: 99 }).quotaGlobal).toBe(99);
    expect(read({ quotaGlobal: '99' }).quotaGlobal).toBe(99);
    expect(MAX_ENVIRONMENTS_PER_ALB).toBe(99);
    for (const quotaGlobal of [100, '100', 500]) {
      expect(() => read({ quotaGlobal })).toThrow(ConfigError);
      expect(() => read({ quotaGlobal })).toThrow(/context quotaGlobal is \d+, .*at most 100 target groups \(a hard limit\).*waker uses one target group, so set quotaGlobal to at most 99/);
    }
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
