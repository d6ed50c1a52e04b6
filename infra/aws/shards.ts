/**
 * The pool of load balancers (shards) as the Lambdas see it. The stack writes the pool (a JSON
 * array of the contract's `Shard`, functions/domain/shards.ts, built from CDK tokens) to the
 * state table's item POOL#shards/POOL on every deploy (`ShardPoolItem`, a custom resource), and
 * the Lambdas that need it get only `FLEDGE_SHARD_POOL=table`: they read the item (cached 60 s,
 * functions/commands/shard-pool.ts). The pool in the environment (FLEDGE_SHARDS, about 740
 * bytes a shard at AWS's longest ARNs) would not fit Lambda's 4 KB past 2 shards. Also whether
 * environments get their own DNS records (`FLEDGE_HOSTED_ZONE_ID`).
 *
 * A shard is one ALB, its listener and its own waker target group; it holds 99 environments
 * (infra/aws/config.ts MAX_ENVIRONMENTS_PER_ALB). Shard ids are `s1`, `s2`... in creation order.
 */
import { createHash } from 'node:crypto';
import { Lazy, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import {
  SHARD_POOL_ATTRIBUTE, SHARD_POOL_IN_TABLE, SHARD_POOL_KEY, SHARD_POOL_UPDATED_AT,
} from '#contract/shard-pool-item.ts';
import type { LambdaEnvironment } from '#runtime/config.ts';
import { type FledgeConfig, shardId } from './config.ts';
import { acknowledgeWildcards } from './nag.ts';
import type { Network } from './network.ts';
import type { Shard } from '../../functions/domain/shards.ts';

/** One shard, its values CloudFormation references (functions/domain/shards.ts `Shard`). */
export type ShardDescription = Shard;

/** Per-environment DNS records: a hosted zone, and more than one shard (with one, the wildcard record is enough). */
export function perEnvironmentDns(config: Pick<FledgeConfig, 'hostedZoneId' | 'shardCount'>): config is { hostedZoneId: string; shardCount: number } {
  return config.hostedZoneId !== undefined && config.shardCount > 1;
}

/** `arn:<partition>:route53:::hostedzone/<id>`: Route 53 resources have no region or account. */
export function hostedZoneArn(stack: Stack, hostedZoneId: string): string {
  return `arn:${stack.partition}:route53:::hostedzone/${hostedZoneId}`;
}

/**
 * Every shard of the pool, in shard order, each with its waker target group. The waker reads
 * them from the table at run time: in its environment they would make it depend on the target
 * groups that target it (a cycle).
 */
export function shardDescriptions(network: Network, closedShards: readonly string[], wakerTargetGroups: readonly elbv2.ITargetGroup[]): ShardDescription[] {
  return network.loadBalancers.map((loadBalancer, index) => {
    const id = shardId(index);
    return {
      id,
      listenerArn: network.listeners[index]!.listenerArn,
      loadBalancerArn: loadBalancer.loadBalancerArn,
      loadBalancerDimension: loadBalancer.loadBalancerFullName,
      wakerTargetGroupArn: wakerTargetGroups[index]!.targetGroupArn,
      dnsName: loadBalancer.loadBalancerDnsName,
      canonicalHostedZoneId: loadBalancer.loadBalancerCanonicalHostedZoneId,
      ...(closedShards.includes(id) ? { closed: true as const } : {}),
    };
  });
}

/**
 * `FLEDGE_SHARD_POOL=table`: the pool is the state table's item (`ShardPoolItem`), for the
 * Lambdas that place environments or act on their load balancer (the workflows' task Lambdas,
 * the waker, idle sleep, the cleanup's orphan sweep). Each must be able to read the item
 * (`grantReadShardPool` where it has no other access to the table).
 */
export function shardPoolVariable(): LambdaEnvironment {
  return { FLEDGE_SHARD_POOL: SHARD_POOL_IN_TABLE };
}

/** GetItem of the pool item only (and decrypting it with the table's customer managed key). */
export function grantReadShardPool(role: iam.IRole, table: dynamodb.ITable): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'ReadShardPool',
    actions: ['dynamodb:GetItem'],
    resources: [table.tableArn],
    conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SHARD_POOL_KEY.pk] } },
  }));
  table.encryptionKey?.grantDecrypt(role);
}

