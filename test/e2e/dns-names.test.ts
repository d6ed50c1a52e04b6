/**
 * Names in a shared hosted zone (docs/security.md "Names in a shared hosted zone"), end to end in
 * local mode with two load balancers (per-environment DNS on): the attack of the hostile review
 * (issue 12, X12 #1) replayed. The operator has `www.localhost.` A 203.0.113.10 in the zone; a
 * caller PUTs an environment named `www`. Before the fix, the create UPSERTed the record into an
 * alias of Fledge's load balancer and the DELETE then removed it from the zone. Now the create
 * fails with DNS_NAME_IN_USE, the record is as it was, and the DELETE leaves it.
 */
import { describe, expect, it } from 'vitest';
import { isStatus, useLocalServer } from './local-api.ts';

const { server, api, waitFor } = useLocalServer({ FLEDGE_SIM_SHARDS: '2' });

const OPERATORS = { Name: 'www.localhost.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '203.0.113.10' }] };

/** The simulated zone's id, as local mode logs it at startup. */
function hostedZoneId(): string {
  const id = /"hostedZoneId":"([A-Z0-9]+)"/.exec(server().output())?.[1];
  if (!id) throw new Error('local mode did not log its hosted zone');
  return id;
}

async function route53(action: string, params: Record<string, unknown>) {
  const answer = await api('POST', '/_local/aws', { body: { service: 'route53', action, params: { HostedZoneId: hostedZoneId(), ...params } } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as Record<string, unknown>;
}

/** Every record named www.localhost. (any type). */
async function wwwRecords(): Promise<unknown[]> {
  const out = await route53('ListResourceRecordSets', { StartRecordName: 'www.localhost.', MaxItems: 20 });
  return (out.ResourceRecordSets as { Name: string }[]).filter((r) => r.Name === 'www.localhost.');
}

describe("an environment named after the operator's record (two load balancers, per-environment DNS)", () => {
  it('PUT www fails with DNS_NAME_IN_USE and leaves the record as it was; DELETE www leaves it too', async () => {
    await route53('ChangeResourceRecordSets', { ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: OPERATORS }] } });
    expect(await wwwRecords()).toEqual([OPERATORS]);

    const put = await api('PUT', '/v1/environments/www', { body: { image: 'nginx' } });
    expect(put.status).toBe(201);
    const failed = await waitFor('www', isStatus('FAILED', 'RUNNING'));
    expect(failed.status).toBe('FAILED');
    expect(failed.operation.error).toMatchObject({
      code: 'DNS_NAME_IN_USE',
      message: 'the DNS name www.localhost is already used in the hosted zone by a record Fledge does not manage; Fledge leaves it alone: choose another environment name, or ask the operator to free the name',
    });
    expect(await wwwRecords()).toEqual([OPERATORS]);
    // nothing of the environment was made: no record of Fledge's in the zone, nothing on a load balancer
    const resources = (await api('GET', '/_local/resources')).body as { dnsRecords: { name: string }[]; services: { name?: string; serviceName?: string }[] };
    expect(resources.dnsRecords.filter((r) => r.name === 'www.localhost.')).toEqual([]);
    expect(JSON.stringify(resources.services)).not.toMatch(/"www"/);

    expect((await api('DELETE', '/v1/environments/www')).status).toBe(202);
    await waitFor('www', isStatus('DELETED'));
    expect(await wwwRecords()).toEqual([OPERATORS]);
  });
});
