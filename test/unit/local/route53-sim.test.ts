/**
 * The simulated Route 53 (infra/local/simulator/route53.ts): alias records in the one hosted
 * zone, AWS's errors for bad change batches, atomic batches, paging, and the request rate (the
 * account's bucket and each action's, 50 refilled 10 a second) answered with `Throttling`,
 * through both doors (SDK client and Step Functions' aws-sdk integration).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeResourceRecordSetsCommand, GetChangeCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { AWS_RATE_LIMITS, createSimulator, ManualClock, type Simulator, type SimulatorOptions } from '../../../infra/local/simulator/index.ts';
import { rejection } from './sim-fixture.ts';

const ZONE = 'preview.example.com';
const ALB = { DNSName: 'fledge-s2-123.eu-west-1.elb.amazonaws.com', HostedZoneId: 'Z32O12XQLNTSW2' };

let sim: Simulator;
let clock: ManualClock;
afterEach(() => sim?.stop());

function start(options: SimulatorOptions = {}): Simulator {
  clock = new ManualClock();
  sim = createSimulator({ clock, rateLimits: false, hostedZoneName: ZONE, ...options });
  return sim;
}

const alias = (name: string, target = ALB) => ({
  Name: `${name}.${ZONE}`,
  Type: 'A' as const,
  AliasTarget: { ...target, EvaluateTargetHealth: false },
});
const change = (Action: 'CREATE' | 'UPSERT' | 'DELETE', name: string, target = ALB) => ({ Action, ResourceRecordSet: alias(name, target) });
const send = (changes: ReturnType<typeof change>[], zone = sim.hostedZoneId) =>
  sim.client('route53').send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Changes: changes } }));
const names = () => sim.resources().dnsRecords.map((r) => r.name);

describe('simulated Route 53: alias records', () => {
  it('UPSERT creates, UPSERT again replaces, DELETE with the current values removes; resources() and resolveHost follow', async () => {
    start();
    expect(sim.hostedZoneId).toMatch(/^Z0LOCAL[0-9A-F]+$/);
    const out = await send([change('UPSERT', 'pr-1')]);
    expect(out.ChangeInfo).toMatchObject({ Status: 'PENDING', Id: expect.stringMatching(/^\/change\/C/) });
    expect(sim.resources().dnsRecords).toEqual([{ name: `pr-1.${ZONE}.`, type: 'A', target: `${ALB.DNSName}.`, targetHostedZoneId: ALB.HostedZoneId }]);
    expect(sim.resolveHost(`PR-1.${ZONE}`)).toBe(`${ALB.DNSName}.`);
    const other = { DNSName: 'fledge-s1-9.eu-west-1.elb.amazonaws.com', HostedZoneId: ALB.HostedZoneId };
    await send([change('UPSERT', 'pr-1', other)]);
    expect(sim.resolveHost(`pr-1.${ZONE}.`)).toBe(`${other.DNSName}.`);
    await send([change('DELETE', 'pr-1', other)]);
    expect(names()).toEqual([]);
    expect(sim.resolveHost(`pr-1.${ZONE}`)).toBeUndefined();
  });

  it('host routing asks the zone first: a name whose record names another ALB is not served by this one', async () => {
    start();
    const own = { DNSName: sim.shards[0]!.dnsName, HostedZoneId: ALB.HostedZoneId };
    await send([change('CREATE', 'elsewhere'), change('CREATE', 'here', own)]);
    // a record naming no ALB of the pool: nothing answers (local mode shows a 502 page)
    expect(sim.servePage(`elsewhere.${ZONE}`)).toMatchObject({ host: `elsewhere.${ZONE}`, outcome: 'no-load-balancer' });
    // no rule for it on this ALB either: the default answer, but reached through the zone
    expect(sim.servePage(`here.${ZONE}`).outcome).toBe('fixed-response');
    expect(sim.resolveHost(`here.${ZONE}:8080`)).toBe(`${own.DNSName}.`);
  });

  it('GetChange: PENDING, then INSYNC once propagated', async () => {
    start();
    const { ChangeInfo } = await send([change('CREATE', 'pr-1')]);
    expect((await sim.client('route53').send(new GetChangeCommand({ Id: ChangeInfo.Id }))).ChangeInfo.Status).toBe('PENDING');
    await clock.advance(1000);
    expect((await sim.call('route53', 'getChange', { Id: ChangeInfo.Id })) as object).toMatchObject({ ChangeInfo: { Status: 'INSYNC' } });
  });
});

describe("simulated Route 53: AWS's errors", () => {
  it('CREATE of an existing record and DELETE of a missing one: InvalidChangeBatch, named by Step Functions Route53.InvalidChangeBatchException', async () => {
    start();
    await send([change('CREATE', 'pr-1')]);
    const exists = await rejection(send([change('CREATE', 'pr-1')]));
    expect(exists).toMatchObject({ name: 'InvalidChangeBatch', $metadata: { httpStatusCode: 400 }, sfnErrorName: 'Route53.InvalidChangeBatchException' });
    expect(exists.message).toContain(`Tried to create resource record set [name='pr-1.${ZONE}.', type='A'] but it already exists`);
    const missing = await rejection(sim.call('route53', 'changeResourceRecordSets', { HostedZoneId: sim.hostedZoneId, ChangeBatch: { Changes: [change('DELETE', 'pr-2')] } }));
    expect(missing.name).toBe('InvalidChangeBatch');
    expect(missing.message).toContain('but it was not found');
  });

  it('DELETE whose alias target differs from the record: InvalidChangeBatch, the record stays', async () => {
    start();
    await send([change('CREATE', 'pr-1')]);
    const error = await rejection(send([change('DELETE', 'pr-1', { ...ALB, DNSName: 'elsewhere.elb.amazonaws.com' })]));
    expect(error.message).toContain('the values provided do not match the current values');
    expect(names()).toEqual([`pr-1.${ZONE}.`]);
  });

  it('a name outside the zone, an alias with a TTL, an empty batch, an unknown zone', async () => {
    start();
    const outside = await rejection(send([{ Action: 'CREATE', ResourceRecordSet: { ...alias('x'), Name: 'pr-1.other.org' } }]));
    expect(outside).toMatchObject({ name: 'InvalidChangeBatch' });
    expect(outside.message).toContain('is not permitted in zone');
    const both = await rejection(send([{ Action: 'CREATE', ResourceRecordSet: { ...alias('pr-1'), TTL: 60 } as never }]));
    expect(both).toMatchObject({ name: 'InvalidInput', sfnErrorName: 'Route53.InvalidInputException' });
    expect((await rejection(send([]))).name).toBe('InvalidInput');
    const zone = await rejection(send([change('CREATE', 'pr-1')], 'Z0NOTTHERE'));
    expect(zone).toMatchObject({ name: 'NoSuchHostedZone', $metadata: { httpStatusCode: 404 } });
    // the AWS model: AliasTarget needs EvaluateTargetHealth
    const invalid = await rejection(sim.call('route53', 'changeResourceRecordSets', {
      HostedZoneId: sim.hostedZoneId, ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: `a.${ZONE}`, Type: 'A', AliasTarget: ALB } }] },
    }));
    expect(invalid.name).toBe('InvalidInput');
    expect(names()).toEqual([]);
  });

  it('more than 1,000 records in one batch: InvalidChangeBatch', async () => {
    start();
    const changes = Array.from({ length: 1001 }, (_, i) => change('CREATE', `pr-${i}`));
    expect((await rejection(send(changes))).name).toBe('InvalidChangeBatch');
    expect(names()).toEqual([]);
    await send(changes.slice(0, 1000));
    expect(names()).toHaveLength(1000);
  });
});

describe('simulated Route 53: a change batch is atomic', () => {
  it('one bad change rejects the whole batch and applies nothing; the good batch applies all', async () => {
    start();
    await send([change('CREATE', 'pr-1')]);
    const error = await rejection(send([change('CREATE', 'pr-2'), change('DELETE', 'pr-3'), change('DELETE', 'pr-1')]));
    expect(error.name).toBe('InvalidChangeBatch');
    expect(error.messages).toEqual([`Tried to delete resource record set [name='pr-3.${ZONE}.', type='A'] but it was not found`]);
    expect(names()).toEqual([`pr-1.${ZONE}.`]);
    await send([change('CREATE', 'pr-2'), change('DELETE', 'pr-1')]);
    expect(names()).toEqual([`pr-2.${ZONE}.`]);
  });

  it('two changes of one record in a batch: InvalidChangeBatch', async () => {
    start();
    const error = await rejection(send([change('CREATE', 'pr-1'), change('UPSERT', 'pr-1')]));
    expect(error.message).toContain('invalid set of changes');
    expect(names()).toEqual([]);
  });

  it('a CNAME is alone at its name: an A alias where a CNAME exists, and a CNAME where an A exists, are InvalidChangeBatch; replacing one by the other in one batch works', async () => {
    start();
    const cname = (Action: 'CREATE' | 'DELETE', name: string) => ({
      Action, ResourceRecordSet: { Name: `${name}.${ZONE}`, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'elsewhere.example.org' }] },
    });
    await send([cname('CREATE', 'www') as never]);
    for (const action of ['CREATE', 'UPSERT'] as const) {
      const error = await rejection(send([change(action, 'www')]));
      expect(error).toMatchObject({ name: 'InvalidChangeBatch', sfnErrorName: 'Route53.InvalidChangeBatchException' });
      expect(error.message).toContain(`RRSet of type A with DNS name www.${ZONE}. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone ${ZONE}.`);
    }
    expect(sim.resolveHost(`www.${ZONE}`)).toBeUndefined();
    await send([change('CREATE', 'pr-1')]);
    const reverse = await rejection(send([cname('CREATE', 'pr-1') as never]));
    expect(reverse.message).toContain(`RRSet of type CNAME with DNS name pr-1.${ZONE}. is not permitted as it conflicts with other records with the same DNS name in zone ${ZONE}.`);
    // the batch is judged in order: delete the CNAME first, then the A alias may take its name
    await send([cname('DELETE', 'www') as never, change('CREATE', 'www')]);
    expect(names()).toEqual([`pr-1.${ZONE}.`, `www.${ZONE}.`]);
  });
});

describe('simulated Route 53: ListResourceRecordSets', () => {
  it("lists in Route 53's order (NS and SOA of the apex first), pages by MaxItems with NextRecordName, starts at StartRecordName", async () => {
    start();
    await send(['b', 'a', 'c'].map((n) => change('CREATE', n)));
    const list = (input: Record<string, unknown>) => sim.client('route53').send(new ListResourceRecordSetsCommand({ HostedZoneId: sim.hostedZoneId, ...input }));
    const first = await list({ MaxItems: 3 });
    expect(first.ResourceRecordSets.map((r: { Name: string; Type: string }) => `${r.Type} ${r.Name}`)).toEqual([`NS ${ZONE}.`, `SOA ${ZONE}.`, `A a.${ZONE}.`]);
    expect(first).toMatchObject({ IsTruncated: true, NextRecordName: `b.${ZONE}.`, NextRecordType: 'A' });
    const second = await list({ StartRecordName: first.NextRecordName, StartRecordType: first.NextRecordType, MaxItems: 3 });
    expect(second.ResourceRecordSets.map((r: { Name: string }) => r.Name)).toEqual([`b.${ZONE}.`, `c.${ZONE}.`]);
    expect(second.IsTruncated).toBe(false);
    expect((await rejection(list({ StartRecordType: 'A' }))).name).toBe('InvalidInput');
  });

  it('the names under a domain are one run: `-` sorts before the trailing dot, so a sibling `x-2` comes before `x` and its children', async () => {
    start();
    await send([change('CREATE', 'env'), { Action: 'CREATE', ResourceRecordSet: { ...alias('x'), Name: `pr-2-x.${ZONE}` } }]);
    await send([{ Action: 'CREATE', ResourceRecordSet: { ...alias('x'), Name: `a.env.${ZONE}` } }, { Action: 'CREATE', ResourceRecordSet: { ...alias('x'), Name: `env-2.${ZONE}` } }]);
    const out = await sim.client('route53').send(new ListResourceRecordSetsCommand({ HostedZoneId: sim.hostedZoneId, StartRecordName: `env.${ZONE}` }));
    expect(out.ResourceRecordSets.map((r: { Name: string }) => r.Name)).toEqual([`env.${ZONE}.`, `a.env.${ZONE}.`, `pr-2-x.${ZONE}.`]);
  });
});

describe("simulated Route 53: the account's bucket and each action's (50, refilled 10 a second)", () => {
  const list = () => sim.call('route53', 'listResourceRecordSets', { HostedZoneId: sim.hostedZoneId });
  const create = (name: string) => sim.call('route53', 'changeResourceRecordSets', { HostedZoneId: sim.hostedZoneId, ChangeBatch: { Changes: [change('CREATE', name)] } });

  it('AWS_RATE_LIMITS holds the sizes of the Route 53 Developer Guide ("Throttling for Amazon Route 53 API requests")', () => {
    expect(AWS_RATE_LIMITS['route53:*']).toEqual({ burst: 50, perSecond: 10, account: { burst: 50, perSecond: 10 } });
  });

  it('every Route 53 call takes from the account bucket: 25 changes and 25 listings empty it, a GetChange (its own bucket full) is throttled (HTTP 400 Throttling)', async () => {
    start({ rateLimits: undefined });
    for (let i = 0; i < 25; i++) await create(`pr-${i}`);
    for (let i = 0; i < 25; i++) await list();
    const throttled = await rejection(sim.call('route53', 'getChange', { Id: 'C0' }));
    expect(throttled).toMatchObject({ name: 'Throttling', Code: 'Throttling', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 }, sfnErrorName: 'Route53.Route53Exception' });
    expect((await rejection(create('pr-99'))).name).toBe('Throttling');
    expect(names()).not.toContain(`pr-99.${ZONE}.`);
    // other services keep their own buckets
    await sim.call('elasticloadbalancingv2', 'describeLoadBalancers', {});
  });

  it('the bucket refills 10 a second: 100 ms gives one call, 5 s the whole burst of 50 again', async () => {
    start({ rateLimits: undefined });
    for (let i = 0; i < 50; i++) await list();
    expect((await rejection(list())).name).toBe('Throttling');
    await clock.advance(100);
    await list();
    expect((await rejection(list())).name).toBe('Throttling');
    await clock.advance(5000);
    for (let i = 0; i < 50; i++) await list();
    expect((await rejection(list())).name).toBe('Throttling');
  });

  it("a call needs a token from both buckets: an empty action bucket throttles that action alone, and a throttled call takes no token", async () => {
    // a smaller action bucket than AWS's, to tell the two apart
    start({ rateLimits: { ...AWS_RATE_LIMITS, 'route53:*': { burst: 2, perSecond: 1, account: { burst: 4, perSecond: 1 } } } });
    await list();
    await list();
    for (let i = 0; i < 3; i++) expect((await rejection(list())).name).toBe('Throttling');
    // the three throttled listings took nothing from the account bucket: 2 tokens left there, then none
    await create('a');
    await create('b');
    expect((await rejection(sim.call('route53', 'getChange', { Id: 'C0' }))).name).toBe('Throttling');
    expect(names()).toEqual([`a.${ZONE}.`, `b.${ZONE}.`]);
  });
});
