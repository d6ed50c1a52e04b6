/**
 * Simulated CloudWatch alarms: PutMetricAlarm / DescribeAlarms / DeleteAlarms (plus tags,
 * SetAlarmState, Enable/DisableAlarmActions). Each alarm is evaluated every simulated
 * period against metrics the simulator derives from its own state (ALB healthy/unhealthy
 * host counts, ECS running/desired task counts, CPU); a state change is published as the
 * EventBridge "CloudWatch Alarm State Change" event.
 */
import { awsError } from './errors.ts';
import { pascalTagList, tagsFromList, type SimContext } from './context.ts';
import { evaluateMetricMath, type MathValue } from './metric-math.ts';
import { type Periodic, runEvery } from './periodic.ts';

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmRecord {
  name: string;
  arn: string;
  settings: Input;
  state: AlarmState;
  reason: string;
  updatedAt: number;
  datapoints: (number | undefined)[];
  tags: Map<string, string>;
  actionsEnabled: boolean;
}

/** Current value of a metric, or undefined when CloudWatch would have no datapoint. */
export type MetricSource = (namespace: string, metricName: string, dimensions: Record<string, string>) => number | undefined;
/** Times (ms) of the events a count metric sums (ALB requests of a target group), or undefined for other metrics. */
export type MetricEventSource = (namespace: string, metricName: string, dimensions: Record<string, string>) => number[] | undefined;

const toMs = (value: unknown): number => (value instanceof Date ? value.getTime() : typeof value === 'number' ? value * (value < 1e12 ? 1000 : 1) : Date.parse(String(value)));

const COMPARATORS: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

const cwError = (code: string, message: string) => awsError('cloudwatch', code, message);

export class CloudWatchSimulator {
  readonly alarms = new Map<string, AlarmRecord>();
  private readonly evaluation: Periodic;
  metrics: MetricSource = () => undefined;
  metricEvents: MetricEventSource = () => undefined;

  constructor(private readonly ctx: SimContext) {
    this.evaluation = runEvery(ctx, ctx.config.alarmPeriodMs, 'alarm evaluation', () => this.evaluate());
  }

  evaluate(): void {
    for (const alarm of this.alarms.values()) {
      const s = alarm.settings;
      let value: MathValue;
      if (s.MetricName) {
        const dims = Object.fromEntries(((s.Dimensions ?? []) as Input[]).map((d) => [String(d.Name), String(d.Value)]));
        value = this.metrics(String(s.Namespace), String(s.MetricName), dims);
      } else {
        try {
          value = this.mathValue(s.Metrics as Input[]);
        } catch (error) {
          // an expression the simulator cannot evaluate: no datapoint (INSUFFICIENT_DATA)
          this.ctx.log.debug('simulator: metric math not evaluated', { alarm: alarm.name, error: String(error) });
          value = undefined;
        }
      }
      alarm.datapoints.push(value);
      const periods = Number(s.EvaluationPeriods);
      while (alarm.datapoints.length > periods) alarm.datapoints.shift();
      const compare = COMPARATORS[String(s.ComparisonOperator)];
      if (!compare) continue;
      const treatMissing = String(s.TreatMissingData ?? 'missing');
      const toAlarm = Number(s.DatapointsToAlarm ?? periods);
      const values = alarm.datapoints;
      const present = values.filter((v): v is number => v !== undefined);
      let breaching = 0;
      for (const v of values) {
        if (v === undefined) {
          if (treatMissing === 'breaching') breaching += 1;
        } else if (compare(v, Number(s.Threshold))) breaching += 1;
      }
      let next: AlarmState;
      if (breaching >= toAlarm) next = 'ALARM';
      else if (present.length === 0 && treatMissing === 'missing') next = 'INSUFFICIENT_DATA';
      else if (present.length === 0 && treatMissing === 'ignore') next = alarm.state;
      else if (values.length < periods && breaching === 0 && present.length === 0) next = 'INSUFFICIENT_DATA';
      else next = 'OK';
      if (next !== alarm.state) {
        const latest = present.at(-1);
        const reason =
          next === 'ALARM'
            ? `Threshold Crossed: ${breaching} out of the last ${periods} datapoints were ${describeComparison(String(s.ComparisonOperator))} the threshold (${s.Threshold}) (most recent: ${latest ?? 'missing'}).`
            : next === 'OK'
              ? `Threshold Crossed: no datapoints were ${describeComparison(String(s.ComparisonOperator))} the threshold (${s.Threshold}) (most recent: ${latest ?? 'missing'}).`
              : 'Insufficient Data: datapoints were unknown.';
        this.transition(alarm, next, reason);
      }
    }
  }

