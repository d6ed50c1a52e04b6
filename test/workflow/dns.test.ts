/**
 * Per-environment DNS (docs/design.md "DNS per environment") on the simulated Route 53: with
 * two shards and a hosted zone (FLEDGE_SHARDS, FLEDGE_HOSTED_ZONE_ID) create makes the alias
 * record of the environment's shard's ALB, a failed create and the teardown remove it, the heal
 * puts a deleted one back, throttled Route 53 calls are retried (and the caller's errors are not),
 * and the orphan sweep removes the records of environments that are gone, 100 to a request, backing
 * off when throttled; with one shard no record is made.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BASE_DOMAIN, FAST, SimHarness, spec } from './support/sim-harness.ts';
import { resetConfig } from '../../functions/runtime/config.ts';
import { useClients } from '../../functions/adapters/aws-clients.ts';
import { route53Client } from '../../functions/adapters/clients/route53.ts';
import { deleteAliasRecords } from '../../functions/adapters/dns-records.ts';
import { invoked } from '../support/lambda-context.ts';
import { awsError } from '../../infra/local/simulator/errors.ts';

const h = new SimHarness();
beforeAll(() => h.start(), 90_000);
afterAll(() => h.stop());

const ALB_ZONE = 'Z32O12XQLNTSW2';
const S2_DNS = 'fledge-test-s2-987654321.eu-west-1.elb.amazonaws.com';

/**
 * The shards the handlers are given: s1 is the simulator's ALB; s2 has a DNS name of its own but
 * its rules go on the simulator's one listener (placement puts the second environment on s2, and
 * this harness's simulator has one ALB), so records name two ALBs while the rules all work.
 */
function shards(count: number) {
  const s1DnsName = h.sim.shards[0]!.dnsName;
  return [
    { id: 's1', listenerArn: h.sim.listenerArn, loadBalancerArn: h.sim.loadBalancerArn, loadBalancerDimension: 'app/fledge-local/1', wakerTargetGroupArn: h.wakerTargetGroupArn, dnsName: s1DnsName, canonicalHostedZoneId: ALB_ZONE },
    { id: 's2', listenerArn: h.sim.listenerArn, loadBalancerArn: h.sim.loadBalancerArn, loadBalancerDimension: 'app/fledge-local-s2/2', wakerTargetGroupArn: h.wakerTargetGroupArn, dnsName: S2_DNS, canonicalHostedZoneId: ALB_ZONE },
  ].slice(0, count);
}

/** A fresh world whose handlers see `count` shards and (unless `zone: false`) the simulated hosted zone. */
async function world(count: number, zone = true): Promise<void> {
  await h.reset({ timeoutOverrides: { AwaitSteadyState: 2 }, simulator: FAST });
  process.env.FLEDGE_SHARDS = JSON.stringify(shards(count));
  if (zone) process.env.FLEDGE_HOSTED_ZONE_ID = h.sim.hostedZoneId;
  else delete process.env.FLEDGE_HOSTED_ZONE_ID;
  resetConfig();
}

const recordName = (name: string) => `${name}.${BASE_DOMAIN}.`;
const dnsRecords = () => h.sim.resources().dnsRecords;
const route53Calls = () => h.calls.filter((c) => c.service === 'route53');

/** The DNS name of the ALB of the environment's shard (records without a shard are on s1). */
async function shardDnsName(name: string): Promise<string> {
  const shard = ((await h.item(name))?.shard as string | undefined) ?? 's1';
  return `${shards(2).find((s) => s.id === shard)!.dnsName}.`;
}

async function deleteRecordOutOfBand(name: string): Promise<void> {
  const [record] = dnsRecords().filter((r) => r.name === recordName(name));
  await h.aws('route53', 'ChangeResourceRecordSets', {
    HostedZoneId: h.sim.hostedZoneId,
    ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: { Name: record!.name, Type: 'A', AliasTarget: { HostedZoneId: record!.targetHostedZoneId, DNSName: record!.target, EvaluateTargetHealth: false } } }] },
  });
}

