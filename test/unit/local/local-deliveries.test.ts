/**
 * `GET /_local/deliveries`: local EventBridge's record of which rule carried which event to which
 * handler (infra/local/event-deliveries.ts), which the end-to-end suites read to prove a rule
 * delivered an event (test/e2e/convergence.test.ts, the failed deployment's heal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpFront, type HttpFront } from '../../../infra/local/http-front.ts';
import { DeliveryLog, type EventDelivery } from '../../../infra/local/event-deliveries.ts';
import { createSimulator, type Simulator } from '../../../infra/local/simulator/index.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const delivery = (n: number): EventDelivery => ({
  at: new Date(n).toISOString(), rule: 'heal-EcsServiceFailures', eventId: `e-${n}`, detailType: 'ECS Deployment State Change',
  eventName: 'SERVICE_DEPLOYMENT_FAILED', resources: [`arn:aws:ecs:eu-west-1:111122223333:service/fledge-local/pr-${n}`],
  result: { outcome: 'started', environment: `pr-${n}` },
});

describe('DeliveryLog', () => {
  it('keeps the last deliveries, oldest first, and hands out a copy', () => {
    const log = new DeliveryLog(3);
    for (let n = 1; n <= 5; n++) log.record(delivery(n));
    const listed = log.list();
    expect(listed.map((d) => d.eventId)).toEqual(['e-3', 'e-4', 'e-5']);
    listed.pop();
    expect(log.list()).toHaveLength(3);
  });
});

describe('GET /_local/deliveries', () => {
  let front: HttpFront;
  let sim: Simulator;
  const log = new DeliveryLog();

  beforeAll(async () => {
    sim = createSimulator({ rateLimits: false });
    front = await startHttpFront({ port: 0, simulator: sim, logger: silent, loadHandler: async () => { throw new Error('no API here'); }, listDeliveries: () => log.list() });
  });
  afterAll(async () => {
    await front.close();
    sim.stop();
  });

  it('answers the recorded deliveries with the rule and the handler\'s answer', async () => {
    log.record(delivery(1));
    log.record({ ...delivery(2), result: undefined, error: 'table unreachable' });
    const response = await fetch(`${front.url}/_local/deliveries`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: EventDelivery[] };
    expect(body.items).toEqual([delivery(1), { ...delivery(2), result: undefined, error: 'table unreachable' }].map((d) => JSON.parse(JSON.stringify(d))));
  });

  it('answers 405 to anything but GET', async () => {
    const response = await fetch(`${front.url}/_local/deliveries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});
