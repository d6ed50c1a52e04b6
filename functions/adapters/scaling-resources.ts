/**
 * Reads the scale workflow and the waker need: the environment's listener rule and where it
 * forwards (its service's target group, or the waker's while it sleeps), the shared ALB's
 * target groups and ALB request counts per target group (idle sleep). Writes are the
 * workflow's own AWS SDK integration steps.
 */
import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeRulesCommand, DescribeTargetGroupsCommand, type Rule, type TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import { cloudwatchClient } from './clients/cloudwatch.ts';
import { elbv2Client } from './clients/elbv2.ts';

export interface ListenerRuleState {
  ruleArn: string;
  /** target groups the rule sends requests to (weight above 0) */
  targetGroupArns: string[];
  /** every target group in its forward action, weight 0 included (kept in use by the listener) */
  allTargetGroupArns: string[];
}

function forwardTargets(rule: Rule): { serving: string[]; all: string[] } {
  const serving = new Set<string>();
  const all = new Set<string>();
  for (const action of rule.Actions ?? []) {
    if (action.Type !== 'forward') continue;
    const weighted = action.ForwardConfig?.TargetGroups ?? [];
    if (weighted.length === 0 && action.TargetGroupArn) weighted.push({ TargetGroupArn: action.TargetGroupArn, Weight: 1 });
    for (const tg of weighted) {
      if (!tg.TargetGroupArn) continue;
      all.add(tg.TargetGroupArn);
      if ((tg.Weight ?? 1) > 0) serving.add(tg.TargetGroupArn);
    }
  }
  return { serving: [...serving], all: [...all] };
}

function matchesHost(rule: Rule, host: string): boolean {
  return (rule.Conditions ?? []).some(
    (c) => (c.Field === 'host-header' && (c.Values ?? []).includes(host)) || (c.HostHeaderConfig?.Values ?? []).includes(host),
  );
}

/** The rule of the shared listener that routes `host` (the environment's URL), if there is one. */
export async function findListenerRule(listenerArn: string, host: string): Promise<ListenerRuleState | undefined> {
  let marker: string | undefined;
  do {
    const page = await elbv2Client().send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: 400 }));
    for (const rule of (page.Rules as Rule[] | undefined) ?? []) {
      if (rule.IsDefault || !rule.RuleArn || !matchesHost(rule, host)) continue;
      const { serving, all } = forwardTargets(rule);
      return { ruleArn: rule.RuleArn, targetGroupArns: serving, allTargetGroupArns: all };
    }
    marker = page.NextMarker;
  } while (marker);
  return undefined;
}

/** `arn:...:listener/app/<lb>/<id>/<listener>` -> `app/<lb>/<id>` (the LoadBalancer metric dimension). */
export function loadBalancerDimension(listenerArn: string): string | undefined {
  const match = /:listener\/((?:app|net)\/[^/]+\/[^/]+)\/[^/]+$/.exec(listenerArn);
  return match?.[1];
}


/**
 * The target groups attached to a load balancer, ARN by name (DescribeTargetGroups with
 * `LoadBalancerArn`, up to 400 a page: Elastic Load Balancing API Reference, DescribeTargetGroups).
 */
export async function targetGroupArnsByName(loadBalancerArn: string): Promise<Map<string, string>> {
  const byName = new Map<string, string>();
  let marker: string | undefined;
  do {
    const page = await elbv2Client().send(new DescribeTargetGroupsCommand({ LoadBalancerArn: loadBalancerArn, Marker: marker, PageSize: 400 }));
    for (const tg of (page.TargetGroups as TargetGroup[] | undefined) ?? []) {
      if (tg.TargetGroupName && tg.TargetGroupArn) byName.set(tg.TargetGroupName, tg.TargetGroupArn);
    }
    marker = page.NextMarker;
  } while (marker);
  return byName;
}

/** `arn:...:targetgroup/<name>/<id>` -> `<name>` */
export function targetGroupNameOf(targetGroupArn: string): string | undefined {
  return /:targetgroup\/([^/]+)\/[^/]+$/.exec(targetGroupArn)?.[1];
}

/** `arn:...:targetgroup/<name>/<id>` -> `targetgroup/<name>/<id>` (the TargetGroup metric dimension). */
export function targetGroupDimension(targetGroupArn: string): string | undefined {
  const match = /:(targetgroup\/[^/]+\/[^/]+)$/.exec(targetGroupArn);
  return match?.[1];
}

/**
 * ALB requests per target group between `start` and `end` (CloudWatch `AWS/ApplicationELB`
 * RequestCount, Sum; an ALB publishes no datapoint for a minute without requests, so none = 0).
 * Up to 500 target groups per GetMetricData call.
 */
export async function requestCounts(
  listenerArn: string,
  targetGroupArns: string[],
  start: Date,
  end: Date,
): Promise<Map<string, number>> {
  const loadBalancer = loadBalancerDimension(listenerArn);
  const counts = new Map<string, number>();
  const periodSeconds = Math.max(60, Math.ceil((end.getTime() - start.getTime()) / 1000 / 60) * 60);
  for (let offset = 0; offset < targetGroupArns.length; offset += 500) {
    const batch = targetGroupArns.slice(offset, offset + 500);
    const queries: MetricDataQuery[] = [];
    batch.forEach((arn, i) => {
      const targetGroup = targetGroupDimension(arn);
      if (!targetGroup) return;
      queries.push({
        Id: `tg${i}`,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/ApplicationELB',
            MetricName: 'RequestCount',
            Dimensions: [
              { Name: 'TargetGroup', Value: targetGroup },
              ...(loadBalancer ? [{ Name: 'LoadBalancer', Value: loadBalancer }] : []),
            ],
          },
          Period: periodSeconds,
          Stat: 'Sum',
        },
        ReturnData: true,
      });
      counts.set(arn, 0);
    });
    if (queries.length === 0) continue;
    let nextToken: string | undefined;
    do {
      const result = await cloudwatchClient().send(
        new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, NextToken: nextToken }),
      );
      for (const series of result.MetricDataResults ?? []) {
        const index = Number(String(series.Id).slice(2));
        const arn = batch[index];
        if (arn === undefined) continue;
        const sum = ((series.Values as number[] | undefined) ?? []).reduce((a, b) => a + b, 0);
        counts.set(arn, (counts.get(arn) ?? 0) + sum);
      }
      nextToken = result.NextToken;
    } while (nextToken);
  }
  return counts;
}
