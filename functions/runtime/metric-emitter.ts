/**
 * The one way functions/ publishes a metric: `emitMetric(name, value, dimensions)`, typed by
 * functions/contract/metrics.ts (a name not in that table, or a missing dimension, does not
 * compile). On AWS it goes to Powertools Metrics, which writes CloudWatch EMF to stdout: a
 * metric without dimensions on the shared instance (flushed by the wrappers' logMetrics), one
 * with dimensions as a single metric (its own EMF line) so its dimensions do not leak onto
 * the others. Every emit is also tallied in memory, which local mode serves at
 * `GET /_local/metrics` (Powertools is disabled there): the same names, without CloudWatch.
 */
import { METRICS, type MetricDimensions, type MetricName, type MetricUnitName } from '#contract/metrics.ts';
import { metrics } from './powertools.ts';

export interface RecordedMetric {
  name: MetricName;
  unit: MetricUnitName;
  dimensions: Record<string, string>;
  /** how many times it was emitted */
  samples: number;
  sum: number;
  /** the last value (a gauge's current value) */
  last: number;
}

const recorded = new Map<string, RecordedMetric>();

export function emitMetric<N extends MetricName>(name: N, value: number, ...[dimensions]: keyof MetricDimensions<N> extends never ? [] : [MetricDimensions<N>]): void {
  const definition: { unit: MetricUnitName; dimensions: readonly string[]; detail?: readonly string[] } = METRICS[name];
  const values = (dimensions ?? {}) as Record<string, string>;
  tally(name, definition.unit, value, values);
  if (definition.dimensions.length === 0) {
    metrics.addMetric(name, definition.unit, value);
    return;
  }
  const single = metrics.singleMetric();
  for (const key of definition.dimensions) single.addDimension(key, values[key]!);
  // a second dimension set holding only the detail names (Powertools adds `service` to each set)
  if (definition.detail) single.addDimensions(Object.fromEntries(definition.detail.map((key) => [key, values[key]!])));
  single.addMetric(name, definition.unit, value);
}

function tally(name: MetricName, unit: MetricUnitName, value: number, dimensions: Record<string, string>): void {
  const sorted = Object.fromEntries(Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b)));
  const key = `${name}${JSON.stringify(sorted)}`;
  const entry = recorded.get(key);
  if (entry) {
    entry.samples++;
    entry.sum += value;
    entry.last = value;
  } else {
    recorded.set(key, { name, unit, dimensions: sorted, samples: 1, sum: value, last: value });
  }
}

/** What this runtime emitted since it started (or since `clearRecordedMetrics`), by name then dimensions. */
export function recordedMetrics(): RecordedMetric[] {
  return [...recorded.values()]
    .map((entry) => ({ ...entry, dimensions: { ...entry.dimensions } }))
    .sort((a, b) => a.name.localeCompare(b.name) || JSON.stringify(a.dimensions).localeCompare(JSON.stringify(b.dimensions)));
}

export function clearRecordedMetrics(): void {
  recorded.clear();
}
