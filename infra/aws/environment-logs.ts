/**
 * What the logs route's Lambda (functions/api/list-logs.ts) may read: the environments' container
 * output and no other log group, and which tasks are an environment's in the Fledge cluster
 * (functions/adapters/environment-logs.ts finds an environment's streams through its tasks).
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Network } from './network.ts';

export function grantReadEnvironmentLogs(role: iam.IRole, network: Network): void {
  const stack = Stack.of(network);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'FilterEnvironmentLogs',
      actions: ['logs:FilterLogEvents'],
      resources: [network.environmentLogGroup.logGroupArn],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ListEnvironmentTasks',
      // ListTasks has no resource type; the ecs:cluster condition scopes it to the Fledge cluster
      actions: ['ecs:ListTasks'],
      resources: ['*'],
      conditions: { ArnEquals: { 'ecs:cluster': network.cluster.clusterArn } },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DescribeEnvironmentTasks',
      actions: ['ecs:DescribeTasks'],
      resources: [`arn:${stack.partition}:ecs:${stack.region}:${stack.account}:task/${network.cluster.clusterName}/*`],
    }),
  );
}
