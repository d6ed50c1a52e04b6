/**
 * The operator's view (infra/aws/observability.ts): the dashboard draws only metrics the code
 * emits (functions/contract/metrics.ts, emitted through functions/runtime/metric-emitter.ts),
 * every alarm has an action, and no alarm fires on a user's failure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS, METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from '../../functions/contract/metrics.ts';
import { WORKFLOWS } from '../../functions/contract/workflows.ts';
import { QUOTA_ALARM_PERCENT } from '../../infra/aws/observability.ts';
import { synthFledge, type Synthesized } from './synth-fledge.ts';

let dev: Synthesized;
beforeAll(() => {
  dev = synthFledge();
});
afterAll(() => dev?.dispose());

type Json = Record<string, unknown>;
interface Widget { type: string; properties: { title?: string; metrics?: unknown[][] } }

/** The dashboard body with CloudFormation references replaced by a placeholder (they sit inside JSON strings). */
function dashboardWidgets(): Widget[] {
  const [dashboard] = Object.values(dev.template.findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboard!.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'REF')).join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

interface DrawnMetric { namespace: string; name: string; dimensions: Record<string, string>; widget: string }

/** Every metric the widgets draw: plain ones, and those a SEARCH expression names. */
function drawnMetrics(): DrawnMetric[] {
  const drawn: DrawnMetric[] = [];
  for (const widget of dashboardWidgets()) {
    for (const row of widget.properties.metrics ?? []) {
      const title = widget.properties.title ?? widget.type;
      const first = row[0];
      if (typeof first === 'object' && first !== null) {
        const expression = String((first as Json).expression ?? '');
        for (const match of expression.matchAll(/SEARCH\('\{([^}]*)\} MetricName="(\w+)"/g)) {
          const [namespace, ...keys] = match[1]!.split(',');
          drawn.push({ namespace: namespace!, name: match[2]!, dimensions: Object.fromEntries(keys.map((k) => [k, '*'])), widget: title });
        }
        continue;
      }
      const strings = row.filter((cell): cell is string => typeof cell === 'string');
      const [namespace, name, ...pairs] = strings;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i]!] = pairs[i + 1]!;
      drawn.push({ namespace: namespace!, name: name!, dimensions, widget: title });
    }
  }
  return drawn;
}

/** Every .ts file under functions/. */
function functionSources(): { path: string; text: string }[] {
  const root = join(import.meta.dirname, '../../functions');
  const files: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.push({ path: `functions/${relative(root, path)}`, text: readFileSync(path, 'utf8') });
    }
  };
  walk(root);
  return files;
}

describe('the dashboard', () => {
  it("draws only Fledge metrics the metrics table defines, with the dimension set the code publishes", () => {
    const ours = drawnMetrics().filter((m) => m.namespace === METRICS_NAMESPACE);
    expect(ours.length).toBeGreaterThan(20);
    for (const metric of ours) {
      expect(Object.keys(METRICS), `${metric.widget}: ${metric.name}`).toContain(metric.name);
      const definition = METRICS[metric.name as MetricName];
      expect(Object.keys(metric.dimensions).sort(), `${metric.widget}: ${metric.name}`).toEqual(['service', ...definition.dimensions].sort());
      if (metric.dimensions.service !== '*') expect(metric.dimensions.service).toBe(METRICS_SERVICE);
    }
  });

  it('shows the API, the workflows (user and control-plane failures apart), heals, DEGRADED, live against quota, Lambda errors and throttles, failure queues', () => {
    const drawn = drawnMetrics();
    const names = new Set(drawn.map((m) => `${m.namespace}/${m.name}`));
    for (const name of [
      'ApiRequests', 'ApiLatency', 'WorkflowStarted', 'WorkflowSucceeded', 'UserFailures', 'ControlPlaneFailures', 'Degraded',
      'LiveEnvironments', 'RepositoryLiveEnvironments', 'QuotaPerRepository', 'QuotaGlobal', 'QuotaUsedPercent',
    ]) expect(names, name).toContain(`Fledge/${name}`);
    for (const name of ['AWS/Lambda/Errors', 'AWS/Lambda/Throttles', 'AWS/SQS/ApproximateNumberOfMessagesVisible', 'AWS/ApiGateway/5xx']) expect(names, name).toContain(name);
    // each workflow an operation runs, in each of the four workflow graphs
    const started = Object.entries(WORKFLOWS).filter(([, w]) => w.started.byFunctions).map(([kind]) => kind);
    for (const name of ['WorkflowStarted', 'WorkflowSucceeded', 'UserFailures', 'ControlPlaneFailures']) {
      expect(new Set(drawn.filter((m) => m.name === name).map((m) => m.dimensions.workflow))).toEqual(new Set(started));
    }
    // every failure queue of the stack: the two EventBridge dead-letter queues and the on-failure destinations
    const queues = drawn.filter((m) => m.name === 'ApproximateNumberOfMessagesVisible');
    expect(queues).toHaveLength(2 + Object.keys(dev.stack.asyncFailures.queues).length);
  });
});

