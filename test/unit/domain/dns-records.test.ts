/** Per-environment DNS's pure rules (functions/domain/dns-records.ts): when a record is made, its name and target, which records are orphans. */
import { describe, expect, it } from 'vitest';
import { aliasShard, batches, dnsChangeFor, dnsPlan, dnsRecordName, dnsRecordState, environmentOfRecord, refusedCreate, type AliasShard } from '../../../functions/domain/dns-records.ts';
import { planRepairs, type Findings } from '../../../functions/domain/healing.ts';

const S1: AliasShard = { id: 's1', dnsName: 'fledge-s1-1.eu-west-1.elb.amazonaws.com', canonicalHostedZoneId: 'Z32O12XQLNTSW2' };
const S2: AliasShard = { id: 's2', dnsName: 'fledge-s2-2.eu-west-1.elb.amazonaws.com', canonicalHostedZoneId: 'Z32O12XQLNTSW2' };
const ON = { baseDomain: 'Preview.Example.com', hostedZoneId: 'Z0ZONE', perEnvironmentDns: true, shards: [S1, S2] };

describe('dnsPlan', () => {
  it("names <name>.<base domain>. (no port, lower case) and its shard's ALB; without a shard, s1", () => {
    expect(dnsPlan('pr-1', S2, ON)).toEqual({
      hostedZoneId: 'Z0ZONE', recordName: 'pr-1.preview.example.com.',
      aliasTarget: { HostedZoneId: 'Z32O12XQLNTSW2', DNSName: S2.dnsName, EvaluateTargetHealth: false },
    });
    expect(dnsPlan('pr-1', undefined, ON)!.aliasTarget.DNSName).toBe(S1.dnsName);
    expect(dnsRecordName('pr-1', 'localhost:4000')).toBe('pr-1.localhost.');
  });

  it('is off with one shard or without a hosted zone', () => {
    expect(dnsPlan('pr-1', S1, { ...ON, perEnvironmentDns: false })).toBeUndefined();
    expect(dnsPlan('pr-1', S1, { ...ON, hostedZoneId: undefined })).toBeUndefined();
  });

  it('an unknown shard id is an error that names the configured ones', () => {
    expect(() => aliasShard([S2], undefined)).toThrow(/shard "s1" is not among the configured shards \(s2\)/);
  });
});

