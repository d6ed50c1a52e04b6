/**
 * Local mode's wiring of the pool (issue 14): a waker per shard, the `FLEDGE_SHARDS` /
 * `FLEDGE_HOSTED_ZONE_ID` the handlers get, and the HTTP front's view of the pool
 * (`GET /_local/resources` shards with their claimed slots; a name whose record names no ALB).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startHttpFront, type HttpFront } from '../../../infra/local/http-front.ts';
import { createLocalWaker } from '../../../infra/local/scaling.ts';
import { localPool, poolCapacity } from '../../../infra/local/shard-pool.ts';
import { createSimulator, type Simulator } from '../../../infra/local/simulator/index.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const zone = { hostedZoneId: 'Z0FLEDGELOCAL', resolveHost: (host: string) => (host.startsWith('lost.') ? 'elsewhere-1.eu-west-1.elb.amazonaws.com' : undefined) };

let sim: Simulator | undefined;
let front: HttpFront | undefined;
afterEach(async () => {
  await front?.close();
  sim?.stop();
  sim = undefined;
  front = undefined;
});

function get(port: number, path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the pool in local mode', () => {
  it('one waker target group per shard, each on its own, and FLEDGE_SHARDS as the contract\'s Shard objects', async () => {
    sim = createSimulator({ rateLimits: false, shards: 3 });
    const waker = await createLocalWaker(sim, 'eu-west-1', '000000000000');
    expect([...waker.targetGroupArns.keys()]).toEqual(['s1', 's2', 's3']);
    expect(new Set(waker.targetGroupArns.values()).size).toBe(3);
    expect(waker.targetGroupArn).toBe(waker.targetGroupArns.get('s1'));
    const names = sim.resources().targetGroups.map((tg) => tg.name);
    expect(names).toEqual(['FledgeWaker', 'FledgeWaker-s2', 'FledgeWaker-s3']);

    const pool = localPool(sim, waker.targetGroupArns);
    expect(pool.shards).toHaveLength(3);
    expect(pool.shards[1]).toEqual({
      id: 's2',
      listenerArn: sim.shards[1]!.listenerArn,
      loadBalancerArn: sim.shards[1]!.loadBalancerArn,
      loadBalancerDimension: sim.shards[1]!.loadBalancerDimension,
      wakerTargetGroupArn: waker.targetGroupArns.get('s2'),
      dnsName: sim.shards[1]!.dnsName,
      canonicalHostedZoneId: 'Z32O12XQLNTSW2',
    });
    // the simulated account's Route 53 zone: more than one shard, so each environment gets its record there
    expect(pool.hostedZoneId).toBe(sim.hostedZoneId);
    sim.useDns(zone);
    expect(localPool(sim, waker.targetGroupArns).hostedZoneId).toBe('Z0FLEDGELOCAL');
    expect(poolCapacity(3)).toBe(297);
    expect(() => localPool(sim!, new Map([['s1', 'x']]))).toThrow(/s2 has no waker/);
  });

  it('with one shard the wildcard is enough: no hosted zone for the handlers even with a zone', async () => {
    sim = createSimulator({ rateLimits: false });
    sim.useDns(zone);
    const waker = await createLocalWaker(sim, 'eu-west-1', '000000000000');
    expect(localPool(sim, waker.targetGroupArns)).toEqual({ shards: [expect.objectContaining({ id: 's1', wakerTargetGroupArn: waker.targetGroupArn })] });
  });

  it('GET /_local/resources lists the shards with their claimed slots; a name aliased to no ALB of the pool is a 502 page', async () => {
    sim = createSimulator({ rateLimits: false, shards: 2 });
    sim.useDns(zone);
    front = await startHttpFront({
      port: 0,
      simulator: sim,
      logger: silent,
      loadHandler: async () => async () => ({ statusCode: 500 }),
      readEnvironment: async () => undefined,
      shardSlots: async () => ({ s2: 4 }),
    });
    const resources = JSON.parse((await get(front.port, '/_local/resources')).text) as { shards: { id: string; used: number; rules: number; targetGroups: number; dnsName: string }[] };
    expect(resources.shards.map(({ id, used, rules, targetGroups }) => ({ id, used, rules, targetGroups }))).toEqual([
      { id: 's1', used: 0, rules: 0, targetGroups: 0 },
      { id: 's2', used: 4, rules: 0, targetGroups: 0 },
    ]);
    expect(resources.shards[1]!.dnsName).toBe(sim.shards[1]!.dnsName);

    const lost = await get(front.port, '/', `lost.localhost:${front.port}`);
    expect(lost.status).toBe(502);
    expect(lost.text).toContain('elsewhere-1.eu-west-1.elb.amazonaws.com');
    // no record: shard s1's wildcard, whose default rule has no environment
    expect((await get(front.port, '/', `nobody.localhost:${front.port}`)).status).toBe(404);
  });

  it('npm start -- --shards refuses anything but 1..50 before starting anything', { timeout: 60_000 }, async () => {
    const main = join(import.meta.dirname, '..', '..', '..', 'infra', 'local', 'main.ts');
    for (const bad of ['51', 'two']) {
      const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', main, '--in-memory', '--shards', bad]).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`fledge: --shards must be a whole number of load balancers from 1 to 50 (AWS's default quota of Application Load Balancers per Region), got "${bad}"`);
    }
  });
});