describe('the metrics the dashboard names are emitted by the code', () => {
  const sources = functionSources();

  it('has every Lambda publish under the namespace and service dimension the dashboard and alarms read', () => {
    const functions = Object.entries(dev.template.findResources('AWS::Lambda::Function'))
      .map(([id, fn]) => [id, (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>] as const)
      .filter(([, variables]) => 'FLEDGE_VERSION' in variables);
    expect(functions.length).toBeGreaterThan(10);
    for (const [id, variables] of functions) {
      expect(variables.POWERTOOLS_METRICS_NAMESPACE, id).toBe(METRICS_NAMESPACE);
      expect(variables.POWERTOOLS_SERVICE_NAME, id).toBe(METRICS_SERVICE);
    }
  });

  it('publishes only through the typed emitter: no other addMetric call in functions/', () => {
    const callers = sources.filter((f) => /\.addMetric\(/.test(f.text)).map((f) => f.path);
    expect(callers).toEqual(['functions/runtime/metric-emitter.ts']);
  });

  it('has every metric of the table emitted where the table says', () => {
    for (const [name, definition] of Object.entries(METRICS)) {
      const file = sources.find((f) => f.path === definition.emittedBy);
      expect(file, `${name}: ${definition.emittedBy}`).toBeDefined();
      expect(file!.text, `${name} in ${definition.emittedBy}`).toMatch(new RegExp(`'${name}'`));
      expect(file!.text, definition.emittedBy).toMatch(/emitMetric\(/);
    }
  });

  it('has every metric with a detail set publish a rollup set too (else the dashboard would read nothing)', () => {
    for (const [name, definition] of Object.entries(METRICS)) {
      if ('detail' in definition) expect(definition.dimensions.length, name).toBeGreaterThan(0);
    }
  });
});

describe('the alarms', () => {
  const alarms = () => Object.entries(dev.template.findResources('AWS::CloudWatch::Alarm'));
  const metricNamesOf = (alarm: { Properties?: Json }): string[] => {
    const names: string[] = [];
    const properties = alarm.Properties ?? {};
    if (typeof properties.MetricName === 'string') names.push(properties.MetricName);
    for (const query of (properties.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[] | undefined) ?? []) {
      if (query.MetricStat) names.push(query.MetricStat.Metric.MetricName);
    }
    return names;
  };

  it('each have an action, to the operator topic', () => {
    const topic = dev.stack.getLogicalId(dev.stack.observability.topic.node.defaultChild as never);
    expect(alarms().length).toBeGreaterThan(5);
    for (const [id, alarm] of alarms()) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topic }]);
    }
  });

  it("never fire on a user's failure: no alarm on UserFailures, on the executions of workflows a bad image fails, or on the task Lambdas' errors", () => {
    const userFailing = ['create', 'update', 'scale', 'teardown'].map((kind) => dev.stack.getLogicalId(dev.stack.workflows.stateMachines[kind as 'create'].node.defaultChild as never));
    for (const [id, alarm] of alarms()) {
      const names = metricNamesOf(alarm);
      expect(names, id).not.toContain('UserFailures');
      if (names.includes('ExecutionsFailed')) {
        for (const machine of userFailing) expect(JSON.stringify(alarm.Properties.Metrics), id).not.toContain(machine);
      }
    }
    const errorAlarms = alarms().filter(([, a]) => metricNamesOf(a).includes('Errors'));
    expect(errorAlarms.map(([, a]) => JSON.stringify(a.Properties.Dimensions))).toEqual([
      JSON.stringify([{ Name: 'FunctionName', Value: { Ref: dev.stack.getLogicalId(dev.stack.scaling.waker.function.node.defaultChild as never) } }]),
    ]);
  });

  it('page on control-plane failures, the failure queues, the API 5xx rate and a quota near its limit', () => {
    const byNames = (predicate: (names: string[]) => boolean) => alarms().filter(([, a]) => predicate(metricNamesOf(a)));
    // control-plane failures of every workflow an operation runs, and operations found stuck
    const [controlPlane] = byNames((n) => n.includes('ControlPlaneFailures'));
    const started = Object.entries(WORKFLOWS).filter(([, w]) => w.started.byFunctions).map(([kind]) => kind);
    const workflows = (controlPlane![1].Properties.Metrics as { MetricStat?: { Metric: { Dimensions: { Name: string; Value: string }[] } } }[])
      .flatMap((q) => q.MetricStat?.Metric.Dimensions.filter((d) => d.Name === 'workflow').map((d) => d.Value) ?? []);
    expect(new Set(workflows)).toEqual(new Set(started));
    expect(metricNamesOf(controlPlane![1])).toContain('CleanupOperationsFailed');
    // failure queues: any visible message
    const queueAlarms = byNames((n) => n.includes('ApproximateNumberOfMessagesVisible'));
    expect(queueAlarms).toHaveLength(2 + Object.keys(dev.stack.asyncFailures.queues).length);
    // the API's 5xx rate (API Gateway's counts)
    const [api] = byNames((n) => n.includes('5xx') && n.includes('Count'));
    expect(JSON.stringify(api![1].Properties.Metrics)).toMatch(/IF\(FILL\(apiRequests, 0\) > 0, 100 \* FILL\(apiErrors, 0\) \/ FILL\(apiRequests, 0\), 0\)/);
    // the fullest quota
    const [quota] = byNames((n) => n.includes('QuotaUsedPercent'));
    expect(quota![1].Properties).toMatchObject({ Threshold: QUOTA_ALARM_PERCENT, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Maximum', TreatMissingData: 'ignore' });
  });
});
