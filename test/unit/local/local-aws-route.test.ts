/** `POST /_local/aws`: one call to the simulated account, as the AWS CLI would make against a real one. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpFront, type HttpFront } from '../../../infra/local/http-front.ts';
import { createSimulator, type Simulator } from '../../../infra/local/simulator/index.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let sim: Simulator;
let front: HttpFront;

beforeAll(async () => {
  sim = createSimulator({ rateLimits: false, taskStartMs: 20 });
  front = await startHttpFront({ port: 0, simulator: sim, logger: silent });
});
afterAll(async () => {
  await front?.close();
  sim?.stop();
});

async function post(body: string, contentType = 'application/json') {
  const response = await fetch(`${front.url}/_local/aws`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, body: (await response.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('POST /_local/aws', () => {
  it('makes the call and answers its result; the resource is then in the account, tags and all', async () => {
    const created = await post(JSON.stringify({
      service: 'elasticloadbalancingv2',
      action: 'CreateTargetGroup',
      params: { Name: 'stray', Protocol: 'HTTP', Port: 80, VpcId: sim.config.vpcId, TargetType: 'ip', Tags: [{ Key: 'fledge:environment', Value: 'stray' }] },
    }));
    expect(created.status).toBe(200);
    expect(created.body.TargetGroups[0].TargetGroupName).toBe('stray');
    expect(sim.resources().targetGroups).toEqual([expect.objectContaining({ name: 'stray', environment: 'stray' })]);
  });

  it('answers the AWS error as a 400 problem, and 400/415 for a bad request', async () => {
    const refused = await post(JSON.stringify({ service: 'ecs', action: 'DeleteService', params: { Cluster: sim.clusterArn, Service: 'nope' } }));
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ status: 400, code: 'ServiceNotFoundException', detail: expect.stringMatching(/^ServiceNotFoundException: /) });
    expect((await post(JSON.stringify({ action: 'ListServices' }))).status).toBe(400);
    expect((await post('{not json')).status).toBe(400);
    expect((await post('{}', 'text/plain')).status).toBe(415);
    expect((await fetch(`${front.url}/_local/aws`)).status).toBe(405);
  });
});