  /**
   * A metric-math alarm's datapoint: each MetricStat query's value over the last period (the
   * events of a count metric the simulator records, or the gauge's current value), then the
   * expression that returns data.
   */
  private mathValue(queries: Input[]): MathValue {
    const values: Record<string, MathValue> = {};
    const now = this.ctx.clock.now();
    for (const query of queries) {
      const stat = query.MetricStat as Input | undefined;
      if (!stat) continue;
      const metric = stat.Metric as Input;
      const dims = Object.fromEntries(((metric.Dimensions ?? []) as Input[]).map((d) => [String(d.Name), String(d.Value)]));
      const events = this.metricEvents(String(metric.Namespace), String(metric.MetricName), dims);
      if (events) {
        const count = events.filter((at) => now - at < this.ctx.config.alarmPeriodMs).length;
        values[String(query.Id)] = count > 0 ? count : undefined; // no requests, no datapoint (as an ALB publishes)
      } else {
        values[String(query.Id)] = this.metrics(String(metric.Namespace), String(metric.MetricName), dims);
      }
    }
    const expression = queries.find((q) => q.Expression && q.ReturnData !== false) ?? queries.find((q) => q.Expression);
    if (!expression) throw new Error('no expression returns data');
    return evaluateMetricMath(String(expression.Expression), values);
  }

  private transition(alarm: AlarmRecord, state: AlarmState, reason: string): void {
    const previous = { value: alarm.state, reason: alarm.reason, timestamp: new Date(alarm.updatedAt).toISOString() };
    alarm.state = state;
    alarm.reason = reason;
    alarm.updatedAt = this.ctx.clock.now();
    this.ctx.emit('CloudWatch Alarm State Change', 'aws.cloudwatch', [alarm.arn], {
      alarmName: alarm.name,
      state: { value: state, reason, timestamp: this.ctx.isoNow() },
      previousState: previous,
      configuration: {
        description: alarm.settings.AlarmDescription,
        metrics: alarm.settings.Metrics ? eventMetrics(alarm.settings.Metrics as Input[]) : [
          {
            id: 'm1',
            metricStat: {
              metric: {
                namespace: alarm.settings.Namespace,
                name: alarm.settings.MetricName,
                dimensions: Object.fromEntries(((alarm.settings.Dimensions ?? []) as Input[]).map((d) => [d.Name, d.Value])),
              },
              period: alarm.settings.Period,
              stat: alarm.settings.Statistic,
            },
            returnData: true,
          },
        ],
      },
    });
  }

  private output(alarm: AlarmRecord): Input {
    const { Tags: _tags, ...settings } = alarm.settings;
    return {
      AlarmName: alarm.name,
      AlarmArn: alarm.arn,
      ...settings,
      ActionsEnabled: alarm.actionsEnabled,
      OKActions: settings.OKActions ?? [],
      AlarmActions: settings.AlarmActions ?? [],
      InsufficientDataActions: settings.InsufficientDataActions ?? [],
      StateValue: alarm.state,
      StateReason: alarm.reason,
      StateUpdatedTimestamp: new Date(alarm.updatedAt),
      StateTransitionedTimestamp: new Date(alarm.updatedAt),
      AlarmConfigurationUpdatedTimestamp: new Date(alarm.updatedAt),
    };
  }