describe('dnsRecordState and the heal', () => {
  const plan = dnsPlan('pr-1', S2, ON)!;
  const record = (dnsName: string) => ({ Name: 'pr-1.preview.example.com.', Type: 'A', AliasTarget: { HostedZoneId: 'Z32O12XQLNTSW2', DNSName: `${dnsName}.`, EvaluateTargetHealth: false } });

  it("ok, missing, drifted (Fledge's own alias naming another of its ALBs), or taken (anything else at the name)", () => {
    const shards = [S1, S2];
    expect(dnsRecordState(plan, [record(S2.dnsName.toUpperCase())], shards)).toBe('ok');
    expect(dnsRecordState(plan, [], shards)).toBe('missing');
    // records of other names (the listing goes on past the name) do not count
    expect(dnsRecordState(plan, [{ ...record(S2.dnsName), Name: 'pr-10.preview.example.com.' }], shards)).toBe('missing');
    expect(dnsRecordState(plan, [record(S1.dnsName)], shards)).toBe('drifted');
    // the operator's: addresses, an alias to something else, a CNAME, another type alone, a weighted alias
    const addresses = { Name: 'pr-1.preview.example.com.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '203.0.113.10' }] };
    expect(dnsRecordState(plan, [addresses], shards)).toBe('taken');
    expect(dnsRecordState(plan, [record('other-alb-1.eu-west-1.elb.amazonaws.com')], shards)).toBe('taken');
    expect(dnsRecordState(plan, [{ Name: 'pr-1.preview.example.com.', Type: 'CNAME' }], shards)).toBe('taken');
    expect(dnsRecordState(plan, [{ Name: 'pr-1.preview.example.com.', Type: 'AAAA' }], shards)).toBe('taken');
    expect(dnsRecordState(plan, [{ ...record(S2.dnsName), SetIdentifier: 'blue' }], shards)).toBe('taken');
    // an alias to an ALB that is no longer in the pool is not Fledge's either
    expect(dnsRecordState(plan, [record(S1.dnsName)], [S2])).toBe('taken');
  });

  it('the create CREATEs on a free name, UPSERTs only over its own record, and has no change for a taken name', () => {
    expect(dnsChangeFor('missing')).toBe('CREATE');
    expect(dnsChangeFor('ok')).toBe('UPSERT');
    expect(dnsChangeFor('drifted')).toBe('UPSERT');
    expect(dnsChangeFor('taken')).toBeUndefined();
  });

  it('a refused CREATE read again: its own alias naming the plan\'s ALB is a lost answer (ours), another\'s record DNS_NAME_IN_USE, nothing or its alias to another ALB a refusal of another kind', () => {
    expect(refusedCreate('ok')).toBe('ours');
    expect(refusedCreate('taken')).toBe('in-use');
    expect(refusedCreate('missing')).toBe('refused');
    expect(refusedCreate('drifted')).toBe('refused');
  });

  it('a missing record is a repair (CREATE), a drifted one of its own too (UPSERT); an ok one, a taken one or none inspected is not', () => {
    const found: Findings = {
      service: { arn: 'svc', status: 'ACTIVE', desiredCount: 1, runningCount: 1, image: 'img', taskDefinitionArn: 'td', targetGroupArns: ['tg'], rolloutState: 'COMPLETED' } as never,
      serviceDraining: false, targetGroupArn: 'tg', rule: { arn: 'rule', targetGroupArns: ['tg'] }, targets: { healthy: 1, unhealthy: 0, other: 0 },
      alarms: { tasks: 'ok', unhealthy: 'ok', '5xx': 'ok' }, failures: { count: 0, keepsFailing: false },
    };
    const desired = { spec: { image: 'img', desiredCount: 1 } };
    expect(planRepairs(found, desired)).toMatchObject({ mutates: false, todo: { dnsRecord: false } });
    expect(planRepairs({ ...found, dnsRecord: 'ok' }, desired).mutates).toBe(false);
    for (const [state, change] of [['missing', 'CREATE'], ['drifted', 'UPSERT']] as const) {
      const repairs = planRepairs({ ...found, dnsRecord: state }, desired);
      expect(repairs.todo.dnsRecord).toBe(true);
      expect(repairs.todo.dnsChange).toBe(change);
      expect(repairs.actions.map((a) => a.repair)).toEqual(['recreate-dns-record']);
      expect(repairs.todo.waitSteady).toBe(false);
    }
    // a record Fledge does not manage is never a repair: nothing to change, nothing written
    expect(planRepairs({ ...found, dnsRecord: 'taken' }, desired)).toMatchObject({ mutates: false, actions: [], todo: { dnsRecord: false } });
  });
});

describe('environmentOfRecord: what the orphan sweep may delete', () => {
  const alias = (Name: string, DNSName = S2.dnsName, extra: Record<string, unknown> = {}) => ({ Name, Type: 'A', AliasTarget: { HostedZoneId: 'Z', DNSName, EvaluateTargetHealth: false }, ...extra });

  it('one label under the base domain, an alias A record naming one of the installation ALBs', () => {
    expect(environmentOfRecord(alias('pr-1.preview.example.com.'), ON.baseDomain, ON.shards)).toBe('pr-1');
    expect(environmentOfRecord(alias('PR-2.preview.example.com', `${S1.dnsName}.`), ON.baseDomain, ON.shards)).toBe('pr-2');
  });

  it("never the operator's: the apex, the wildcard, deeper names, other targets, other types, weighted records", () => {
    const shards = ON.shards;
    expect(environmentOfRecord(alias('preview.example.com.'), ON.baseDomain, shards)).toBeUndefined();
    expect(environmentOfRecord(alias('\\052.preview.example.com.'), ON.baseDomain, shards)).toBeUndefined();
    expect(environmentOfRecord(alias('a.pr-1.preview.example.com.'), ON.baseDomain, shards)).toBeUndefined();
    expect(environmentOfRecord(alias('api.preview.example.com.', 'my-alb.elb.amazonaws.com'), ON.baseDomain, shards)).toBeUndefined();
    expect(environmentOfRecord({ Name: 'pr-1.preview.example.com.', Type: 'CNAME' }, ON.baseDomain, shards)).toBeUndefined();
    expect(environmentOfRecord(alias('pr-1.preview.example.com.', S2.dnsName, { SetIdentifier: 'blue' }), ON.baseDomain, shards)).toBeUndefined();
    expect(environmentOfRecord(alias('pr-1.other.example.com.'), ON.baseDomain, shards)).toBeUndefined();
  });
});

describe('batches', () => {
  it('at most 1,000 changes a request', () => {
    expect(batches(Array.from({ length: 2001 }, (_, i) => i)).map((b) => b.length)).toEqual([1000, 1000, 1]);
    expect(batches([])).toEqual([]);
  });
});
