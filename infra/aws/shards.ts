/**
 * The pool of load balancers (shards) as the Lambdas see it: `FLEDGE_SHARDS`, a JSON array of
 * the contract's `Shard` (functions/domain/shards.ts), built from CDK tokens, and whether
 * environments get their own DNS records (`FLEDGE_HOSTED_ZONE_ID`).
 *
 * A shard is one ALB, its listener and its own waker target group; it holds 99 environments
 * (infra/aws/config.ts MAX_ENVIRONMENTS_PER_ALB). Shard ids are `s1`, `s2`... in creation order.
 */
import { Stack } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { type FledgeConfig, shardId } from './config.ts';
import type { Network } from './network.ts';

/** One shard, its values CloudFormation references (the contract's `Shard`). */
export interface ShardDescription {
  id: string;
  listenerArn: string;
  loadBalancerArn: string;
  /** the `LoadBalancer` CloudWatch dimension: app/<name>/<id> */
  loadBalancerDimension: string;
  /** absent only in the waker's own copy (see `wakerShards`) */
  wakerTargetGroupArn?: string;
  dnsName: string;
  canonicalHostedZoneId: string;
  closed?: true;
}

/** Per-environment DNS records: a hosted zone, and more than one shard (with one, the wildcard record is enough). */
export function perEnvironmentDns(config: Pick<FledgeConfig, 'hostedZoneId' | 'shardCount'>): config is { hostedZoneId: string; shardCount: number } {
  return config.hostedZoneId !== undefined && config.shardCount > 1;
}

/** `arn:<partition>:route53:::hostedzone/<id>`: Route 53 resources have no region or account. */
export function hostedZoneArn(stack: Stack, hostedZoneId: string): string {
  return `arn:${stack.partition}:route53:::hostedzone/${hostedZoneId}`;
}

/** Every shard of the pool, in shard order; `wakerTargetGroups` left out only for the waker (see `wakerShards`). */
export function shardDescriptions(network: Network, closedShards: readonly string[], wakerTargetGroups?: readonly elbv2.ITargetGroup[]): ShardDescription[] {
  return network.loadBalancers.map((loadBalancer, index) => {
    const id = shardId(index);
    const wakerTargetGroup = wakerTargetGroups?.[index];
    return {
      id,
      listenerArn: network.listeners[index]!.listenerArn,
      loadBalancerArn: loadBalancer.loadBalancerArn,
      loadBalancerDimension: loadBalancer.loadBalancerFullName,
      ...(wakerTargetGroup ? { wakerTargetGroupArn: wakerTargetGroup.targetGroupArn } : {}),
      dnsName: loadBalancer.loadBalancerDnsName,
      canonicalHostedZoneId: loadBalancer.loadBalancerCanonicalHostedZoneId,
      ...(closedShards.includes(id) ? { closed: true as const } : {}),
    };
  });
}

/**
 * `FLEDGE_SHARDS`: every shard, for the Lambdas that place environments or act on their load
 * balancer (the workflows' task Lambdas, the waker, idle sleep). Declared in
 * functions/runtime/config.ts by the shard placement; until it lands it is not in
 * `LambdaEnvironment`, hence the plain record.
 */
export function shardsVariable(stack: Stack, shards: ShardDescription[]): Record<string, string> {
  return { FLEDGE_SHARDS: stack.toJsonString(shards) };
}

/**
 * `FLEDGE_HOSTED_ZONE_ID`, set only when environments get their own records, so the runtime and
 * the IAM grants (only then) agree.
 */
export function hostedZoneVariable(config: FledgeConfig): Record<string, string> {
  return perEnvironmentDns(config) ? { FLEDGE_HOSTED_ZONE_ID: config.hostedZoneId } : {};
}

/**
 * What the size check says when the pool does not fit Lambda's 4 KB of environment variables:
 * FLEDGE_SHARDS takes about 740 bytes per shard at the documented maxima of its ARNs and names
 * (infra/aws/lambda-environment.ts ELB_BOUNDS), so the task Lambdas hold 2 shards at most, and
 * the Lambdas that also hold the state machine ARNs (events, cleanup) not even 2: they get none.
 */
export function poolTooBig(shardCount: number): string {
  return (
    `FLEDGE_SHARDS names all ${shardCount} load balancers of the pool, about 740 bytes each at the longest ARNs and DNS names AWS allows: ` +
    'a pool past 2 load balancers (198 environments) does not fit the environment of a Lambda. Lower maxEnvironments to at most 198.'
  );
}