/** An alias A record of `name` naming shard s2's ALB, as the sweep would list it. */
const s2Alias = (name: string) => ({ Name: recordName(name), Type: 'A', AliasTarget: { HostedZoneId: ALB_ZONE, DNSName: S2_DNS, EvaluateTargetHealth: false } });
async function createS2Records(names: string[]): Promise<void> {
  await h.aws('route53', 'ChangeResourceRecordSets', {
    HostedZoneId: h.sim.hostedZoneId,
    ChangeBatch: { Changes: names.map((name) => ({ Action: 'CREATE', ResourceRecordSet: s2Alias(name) })) },
  });
}
const batchSizes = (from = 0) => h.calls.slice(from).filter((c) => c.action === 'ChangeResourceRecordSets').map((c) => (c.params.ChangeBatch as { Changes: unknown[] }).Changes.length);
const reconcileOrphans = async (executionName: string) =>
  (await invoked((await import('../../functions/tasks/reconcile-orphans.ts')).handler)({ asOf: new Date().toISOString(), executionName })) as {
    removed: number; pending: number; environments: { environment: string; removed: unknown[]; pending: { error?: string }[] }[];
  };

describe('per-environment DNS with two shards', () => {
  beforeEach(() => world(2));

  it("create makes <name>.<base domain> an alias A record of its shard's ALB, after CreateRule; the name routes to the environment", async () => {
    const record = await h.created('dns-web');
    expect(record.statesEntered.slice(5, 9)).toEqual(['CreateRule', 'DnsRecordWanted', 'CreateDnsRecord', 'CreateService']);
    const target = await shardDnsName('dns-web');
    expect(dnsRecords()).toEqual([{ name: recordName('dns-web'), type: 'A', target, targetHostedZoneId: ALB_ZONE }]);
    // PlanResources looked at the name first (one listing), and found it free: CREATE, never UPSERT over a record it does not own
    expect(route53Calls().map((c) => c.action)).toEqual(['ListResourceRecordSets', 'ChangeResourceRecordSets']);
    const [create] = h.callsOf('ChangeResourceRecordSets');
    expect(create!.params).toEqual({
      HostedZoneId: h.sim.hostedZoneId,
      ChangeBatch: {
        Comment: 'Fledge: the alias record of a preview environment',
        Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: recordName('dns-web'), Type: 'A', AliasTarget: { HostedZoneId: ALB_ZONE, DNSName: target.slice(0, -1), EvaluateTargetHealth: false } } }],
      },
    });
    expect(h.sim.resolveHost(`dns-web.${BASE_DOMAIN}`)).toBe(target);
    expect(h.sim.servePage(`dns-web.${BASE_DOMAIN}`)).toMatchObject({ outcome: 'task', environment: 'dns-web' });
  });

  it('a failed create removes the record it made (DeleteDnsRecord in the undo chain)', async () => {
    h.failOn('CreateService', 'InvalidParameterException', 'The container app does not exist in the task definition.');
    const record = await h.run('create', await h.seed('dns-fail', spec()));
    expect(record.status).toBe('FAILED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['CreateDnsRecord', 'DeleteDnsRecord', 'DeleteRule', 'DeleteTargetGroup']));
    expect(h.callsOf('ChangeResourceRecordSets').map((c) => (c.params.ChangeBatch as { Changes: { Action: string }[] }).Changes[0]!.Action)).toEqual(['CREATE', 'DELETE']);
    expect(dnsRecords()).toEqual([]);
    expect((await h.item('dns-fail'))?.status).toBe('FAILED');
    const failed = (await h.events('dns-fail')).find((e) => e.type === 'failed')!;
    expect(failed.details!.removed).toContain(recordName('dns-fail'));
    expect(failed.details!.leftOver).toEqual([]);
  });

  it('teardown removes the record; a record already gone counts as done', async () => {
    await h.created('dns-td');
    const first = await h.run('teardown', await h.seed('dns-td', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(first.status).toBe('SUCCEEDED');
    expect(first.statesEntered).toEqual(expect.arrayContaining(['DeleteService', 'DnsRecordToDelete', 'DeleteDnsRecord', 'DeleteListenerRules']));
    expect(dnsRecords()).toEqual([]);
    expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });
    // a second teardown: Route 53 answers InvalidChangeBatch (not found), which is done
    const second = await h.run('teardown', await h.seed('dns-td', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(second.status).toBe('SUCCEEDED');
    expect(second.statesEntered).toContain('DeleteDnsRecord');
    expect((await h.item('dns-td'))?.status).toBe('DELETED');
  });

  it('heal finds the record deleted out of band and puts it back; a heal with the record in place changes nothing', async () => {
    await h.created('dns-heal');
    await deleteRecordOutOfBand('dns-heal');
    expect(dnsRecords()).toEqual([]);
    const record = await h.heal('dns-heal');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toContain('RepairDnsRecord');
    expect(h.callsOf('ChangeResourceRecordSets').at(-1)!.params).toMatchObject({ ChangeBatch: { Changes: [{ Action: 'CREATE' }] } });
    expect(dnsRecords()).toEqual([{ name: recordName('dns-heal'), type: 'A', target: await shardDnsName('dns-heal'), targetHostedZoneId: ALB_ZONE }]);
    const repairs = (await h.events('dns-heal')).filter((e) => e.type === 'heal-repair');
    expect(repairs.map((e) => e.details!.repair)).toEqual(['recreate-dns-record']);
    expect(repairs[0]!.details).toMatchObject({ found: 'the DNS record is missing', done: true, dnsRecord: recordName('dns-heal') });

    const before = h.calls.length;
    const again = await h.heal('dns-heal');
    expect(again.statesEntered).toEqual(['InspectEnvironment', 'AfterInspect', 'FinishHeal', 'AfterPass', 'EnvironmentHealed']);
    // the inspection reads the records of the name (one ListResourceRecordSets) and changes nothing
    expect(h.calls.slice(before).filter((c) => c.service === 'route53').map((c) => c.action)).toEqual(['ListResourceRecordSets']);
  });

  it('throttled Route 53 (Throttling, PriorRequestNotComplete) is retried and the create succeeds', async () => {
    h.throttle('ChangeResourceRecordSets', 3);
    h.failOn('ChangeResourceRecordSets', 'PriorRequestNotComplete', 'The request was rejected because Route 53 was still processing a prior request.', 1);
    const record = await h.created('dns-throttled');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.retries.CreateDnsRecord).toBeGreaterThanOrEqual(3);
    expect(dnsRecords().map((r) => r.name)).toEqual([recordName('dns-throttled')]);
  });

  it("a declared caller error (InvalidInput) fails the create at once and its undo runs; errors Route 53's model does not declare (InternalFailure, AccessDenied: Route53.Route53Exception, as its Throttling) are retried", async () => {
    h.failOn('ChangeResourceRecordSets', 'InvalidInput', 'Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords]], but found none in Change with [Action=UPSERT]');
    const refused = await h.run('create', await h.seed('dns-refused', spec()));
    expect(refused.status).toBe('FAILED');
    expect(refused.retries.CreateDnsRecord ?? 0).toBe(0);
    expect(h.callsOf('ChangeResourceRecordSets').filter((c) => (c.params.ChangeBatch as { Changes: { Action: string }[] }).Changes[0]!.Action === 'CREATE')).toHaveLength(1);
    expect(dnsRecords()).toEqual([]);
    expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });

    for (const [code, message] of [['InternalFailure', 'An internal error occurred.'], ['AccessDenied', 'User: arn:aws:sts::123456789012:assumed-role/fledge-sfn/x is not authorized to perform: route53:ChangeResourceRecordSets']] as const) {
      h.failOn('ChangeResourceRecordSets', code, message, 2);
      const name = `dns-${code.toLowerCase()}`;
      const recovered = await h.created(name);
      expect(recovered.retries.CreateDnsRecord, code).toBe(2);
      expect(dnsRecords().map((r) => r.name)).toContain(recordName(name));
    }
  });


  it('the orphan sweep deletes, in one batch, the records of environments that are gone, and keeps the live ones and the operator\'s own', async () => {
    await h.created('dns-live');
    const upsert = (name: string, dnsName: string) => ({
      Action: 'UPSERT', ResourceRecordSet: { Name: name, Type: 'A', AliasTarget: { HostedZoneId: ALB_ZONE, DNSName: dnsName, EvaluateTargetHealth: false } },
    });
    await h.aws('route53', 'ChangeResourceRecordSets', {
      HostedZoneId: h.sim.hostedZoneId,
      ChangeBatch: {
        Changes: [
          upsert(recordName('dns-gone-1'), S2_DNS),
          upsert(recordName('dns-gone-2'), S2_DNS),
          // the operator's: another target, and a deeper name
          upsert(recordName('api'), 'my-own-alb-1.eu-west-1.elb.amazonaws.com'),
          upsert(`x.dns-gone-3.${BASE_DOMAIN}.`, S2_DNS),
        ],
      },
    });
    const before = h.calls.length;
    const reconcile = invoked((await import('../../functions/tasks/reconcile-orphans.ts')).handler);
    const report = (await reconcile({ asOf: new Date().toISOString(), executionName: 'cleanup-dns' })) as { environments: { environment: string; removed: { type: string; arn: string }[] }[] };
    expect(dnsRecords().map((r) => r.name).sort()).toEqual([recordName('api'), recordName('dns-live'), `x.dns-gone-3.${BASE_DOMAIN}.`]);
    expect(report.environments.filter((e) => e.removed.some((r) => r.type === 'dns-record'))).toEqual([
      { environment: 'dns-gone-1', record: 'unknown', removed: [{ type: 'dns-record', arn: recordName('dns-gone-1') }], pending: [] },
      { environment: 'dns-gone-2', record: 'unknown', removed: [{ type: 'dns-record', arn: recordName('dns-gone-2') }], pending: [] },
    ]);
    const changes = h.calls.slice(before).filter((c) => c.action === 'ChangeResourceRecordSets');
    expect(changes).toHaveLength(1);
    expect((changes[0]!.params.ChangeBatch as { Changes: unknown[] }).Changes).toHaveLength(2);
    expect((await h.events('dns-gone-1'))[0]).toMatchObject({ type: 'orphans-removed', actor: 'system' });
  });
});