export interface ShardPoolItemProps {
  table: dynamodb.ITable;
  /** every shard, in shard order, with its waker target group */
  shards: ShardDescription[];
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
}

/**
 * Writes the pool to the state table on every deploy: a custom resource (AwsCustomResource,
 * DynamoDB PutItem on create and update; nothing on delete, as the table outlives the stack).
 * Its properties hold the synth time (`updatedAt`), so every deploy rewrites the item, also one
 * deleted by hand; its physical id is a hash of the pool as synthesized, so it changes with it.
 * The pool refers to every load balancer, listener and waker target group, so CloudFormation
 * writes it after they exist (and again when one is replaced). The Lambda that makes the call is
 * CDK's prebuilt provider (no bundling, no Docker), with the SDK of its runtime
 * (installLatestAwsSdk false: nothing downloaded at deploy) and a role that may put this one
 * item and write its own log group only.
 */
export class ShardPoolItem extends Construct {
  readonly resource: cr.AwsCustomResource;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ShardPoolItemProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const pool = stack.toJsonString(props.shards);
    const hash = Lazy.string({ produce: () => createHash('sha256').update(JSON.stringify(stack.resolve(pool))).digest('hex').slice(0, 16) });
    const put: cr.AwsSdkCall = {
      service: 'DynamoDB',
      action: 'PutItem',
      parameters: {
        TableName: props.table.tableName,
        Item: {
          pk: { S: SHARD_POOL_KEY.pk },
          sk: { S: SHARD_POOL_KEY.sk },
          [SHARD_POOL_ATTRIBUTE]: { S: pool },
          [SHARD_POOL_UPDATED_AT]: { S: new Date().toISOString() },
        },
      },
      physicalResourceId: cr.PhysicalResourceId.of(Lazy.string({ produce: () => `fledge-shard-pool-${stack.resolve(hash) as string}` })),
    };
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.logRemovalPolicy });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Fledge: writes the pool of load balancers to the state table at deploy (item POOL#shards/POOL)',
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'WriteShardPool',
      actions: ['dynamodb:PutItem'],
      resources: [props.table.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SHARD_POOL_KEY.pk] } },
    }));
    props.table.encryptionKey?.grantEncryptDecrypt(this.role);
    logGroup.grantWrite(this.role);
    this.resource = new cr.AwsCustomResource(this, 'Resource', {
      resourceType: 'Custom::FledgeShardPool',
      onCreate: put,
      onUpdate: put,
      role: this.role,
      logGroup,
      installLatestAwsSdk: false,
    });
    // Node.js 22 on arm64 like every Fledge function (the provider is plain JavaScript on the
    // runtime's SDK v3); CDK would pick its own latest runtime, on x86
    const provider = stack.node.findChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
    const cfnProvider = provider.node.defaultChild as lambda.CfnFunction;
    cfnProvider.runtime = lambda.Runtime.NODEJS_22_X.name;
    cfnProvider.architectures = [lambda.Architecture.ARM_64.name];
    // the CDK grant for the table's customer managed key (kms:ReEncrypt*, kms:GenerateDataKey*)
    acknowledgeWildcards(this.role, [], []);
  }
}

/**
 * `FLEDGE_HOSTED_ZONE_ID`, set only when environments get their own records, so the runtime and
 * the IAM grants (only then) agree.
 */
export function hostedZoneVariable(config: FledgeConfig): Record<string, string> {
  return perEnvironmentDns(config) ? { FLEDGE_HOSTED_ZONE_ID: config.hostedZoneId } : {};
}
