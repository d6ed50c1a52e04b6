/**
 * The AWS side of the smoke test (cli/smoke/*), without AWS: the out-of-band calls against
 * mocked SDK clients, SigV4 signing with fake static credentials, the cost figure, and the
 * command line's refusals (a local HTTP server stands in for an API that is not local mode).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteServiceCommand, DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../../cli/smoke.ts';
import { FledgeApi, regionOfEndpoint, sigV4Signer } from '../../../cli/api-client.ts';
import { AwsOutOfBand, LocalOutOfBand } from '../../../cli/smoke/backends.ts';
import { estimateCost, formatUsd } from '../../../cli/smoke/cost.ts';
import { isLocalhostName } from '../../../cli/smoke/probe.ts';

const ecs = mockClient(ECSClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const route53 = mockClient(Route53Client);
const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/fledge';
const serviceArn = (name: string) => `arn:aws:ecs:eu-west-1:123456789012:service/fledge/${name}`;

beforeEach(() => {
  ecs.reset();
  tagging.reset();
  route53.reset();
});

describe('AwsOutOfBand', () => {
  const backend = () => new AwsOutOfBand(CLUSTER, 'eu-west-1', { ecs: new ECSClient({ region: 'eu-west-1' }), tagging: new ResourceGroupsTaggingAPIClient({ region: 'eu-west-1' }) });

  it('deletes the service with force (it still has tasks), in the given cluster', async () => {
    ecs.on(DeleteServiceCommand).resolves({ service: { serviceArn: serviceArn('smoke-1'), status: 'DRAINING' } });
    expect(await backend().deleteService('smoke-1')).toBe(`ECS DeleteService(force) ${serviceArn('smoke-1')}: DRAINING`);
    expect(ecs.commandCalls(DeleteServiceCommand).map((c) => c.args[0].input)).toEqual([{ cluster: CLUSTER, service: 'smoke-1', force: true }]);
  });

  it('lists resources tagged fledge:environment=<name>, every page, and skips the service DescribeServices calls INACTIVE', async () => {
    tagging
      .on(GetResourcesCommand)
      .resolvesOnce({ ResourceTagMappingList: [{ ResourceARN: serviceArn('smoke-1') }], PaginationToken: 'page-2' })
      .resolvesOnce({ ResourceTagMappingList: [{ ResourceARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/smoke-1/abc' }], PaginationToken: '' });
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceArn: serviceArn('smoke-1'), status: 'INACTIVE' }] });
    expect(await backend().leftovers('smoke-1')).toEqual(['tagged fledge:environment=smoke-1: arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/smoke-1/abc']);
    const calls = tagging.commandCalls(GetResourcesCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { TagFilters: [{ Key: 'fledge:environment', Values: ['smoke-1'] }], ResourcesPerPage: 100 },
      { TagFilters: [{ Key: 'fledge:environment', Values: ['smoke-1'] }], ResourcesPerPage: 100, PaginationToken: 'page-2' },
    ]);
    expect(ecs.commandCalls(DescribeServicesCommand)[0]!.args[0].input).toEqual({ cluster: CLUSTER, services: ['smoke-1'] });
  });

  it('reports a service that is still ACTIVE or DRAINING, and nothing when all is gone', async () => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: serviceArn('smoke-1') }] });
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceArn: serviceArn('smoke-1'), status: 'DRAINING' }] });
    expect(await backend().leftovers('smoke-1')).toEqual([`ecs-service ${serviceArn('smoke-1')} is DRAINING`]);

    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ arn: serviceArn('smoke-1'), reason: 'MISSING' }] });
    expect(await backend().leftovers('smoke-1')).toEqual([]);
  });
});

describe('AwsOutOfBand: the environment\'s Route 53 record (record sets cannot be tagged)', () => {
  const ZONE = 'Z0123456789ABCDEFGHIJ';
  const withZone = () =>
    new AwsOutOfBand(CLUSTER, 'eu-west-1', { ecs: new ECSClient({ region: 'eu-west-1' }), tagging: new ResourceGroupsTaggingAPIClient({ region: 'eu-west-1' }), route53: new Route53Client({ region: 'us-east-1' }) }, ZONE);
  const alias = (name: string) => ({ Name: name, Type: 'A' as const, AliasTarget: { DNSName: 'fledge-s2-123.eu-west-1.elb.amazonaws.com.', HostedZoneId: 'Z32O12XQLNTSW2', EvaluateTargetHealth: false } });
  beforeEach(() => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceArn: serviceArn('smoke-1'), status: 'INACTIVE' }] });
  });

  it('counts the alias record <name>.<baseDomain> still in the zone as a leftover, asking from that name on', async () => {
    route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [alias('smoke-1.preview.example.com.'), alias('smoke-2.preview.example.com.')], IsTruncated: true, NextRecordName: 'smoke-3.preview.example.com.', MaxItems: 2 });
    expect(withZone().checksDnsRecords).toBe(true);
    expect(await withZone().leftovers('smoke-1', 'Smoke-1.preview.example.com')).toEqual([`route53 record smoke-1.preview.example.com. A in hosted zone ${ZONE}`]);
    // the page ended past the name: no second page
    expect(route53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([{ HostedZoneId: ZONE, StartRecordName: 'smoke-1.preview.example.com.' }]);
  });

  it('nothing left when the zone has no record of that name (only its neighbours)', async () => {
    route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [alias('smoke-10.preview.example.com.')], IsTruncated: false, MaxItems: 300 });
    expect(await withZone().leftovers('smoke-1', 'smoke-1.preview.example.com')).toEqual([]);
  });

  it('without the hostname (the create never reported a URL), every page of the zone is read for names starting <name>.', async () => {
    route53
      .on(ListResourceRecordSetsCommand)
      .resolvesOnce({ ResourceRecordSets: [{ Name: 'example.com.', Type: 'NS' }, alias('other.preview.example.com.')], IsTruncated: true, NextRecordName: 'smoke-1.preview.example.com.', NextRecordType: 'A', MaxItems: 2 })
      .resolvesOnce({ ResourceRecordSets: [alias('smoke-1.preview.example.com.'), alias('smoke-1x.preview.example.com.')], IsTruncated: false, MaxItems: 2 });
    expect(await withZone().leftovers('smoke-1')).toEqual([`route53 record smoke-1.preview.example.com. A in hosted zone ${ZONE}`]);
    expect(route53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      { HostedZoneId: ZONE },
      { HostedZoneId: ZONE, StartRecordName: 'smoke-1.preview.example.com.', StartRecordType: 'A' },
    ]);
  });

  it('a failing ListResourceRecordSets fails the listing (the smoke retries it, then reports it)', async () => {
    route53.on(ListResourceRecordSetsCommand).rejects(Object.assign(new Error('User is not authorized to perform: route53:ListResourceRecordSets'), { name: 'AccessDenied' }));
    await expect(withZone().leftovers('smoke-1', 'smoke-1.preview.example.com')).rejects.toThrow(/route53:ListResourceRecordSets/);
  });

  it('without --hosted-zone-id no Route 53 call is made, and the target line says so', async () => {
    const backend = new AwsOutOfBand(CLUSTER, 'eu-west-1', { ecs: new ECSClient({ region: 'eu-west-1' }), tagging: new ResourceGroupsTaggingAPIClient({ region: 'eu-west-1' }), route53: new Route53Client({ region: 'us-east-1' }) });
    expect(backend.checksDnsRecords).toBe(false);
    expect(await backend.leftovers('smoke-1', 'smoke-1.preview.example.com')).toEqual([]);
    expect(route53.calls()).toHaveLength(0);
    expect(backend.describe()).toContain('no Route 53 check (pass --hosted-zone-id');
    expect(withZone().describe()).toContain(`Route 53 records in hosted zone ${ZONE}`);
  });
});

describe('LocalOutOfBand: the simulated zone\'s records carry no environment, so they are found by name', () => {
  const simulated = (dnsRecords: { name: string; type: string }[]) => ({
    services: [], targetGroups: [{ name: 'smoke-1', arn: 'arn:tg/smoke-1', environment: 'smoke-1' }], dnsRecords,
  });
  const backendOver = (body: unknown, status = 200) => new LocalOutOfBand({ call: async () => ({ status, body, text: JSON.stringify(body), headers: {} }) } as unknown as FledgeApi);

  it('counts the record of the environment\'s host (port dropped) or, without it, any name whose first label is the environment', async () => {
    const body = simulated([{ name: 'smoke-1.localhost.', type: 'A' }, { name: 'smoke-10.localhost.', type: 'A' }]);
    expect(await backendOver(body).leftovers('smoke-1', 'smoke-1.localhost:4000')).toEqual(['targetGroups: arn:tg/smoke-1', 'dnsRecords: smoke-1.localhost. A']);
    expect(await backendOver(body).leftovers('smoke-1')).toEqual(['targetGroups: arn:tg/smoke-1', 'dnsRecords: smoke-1.localhost. A']);
    expect(await backendOver(simulated([{ name: 'smoke-10.localhost.', type: 'A' }])).leftovers('smoke-1', 'smoke-1.localhost')).toEqual(['targetGroups: arn:tg/smoke-1']);
  });

  it('fails when /_local/resources does not answer', async () => {
    await expect(backendOver({ title: 'nope' }, 500).leftovers('smoke-1')).rejects.toThrow(/GET \/_local\/resources/);
  });
});

describe('SigV4 signing of API requests', () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };
  let server: Server;
  let seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
  let endpoint = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(req.url === '/_local/resources' ? 403 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'ok', message: 'Forbidden' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen = [];
  });

  it('signs for execute-api in the region with the credentials, over the host, date and body', async () => {
    const sign = sigV4Signer('eu-west-1', credentials);
    const headers = await sign({ method: 'PUT', url: new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/v1/environments/smoke-1?x=1'), headers: { 'content-type': 'application/json' }, body: '{"image":"nginx"}' });
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=\S*host;\S*x-amz-date\S*, Signature=[0-9a-f]{64}$/);
    expect(headers.authorization).toContain('content-type');
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(headers['x-amz-security-token']).toBe('session-token');
    expect(headers['x-amz-content-sha256']).toBe(createHash('sha256').update('{"image":"nginx"}').digest('hex'));
  });

  it('sends every API request signed (Authorization on the wire), and none unsigned without a signer', async () => {
    const signed = new FledgeApi(endpoint, sigV4Signer('eu-west-1', credentials));
    const answer = await signed.call('POST', '/v1/environments/smoke-1/scale', { desiredCount: 0 });
    expect(answer.status).toBe(200);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/environments/smoke-1/scale', body: '{"desiredCount":0}' });
    expect(seen[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/);
    expect(seen[0]!.headers['x-amz-date']).toBeDefined();

    await new FledgeApi(endpoint).call('GET', '/v1/health');
    expect(seen[1]!.headers.authorization).toBeUndefined();
  });

  it('sends a JSON content type on a POST without a body (heal: the API answers 415 without one), signed too, and none on a bodiless DELETE or GET', async () => {
    await new FledgeApi(endpoint).call('POST', '/v1/environments/smoke-1/heal');
    await new FledgeApi(endpoint, sigV4Signer('eu-west-1', credentials)).call('POST', '/v1/environments/smoke-1/heal');
    await new FledgeApi(endpoint).call('DELETE', '/v1/environments/smoke-1');
    await new FledgeApi(endpoint).call('GET', '/v1/health');
    expect(seen.map((request) => [request.method, request.headers['content-type'], request.body])).toEqual([
      ['POST', 'application/json', ''],
      ['POST', 'application/json', ''],
      ['DELETE', undefined, ''],
      ['GET', undefined, ''],
    ]);
    expect(seen[1]!.headers.authorization).toContain('content-type');
  });

  it('keeps a base path of the endpoint', async () => {
    await new FledgeApi(`${endpoint}/prod`).call('GET', '/v1/health');
    expect(seen[0]!.url).toBe('/prod/v1/health');
  });

  it('reads the region from an execute-api host, none from a custom domain', () => {
    expect(regionOfEndpoint('https://abc123.execute-api.eu-west-1.amazonaws.com/')).toBe('eu-west-1');
    expect(regionOfEndpoint('https://api.preview.example.com')).toBeUndefined();
  });

  it('the command line: not local mode and no --cluster is a usage error (exit 2), before anything is created', async () => {
    const { io, lines } = fakeIo(false);
    expect(await main(['--endpoint', endpoint, '--region', 'eu-west-1', '--yes'], io)).toBe(2);
    expect(lines.at(-1)).toContain('pass --cluster <name|arn>');
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /_local/resources']); // the detection, nothing else
  });
});

function fakeIo(interactive: boolean): { io: CliIo; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    io: { out: (line) => lines.push(line), err: (line) => lines.push(line), interactive, ask: async () => 'n', env: {} },
  };
}

describe('the cost it states and the command line', () => {
  it('estimates 0.25 vCPU / 0.5 GB for 15 minutes at about $0.0031', () => {
    const cost = estimateCost(256, 512, 15);
    expect(cost.usd).toBeCloseTo(0.25 * (0.25 * 0.04048 + 0.5 * 0.004445), 8);
    expect(formatUsd(cost.usd)).toBe('$0.0031');
    expect(cost.assumption).toContain('0.25 vCPU / 0.5 GB for ~15 minutes');
  });

  it('on AWS: prints the cost with its assumption, then refuses without a terminal and without --yes (exit 2)', async () => {
    const { io, lines } = fakeIo(false);
    // --cluster skips the local-mode detection: no request leaves the process before the refusal
    const code = await main(['--endpoint', 'https://abc123.execute-api.eu-west-1.amazonaws.com/', '--cluster', 'fledge', '--name', 'smoke-aws'], io);
    expect(code).toBe(2);
    expect(lines.find((l) => l.includes('cost'))).toContain('about $0.0031: one Fargate task of 0.25 vCPU / 0.5 GB for ~15 minutes');
    expect(lines.some((l) => l.includes('not counted: ALB LCUs'))).toBe(true);
    expect(lines.find((l) => l.includes('target'))).toContain('AWS (region eu-west-1, ECS cluster fledge');
    expect(lines.at(-1)).toMatch(/^smoke: refusing to run: .* pass --yes/);
    expect(ecs.calls()).toHaveLength(0);
  });

  it('--hosted-zone-id: the target line names the zone the leftovers step searches', async () => {
    const { io, lines } = fakeIo(false);
    const code = await main(['--endpoint', 'https://abc123.execute-api.eu-west-1.amazonaws.com/', '--cluster', 'fledge', '--hosted-zone-id', 'Z0123456789ABCDEFGHIJ'], io);
    expect(code).toBe(2);
    expect(lines.find((l) => l.includes('target'))).toContain('Route 53 records in hosted zone Z0123456789ABCDEFGHIJ');
    expect(route53.calls()).toHaveLength(0);
  });

  it('rejects a bad name, a bad endpoint and unknown options with exit 2', async () => {
    expect(await main(['--endpoint', 'http://127.0.0.1:1', '--name', 'Not_A_Name', '--local'], fakeIo(false).io)).toBe(2);
    expect(await main(['--endpoint', 'ftp://example.com'], fakeIo(false).io)).toBe(2);
    expect(await main(['--endpoint', 'http://127.0.0.1:1', '--bogus'], fakeIo(false).io)).toBe(2);
    expect(await main([], fakeIo(false).io)).toBe(2);
    expect(await main(['--help'], fakeIo(false).io)).toBe(0);
  });

  it('resolves *.localhost (local mode pages) to the loopback address', () => {
    expect(isLocalhostName('pr-1.localhost')).toBe(true);
    expect(isLocalhostName('localhost')).toBe(true);
    expect(isLocalhostName('pr-1.preview.example.com')).toBe(false);
  });
});