/** Every record the zone holds at `name` (any type), as the simulated Route 53 stores it. */
const recordsAt = (name: string) => [...h.sim.internals.route53.records.values()].filter((r) => r.Name === recordName(name));
const changeActions = (from = 0) => h.calls.slice(from).filter((c) => c.action === 'ChangeResourceRecordSets').map((c) => (c.params.ChangeBatch as { Changes: { Action: string }[] }).Changes.map((change) => change.Action).join(','));
const addresses = (name: string) => ({ Name: recordName(name), Type: 'A', TTL: 300, ResourceRecords: [{ Value: '203.0.113.10' }] });
async function operatorRecord(record: Record<string, unknown>): Promise<void> {
  await h.aws('route53', 'ChangeResourceRecordSets', { HostedZoneId: h.sim.hostedZoneId, ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: record }] } });
}
const dnsNameInUse = (name: string) => new RegExp(`^the DNS name ${recordName(name).slice(0, -1).replace(/\./g, '\\.')} is already used in the hosted zone by a record Fledge does not manage`);

describe("names in a shared hosted zone: Fledge writes and deletes only the records it owns (docs/security.md)", () => {
  beforeEach(() => world(2));

  it("the operator's A record at the name: the create fails with DNS_NAME_IN_USE before anything is made, the record unchanged; the teardown leaves it too", async () => {
    await operatorRecord(addresses('www'));
    const before = h.calls.length;
    const record = await h.run('create', await h.seed('www', spec()));
    expect(record.status).toBe('FAILED');
    expect(record.statesEntered).not.toContain('CreateTargetGroup');
    expect(record.statesEntered).not.toContain('CreateDnsRecord');
    const item = await h.item('www');
    expect(item).toMatchObject({ status: 'FAILED', operation: { status: 'FAILED', error: { code: 'DNS_NAME_IN_USE' } } });
    expect(item!.operation.error.message).toMatch(dnsNameInUse('www'));
    expect(item!.listenerPriority).toBeUndefined();
    expect(changeActions(before)).toEqual([]);
    expect(recordsAt('www')).toEqual([addresses('www')]);
    expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });

    // DELETE of the failed environment: the teardown's DELETE names Fledge's alias, which Route 53 refuses (the values differ): done, the record stays
    const torn = await h.run('teardown', await h.seed('www', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(torn.status).toBe('SUCCEEDED');
    expect(torn.statesEntered).toContain('DeleteDnsRecord');
    expect(changeActions(before)).toEqual(['DELETE']);
    expect(recordsAt('www')).toEqual([addresses('www')]);
    expect((await h.item('www'))?.status).toBe('DELETED');
  });

  it("an alias of the operator's to another target, a CNAME, or another type alone at the name: the same, nothing written", async () => {
    const foreign = [
      { Name: recordName('grafana'), Type: 'A', AliasTarget: { HostedZoneId: ALB_ZONE, DNSName: 'grafana-alb-1.eu-west-1.elb.amazonaws.com.', EvaluateTargetHealth: false } },
      { Name: recordName('api'), Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'somewhere.example.org' }] },
      { Name: recordName('mail'), Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"v=spf1 -all"' }] },
    ];
    for (const record of foreign) await operatorRecord(record);
    const before = h.calls.length;
    for (const name of ['grafana', 'api', 'mail']) {
      const run = await h.run('create', await h.seed(name, spec()));
      expect(run.status, name).toBe('FAILED');
      expect((await h.item(name))!.operation.error, name).toMatchObject({ code: 'DNS_NAME_IN_USE', message: expect.stringMatching(dnsNameInUse(name)) });
    }
    expect(changeActions(before)).toEqual([]);
    expect(foreign.map((r) => recordsAt(r.Name.split('.')[0]!))).toEqual(foreign.map((r) => [r]));
  });

  it('a record that appears after PlanResources looked: Route 53 refuses the CREATE, the create fails with DNS_NAME_IN_USE, its compensation deletes nothing of the zone', async () => {
    const late = addresses('dns-race');
    // the operator's record lands between PlanResources' look and CreateDnsRecord: Route 53 answers the CREATE as it would
    h.sim.internals.faults.failNext('ChangeResourceRecordSets', (service) => {
      h.sim.internals.route53.records.set(`${late.Name}|A|`, late);
      return awsError(service, 'InvalidChangeBatch', `[Tried to create resource record set [name='${late.Name}', type='A'] but it already exists]`);
    });
    const before = h.calls.length;
    const record = await h.run('create', await h.seed('dns-race', spec()));
    expect(record.status).toBe('FAILED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['CreateDnsRecord', 'RecheckDnsRecord', 'UndoCreatedResources', 'DeleteRule', 'DeleteTargetGroup']));
    expect(record.statesEntered).not.toContain('DeleteDnsRecord');
    expect(record.retries.CreateDnsRecord ?? 0).toBe(0);
    expect((await h.item('dns-race'))!.operation.error).toMatchObject({ code: 'DNS_NAME_IN_USE', message: expect.stringMatching(dnsNameInUse('dns-race')) });
    expect(changeActions(before)).toEqual(['CREATE']);
    expect(recordsAt('dns-race')).toEqual([late]);
    expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });
  });

  it('a CREATE applied whose answer was lost: the retry is refused (it already exists), RecheckDnsRecord finds its own record, the create ends RUNNING with it, and the teardown deletes it', async () => {
    // Route 53 makes the record, then its answer is lost (a 5xx: Route53.Route53Exception, retried); the retried CREATE meets the record
    h.loseAnswer('ChangeResourceRecordSets', 'InternalFailure', 'An internal error occurred.');
    const before = h.calls.length;
    const record = await h.created('dns-lost');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.retries.CreateDnsRecord).toBe(1);
    expect(record.statesEntered).toEqual(expect.arrayContaining(['CreateDnsRecord', 'RecheckDnsRecord', 'DnsRecordRechecked', 'CreateService']));
    expect(record.statesEntered).not.toContain('UndoCreatedResources');
    expect(changeActions(before)).toEqual(['CREATE', 'CREATE']);
    expect(h.callsOf('ListResourceRecordSets').length).toBe(2);
    const item = await h.item('dns-lost');
    expect(item).toMatchObject({ status: 'RUNNING', operation: { status: 'SUCCEEDED' } });
    expect(dnsRecords()).toEqual([{ name: recordName('dns-lost'), type: 'A', target: await shardDnsName('dns-lost'), targetHostedZoneId: ALB_ZONE }]);

    const torn = await h.run('teardown', await h.seed('dns-lost', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(torn.status).toBe('SUCCEEDED');
    expect(torn.statesEntered).toContain('DeleteDnsRecord');
    expect(dnsRecords()).toEqual([]);
  });

  it('the same lost answer when the create then fails: its undo deletes the record RecheckDnsRecord found to be its own', async () => {
    h.loseAnswer('ChangeResourceRecordSets', 'InternalFailure', 'An internal error occurred.');
    h.failOn('CreateService', 'InvalidParameterException', 'The container app does not exist in the task definition.');
    const record = await h.run('create', await h.seed('dns-lost-undo', spec()));
    expect(record.status).toBe('FAILED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['RecheckDnsRecord', 'CreateService', 'DeleteDnsRecord']));
    expect(changeActions()).toEqual(['CREATE', 'CREATE', 'DELETE']);
    expect(dnsRecords()).toEqual([]);
    expect((await h.item('dns-lost-undo'))!.operation.error.code).not.toBe('DNS_NAME_IN_USE');
  });

  it('InvalidChangeBatch for another reason (a bad alias target): no record at the name, the create fails with the generic code and no Route 53 text, its undo runs', async () => {
    const refusal = "[Tried to create an alias that targets fledge-test-s1.eu-west-1.elb.amazonaws.com., type A in zone Z32O12XQLNTSW2, but the alias target name does not lie within the target zone]";
    h.failOn('ChangeResourceRecordSets', 'InvalidChangeBatch', refusal);
    const before = h.calls.length;
    const record = await h.run('create', await h.seed('dns-bad-target', spec()));
    expect(record.status).toBe('FAILED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['CreateDnsRecord', 'RecheckDnsRecord', 'DnsRecordRechecked', 'UndoCreatedResources', 'DeleteRule', 'DeleteTargetGroup']));
    expect(record.statesEntered).not.toContain('CreateService');
    expect(record.statesEntered).not.toContain('DeleteDnsRecord');
    const error = (await h.item('dns-bad-target'))!.operation.error;
    expect(error.code).toBe('INTERNAL');
    expect(error.message).not.toMatch(/alias|Z32O12XQLNTSW2|elb\.amazonaws|Tried to/);
    expect(changeActions(before)).toEqual(['CREATE']);
    expect(dnsRecords()).toEqual([]);
    expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });

    // Fledge's own alias naming its other ALB at the name when the refusal comes: not this create's record, the same generic failure, the record left
    await createS2Records(['dns-bad-drift']);
    h.failOn('ChangeResourceRecordSets', 'InvalidChangeBatch', refusal);
    // the plan sees the s2 alias (drifted) and UPSERTs: refused all the same
    const drifted = await h.run('create', await h.seed('dns-bad-drift', spec()));
    expect(drifted.status).toBe('FAILED');
    expect(drifted.statesEntered).toContain('RecheckDnsRecord');
    expect(drifted.statesEntered).not.toContain('DeleteDnsRecord');
    expect((await h.item('dns-bad-drift'))!.operation.error.code).toBe('INTERNAL');
    expect(dnsRecords()).toEqual([{ name: recordName('dns-bad-drift'), type: 'A', target: `${S2_DNS}.`, targetHostedZoneId: ALB_ZONE }]);
  });

  it("heal: a CREATE of RepairDnsRecord applied whose answer was lost is the repair's own: the pass ends healed, no failed attempt", async () => {
    await h.created('dns-heal-lost');
    await deleteRecordOutOfBand('dns-heal-lost');
    h.loseAnswer('ChangeResourceRecordSets', 'InternalFailure', 'An internal error occurred.');
    const from = h.calls.length;
    const healed = await h.heal('dns-heal-lost');
    expect(healed.status).toBe('SUCCEEDED');
    expect(healed.statesEntered).toEqual(expect.arrayContaining(['RepairDnsRecord', 'RecheckDnsRecord', 'DnsRecordRechecked', 'FinishHeal', 'EnvironmentHealed']));
    expect(healed.statesEntered.filter((s) => s === 'InspectEnvironment')).toHaveLength(1);
    expect(changeActions(from)).toEqual(['CREATE', 'CREATE']);
    expect(dnsRecords()).toEqual([{ name: recordName('dns-heal-lost'), type: 'A', target: await shardDnsName('dns-heal-lost'), targetHostedZoneId: ALB_ZONE }]);
    const events = await h.events('dns-heal-lost');
    expect(events.filter((e) => e.type === 'heal-attempt-failed')).toEqual([]);
    expect(events.find((e) => e.type === 'heal-repair')).toMatchObject({ details: { repair: 'recreate-dns-record', done: true } });
  });

  it("heal: a refused CREATE with another's record now at the name fails the pass; the next pass finds the name taken and leaves it", async () => {
    await h.created('dns-heal-race');
    await deleteRecordOutOfBand('dns-heal-race');
    const late = addresses('dns-heal-race');
    h.sim.internals.faults.failNext('ChangeResourceRecordSets', (service) => {
      h.sim.internals.route53.records.set(`${late.Name}|A|`, late);
      return awsError(service, 'InvalidChangeBatch', `[Tried to create resource record set [name='${late.Name}', type='A'] but it already exists]`);
    });
    const from = h.calls.length;
    const healed = await h.heal('dns-heal-race');
    expect(healed.status).toBe('SUCCEEDED');
    expect(healed.statesEntered).toEqual(expect.arrayContaining(['RepairDnsRecord', 'RecheckDnsRecord', 'FinishHeal', 'WaitBackoff']));
    expect(changeActions(from)).toEqual(['CREATE']);
    expect(recordsAt('dns-heal-race')).toEqual([late]);
    const events = await h.events('dns-heal-race');
    expect(events.find((e) => e.type === 'heal-attempt-failed')).toMatchObject({ details: { error: { code: 'DNS_NAME_IN_USE' } } });
    expect(events.filter((e) => e.type === 'dns-name-in-use')).toHaveLength(1);
  });

  it("PlanResources' look at the name, throttled by Route 53 past the SDK's own tries: retried with Route 53's budget, the create succeeds", async () => {
    h.throttle('ListResourceRecordSets', 6);
    const record = await h.created('dns-busy');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.retries.PlanResources).toBeGreaterThanOrEqual(1);
    expect(changeActions()).toEqual(['CREATE']);
  });

  it("its own alias left by an earlier environment of that name (an interrupted teardown): the create takes it over (UPSERT) and points it at its shard's ALB", async () => {
    // an alias to one of this installation's ALBs (s2); the create lands on s1
    await createS2Records(['dns-stale']);
    const before = h.calls.length;
    const record = await h.created('dns-stale');
    expect(record.status).toBe('SUCCEEDED');
    expect(changeActions(before)).toEqual(['UPSERT']);
    expect(dnsRecords()).toEqual([{ name: recordName('dns-stale'), type: 'A', target: await shardDnsName('dns-stale'), targetHostedZoneId: ALB_ZONE }]);
  });

  it("heal: a record of the operator's now at the name is left alone and reported; Fledge's own alias naming its other ALB is re-pointed (UPSERT)", async () => {
    await h.created('dns-own');
    await deleteRecordOutOfBand('dns-own');
    await operatorRecord(addresses('dns-own'));
    const before = h.calls.length;
    const left = await h.heal('dns-own');
    expect(left.status).toBe('SUCCEEDED');
    expect(left.statesEntered).not.toContain('RepairDnsRecord');
    expect(changeActions(before)).toEqual([]);
    expect(recordsAt('dns-own')).toEqual([addresses('dns-own')]);
    const reported = (await h.events('dns-own')).filter((e) => e.type === 'dns-name-in-use');
    expect(reported).toHaveLength(1);
    expect(reported[0]!.message).toMatch(dnsNameInUse('dns-own'));
    expect(reported[0]!.message).toMatch(/the heal left it as it is/);
    expect(reported[0]!.details).toEqual({ dnsRecord: recordName('dns-own') });

    // the operator frees the name and an alias of Fledge's, naming its other ALB, stands there: the heal re-points it
    await h.aws('route53', 'ChangeResourceRecordSets', { HostedZoneId: h.sim.hostedZoneId, ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: addresses('dns-own') }] } });
    const own = await shardDnsName('dns-own');
    const other = shards(2).find((s) => `${s.dnsName}.` !== own)!;
    await operatorRecord({ Name: recordName('dns-own'), Type: 'A', AliasTarget: { HostedZoneId: ALB_ZONE, DNSName: other.dnsName, EvaluateTargetHealth: false } });
    const from = h.calls.length;
    const repointed = await h.heal('dns-own');
    expect(repointed.statesEntered).toContain('RepairDnsRecord');
    expect(changeActions(from)).toEqual(['UPSERT']);
    expect(dnsRecords()).toEqual([{ name: recordName('dns-own'), type: 'A', target: own, targetHostedZoneId: ALB_ZONE }]);
  });
});