  readonly actions: Record<string, (input: Input) => Input> = {
    PutMetricAlarm: (input) => {
      const name = String(input.AlarmName);
      if (name.length < 1 || name.length > 255) throw cwError('InvalidParameterValue', 'The parameter AlarmName must be between 1 and 255 characters.');
      if (!COMPARATORS[String(input.ComparisonOperator)]) {
        throw cwError('InvalidParameterValue', `Invalid value for ComparisonOperator: ${input.ComparisonOperator}`);
      }
      if (input.MetricName && input.Metrics) throw cwError('InvalidParameterCombination', 'MetricName and Metrics are mutually exclusive.');
      if (!input.MetricName && !input.Metrics) throw cwError('MissingParameter', 'The parameter MetricName is required.');
      if (input.MetricName) {
        if (!input.Namespace) throw cwError('MissingParameter', 'The parameter Namespace is required.');
        if (!input.Statistic && !input.ExtendedStatistic) throw cwError('MissingParameter', 'The parameter Statistic or ExtendedStatistic is required.');
        if (input.Period === undefined) throw cwError('MissingParameter', 'The parameter Period is required.');
        if (input.Period < 10 || (input.Period > 30 && input.Period % 60 !== 0)) {
          throw cwError('InvalidParameterValue', 'The parameter Period must be 10, 20, 30 or a multiple of 60.');
        }
      }
      if (input.Threshold === undefined && !input.ThresholdMetricId) throw cwError('MissingParameter', 'The parameter Threshold is required.');
      if (input.EvaluationPeriods < 1) throw cwError('InvalidParameterValue', 'The parameter EvaluationPeriods must be greater than or equal to 1.');
      if (input.DatapointsToAlarm !== undefined && input.DatapointsToAlarm > input.EvaluationPeriods) {
        throw cwError('InvalidParameterValue', 'DatapointsToAlarm must be less than or equal to EvaluationPeriods.');
      }
      if (input.TreatMissingData && !['breaching', 'notBreaching', 'ignore', 'missing'].includes(input.TreatMissingData)) {
        throw cwError('InvalidParameterValue', `Invalid value for TreatMissingData: ${input.TreatMissingData}`);
      }
      const existing = this.alarms.get(name);
      const settings = { ...input };
      delete settings.AlarmName;
      const alarm: AlarmRecord = existing ?? {
        name,
        arn: this.ctx.arn('cloudwatch', `alarm:${name}`),
        settings,
        state: 'INSUFFICIENT_DATA',
        reason: 'Unchecked: Initial alarm creation',
        updatedAt: this.ctx.clock.now(),
        datapoints: [],
        tags: new Map(),
        actionsEnabled: true,
      };
      alarm.settings = settings;
      alarm.actionsEnabled = input.ActionsEnabled ?? true;
      // Tags on PutMetricAlarm only apply when the alarm is created (as on AWS)
      if (!existing) alarm.tags = tagsFromList(input.Tags);
      this.alarms.set(name, alarm);
      return {};
    },

    DescribeAlarms: (input) => {
      let list = [...this.alarms.values()];
      if (input.AlarmNames) list = list.filter((a) => (input.AlarmNames as string[]).includes(a.name));
      if (input.AlarmNamePrefix) {
        if (input.AlarmNames) throw cwError('InvalidParameterCombination', 'AlarmNames and AlarmNamePrefix are mutually exclusive.');
        list = list.filter((a) => a.name.startsWith(String(input.AlarmNamePrefix)));
      }
      if (input.StateValue) list = list.filter((a) => a.state === input.StateValue);
      if (input.ActionPrefix) list = list.filter((a) => ((a.settings.AlarmActions ?? []) as string[]).some((x) => x.startsWith(input.ActionPrefix)));
      list.sort((a, b) => a.name.localeCompare(b.name));
      const max = Math.min(Number(input.MaxRecords ?? 50), 100);
      const start = input.NextToken ? Number(Buffer.from(String(input.NextToken), 'base64').toString()) : 0;
      const next = start + max < list.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
      const types = (input.AlarmTypes ?? ['MetricAlarm']) as string[];
      return {
        MetricAlarms: types.includes('MetricAlarm') ? list.slice(start, start + max).map((a) => this.output(a)) : [],
        CompositeAlarms: [],
        NextToken: next,
      };
    },

    DeleteAlarms: (input) => {
      const names = input.AlarmNames as string[];
      if (names.length > 100) throw cwError('InvalidParameterValue', 'The parameter AlarmNames must not have more than 100 members.');
      // as CloudWatch: the names that exist are deleted, the others reported
      const missing = names.filter((name) => !this.alarms.has(name));
      for (const name of names) this.alarms.delete(name);
      if (missing.length > 0) throw cwError('ResourceNotFound', `${missing.join(', ')} not found`);
      return {};
    },

    SetAlarmState: (input) => {
      const alarm = this.alarms.get(String(input.AlarmName));
      if (!alarm) throw cwError('ResourceNotFound', `${input.AlarmName} not found`);
      if (!['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(input.StateValue)) throw cwError('InvalidParameterValue', `Invalid value for StateValue: ${input.StateValue}`);
      this.transition(alarm, input.StateValue, String(input.StateReason));
      return {};
    },

    EnableAlarmActions: (input) => {
      for (const name of input.AlarmNames as string[]) {
        const alarm = this.alarms.get(name);
        if (alarm) alarm.actionsEnabled = true;
      }
      return {};
    },

    DisableAlarmActions: (input) => {
      for (const name of input.AlarmNames as string[]) {
        const alarm = this.alarms.get(name);
        if (alarm) alarm.actionsEnabled = false;
      }
      return {};
    },

    TagResource: (input) => {
      const alarm = this.byArn(String(input.ResourceARN));
      for (const [k, v] of tagsFromList(input.Tags)) alarm.tags.set(k, v);
      return {};
    },

    UntagResource: (input) => {
      const alarm = this.byArn(String(input.ResourceARN));
      for (const key of input.TagKeys as string[]) alarm.tags.delete(key);
      return {};
    },

    ListTagsForResource: (input) => ({ Tags: pascalTagList(this.byArn(String(input.ResourceARN)).tags) }),

    // Count metrics the simulator records events of (ALB RequestCount per target group) are
    // summed per Period from StartTime, one datapoint per period with events (as an ALB
    // publishes nothing for a minute without requests); gauges give their current value.
    GetMetricData: (input) => {
      const start = toMs(input.StartTime);
      const end = toMs(input.EndTime);
      if (!(end > start)) throw cwError('InvalidParameterValue', 'The parameter StartTime must be less than the parameter EndTime.');
      const queries = input.MetricDataQueries as Input[];
      if (queries.length > 500) throw cwError('InvalidParameterValue', 'The collection MetricDataQueries must not have a size greater than 500.');
      const results = queries.map((query) => {
        const stat = query.MetricStat as Input | undefined;
        if (!stat) {
          return { Id: query.Id, Label: query.Label ?? query.Id, StatusCode: 'Complete', Timestamps: [], Values: [], Messages: [{ Code: 'Unsupported', Value: 'metric math is not evaluated by the simulator' }] };
        }
        const metric = stat.Metric as Input;
        const dims = Object.fromEntries(((metric.Dimensions ?? []) as Input[]).map((d) => [String(d.Name), String(d.Value)]));
        const periodMs = Number(stat.Period) * 1000;
        const events = this.metricEvents(String(metric.Namespace), String(metric.MetricName), dims);
        const buckets = new Map<number, number>();
        if (events) {
          for (const at of events) {
            if (at < start || at >= end) continue;
            const bucket = start + Math.floor((at - start) / periodMs) * periodMs;
            buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
          }
        } else {
          const value = this.metrics(String(metric.Namespace), String(metric.MetricName), dims);
          if (value !== undefined) buckets.set(start + Math.floor((end - 1 - start) / periodMs) * periodMs, value);
        }
        const points = [...buckets.entries()].sort((a, b) => b[0] - a[0]); // newest first (TimestampDescending)
        return { Id: query.Id, Label: query.Label ?? metric.MetricName, StatusCode: 'Complete', Timestamps: points.map(([t]) => new Date(t)), Values: points.map(([, v]) => v) };
      });
      return { MetricDataResults: results, Messages: [] };
    },
  };

  private byArn(arn: string): AlarmRecord {
    const alarm = [...this.alarms.values()].find((a) => a.arn === arn);
    if (!alarm) throw cwError('ResourceNotFoundException', 'The specified resource was not found.');
    return alarm;
  }

  stop(): void {
    this.evaluation.stop();
  }
}

/** The `configuration.metrics` of an alarm state change event for a metric-math alarm. */
function eventMetrics(queries: Input[]): Input[] {
  return queries.map((q) => {
    const stat = q.MetricStat as Input | undefined;
    if (!stat) return { id: q.Id, expression: q.Expression, label: q.Label, returnData: q.ReturnData !== false };
    const metric = stat.Metric as Input;
    return {
      id: q.Id,
      metricStat: {
        metric: {
          namespace: metric.Namespace,
          name: metric.MetricName,
          dimensions: Object.fromEntries(((metric.Dimensions ?? []) as Input[]).map((d) => [d.Name, d.Value])),
        },
        period: stat.Period,
        stat: stat.Stat,
      },
      returnData: q.ReturnData !== false,
    };
  });
}

function describeComparison(operator: string): string {
  switch (operator) {
    case 'GreaterThanOrEqualToThreshold':
      return 'greater than or equal to';
    case 'GreaterThanThreshold':
      return 'greater than';
    case 'LessThanThreshold':
      return 'less than';
    default:
      return 'less than or equal to';
  }
}
