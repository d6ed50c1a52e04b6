/**
 * The typed emitter (functions/runtime/metric-emitter.ts): on AWS a metric with dimensions is
 * its own EMF line with two dimension sets (the rollup the dashboard reads, and the detail),
 * a metric without dimensions joins the invocation's flush; the type system refuses names and
 * dimensions functions/contract/metrics.ts does not define.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clearRecordedMetrics, emitMetric, recordedMetrics } from '../../../functions/runtime/metric-emitter.ts';
import { metrics } from '../../../functions/runtime/powertools.ts';

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

function emfLines(write: { mock: { calls: unknown[][] } }): Emf[] {
  return write.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Emf);
}

describe('emitMetric', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    clearRecordedMetrics();
    metrics.clearMetrics();
  });

  it('writes a metric with dimensions as one EMF line: the rollup set and the detail set, each with service', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false'); // a single metric reads it when created, as on AWS
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    emitMetric('ControlPlaneFailures', 1, { workflow: 'create', code: 'INTERNAL' });
    const [line] = emfLines(write);
    expect(line).toBeDefined();
    const directive = line!._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe('Fledge');
    expect(directive.Metrics).toEqual([{ Name: 'ControlPlaneFailures', Unit: 'Count' }]);
    expect(directive.Dimensions).toEqual([['service', 'workflow'], ['service', 'code']]);
    expect(line).toMatchObject({ service: 'fledge', workflow: 'create', code: 'INTERNAL', ControlPlaneFailures: 1 });
  });

  it('adds a metric without dimensions to the shared instance (flushed once per invocation by the wrappers)', () => {
    emitMetric('Degraded', 1);
    expect(metrics.hasStoredMetrics()).toBe(true);
    expect(recordedMetrics()).toEqual([{ name: 'Degraded', unit: 'Count', dimensions: {}, samples: 1, sum: 1, last: 1 }]);
  });

  it('tallies sums and the last value by name and dimensions', () => {
    emitMetric('ApiRequests', 1, { statusClass: '2xx', route: 'GET /v1/health' });
    emitMetric('ApiRequests', 1, { route: 'GET /v1/health', statusClass: '2xx' });
    emitMetric('ApiRequests', 1, { statusClass: '5xx', route: 'GET /v1/health' });
    expect(recordedMetrics().map((m) => [m.dimensions.statusClass, m.sum])).toEqual([['2xx', 2], ['5xx', 1]]);
  });

  it('takes only the names and dimensions the metrics table defines (checked by tsc)', () => {
    const typeOnly = () => {
      // @ts-expect-error not a metric of functions/contract/metrics.ts
      emitMetric('Http5xx', 1);
      // @ts-expect-error ApiRequests needs its statusClass and route
      emitMetric('ApiRequests', 1, { statusClass: '2xx' });
      // @ts-expect-error Degraded has no dimensions
      emitMetric('Degraded', 1, { workflow: 'heal' });
    };
    expect(typeof typeOnly).toBe('function');
  });
});