describe('the orphan sweep at scale', () => {
  beforeEach(() => world(2));

  it('650 orphaned records: three listing pages (300 a page), deletions 100 to a request', async () => {
    const names = Array.from({ length: 650 }, (_, i) => `dns-old-${String(i).padStart(3, '0')}`);
    await h.aws('route53', 'ChangeResourceRecordSets', {
      HostedZoneId: h.sim.hostedZoneId,
      ChangeBatch: {
        Changes: names.map((name) => ({
          Action: 'CREATE', ResourceRecordSet: { Name: recordName(name), Type: 'A', AliasTarget: { HostedZoneId: ALB_ZONE, DNSName: S2_DNS, EvaluateTargetHealth: false } },
        })),
      },
    });
    const reconcile = invoked((await import('../../functions/tasks/reconcile-orphans.ts')).handler);
    const report = (await reconcile({ asOf: new Date().toISOString(), executionName: 'cleanup-dns-scale' })) as { removed: number; pending: number };
    expect(report).toMatchObject({ removed: 650, pending: 0 });
    expect(dnsRecords()).toEqual([]);
    const route53 = route53Calls().map((c) => c.action);
    expect(route53.filter((a) => a === 'ListResourceRecordSets')).toHaveLength(3);
    expect(batchSizes()).toEqual([100, 100, 100, 100, 100, 100, 50]);
  }, 60_000);

  it('a throttled deletion backs off and goes again; throttled twice in a row it is split in halves; nothing is left', async () => {
    await createS2Records(['dns-t-1', 'dns-t-2', 'dns-t-3']);
    // the SDK's own 3 tries (standard retry mode) take 3 throttles each: two requests fail Throttling
    h.throttle('ChangeResourceRecordSets', 6);
    const before = h.calls.length;
    const report = await reconcileOrphans('cleanup-dns-throttled');
    expect(report).toMatchObject({ removed: 3, pending: 0 });
    expect(batchSizes(before)).toEqual([3, 3, 2, 1]);
    expect(dnsRecords()).toEqual([]);
  });

  it('throttled without end: the deletions stop after a bounded number of tries and report what was deleted and what is left', async () => {
    await createS2Records(['dns-u-1', 'dns-u-2']);
    h.throttle('ChangeResourceRecordSets', 1000);
    const before = h.calls.length;
    const waits: number[] = [];
    const outcome = await deleteAliasRecords(h.sim.hostedZoneId, ['dns-u-1', 'dns-u-2'].map(s2Alias), undefined, async (ms) => void waits.push(ms));
    expect(outcome.deleted).toEqual([]);
    expect(outcome.failure).toMatchObject({ name: 'Throttling' });
    // two tries of the pair, then five of its first half alone
    expect(batchSizes(before)).toEqual([2, 2, 1, 1, 1, 1, 1]);
    expect(waits).toHaveLength(6);
    expect(Math.max(...waits)).toBeLessThanOrEqual(8000);
    expect(dnsRecords()).toHaveLength(2);
  });

  it('records deleted meanwhile, again and again: the batch goes again without them each time', async () => {
    await createS2Records(['dns-v-1', 'dns-v-2', 'dns-v-3', 'dns-v-4']);
    const original = route53Client();
    const vanishing = ['dns-v-1', 'dns-v-2'];
    useClients({
      route53: {
        send: async (command: { constructor: { name: string } }) => {
          const next = command.constructor.name === 'ChangeResourceRecordSetsCommand' ? vanishing.shift() : undefined;
          if (next) await deleteRecordOutOfBand(next);
          return original.send(command);
        },
      },
    });
    const before = h.calls.length;
    const outcome = await deleteAliasRecords(h.sim.hostedZoneId, ['dns-v-1', 'dns-v-2', 'dns-v-3', 'dns-v-4'].map(s2Alias));
    expect(outcome).toEqual({ deleted: [recordName('dns-v-3'), recordName('dns-v-4')] });
    expect(batchSizes(before)).toEqual([4, 3, 2]);
    expect(dnsRecords()).toEqual([]);
  });

  it('an error that is not the zone changing (NoSuchHostedZone) stops at once and reports the records pending', async () => {
    await createS2Records(['dns-w-1']);
    h.failOn('ChangeResourceRecordSets', 'NoSuchHostedZone', 'No hosted zone found with ID: Z0', 1);
    const report = await reconcileOrphans('cleanup-dns-failed');
    expect(report).toMatchObject({ removed: 0, pending: 1 });
    expect(report.environments.find((e) => e.environment === 'dns-w-1')!.pending).toEqual([expect.objectContaining({ error: expect.any(String) })]);
    expect(dnsRecords()).toHaveLength(1);
  });
});

describe('per-environment DNS off', () => {
  it('one shard: the wildcard is enough, no Route 53 call, the DNS states are skipped', async () => {
    await world(1);
    const created = await h.created('dns-one');
    expect(created.statesEntered).toContain('DnsRecordWanted');
    expect(created.statesEntered).not.toContain('CreateDnsRecord');
    const torn = await h.run('teardown', await h.seed('dns-one', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(torn.statesEntered).toContain('DnsRecordToDelete');
    expect(torn.statesEntered).not.toContain('DeleteDnsRecord');
    expect(route53Calls()).toEqual([]);
    expect(dnsRecords()).toEqual([]);
  });

  it('two shards but no hosted zone: no record either', async () => {
    await world(2, false);
    const created = await h.created('dns-nozone');
    expect(created.statesEntered).not.toContain('CreateDnsRecord');
    expect(route53Calls()).toEqual([]);
  });
});
