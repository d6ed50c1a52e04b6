/**
 * AWS SDK clients, created once at module scope and reused across warm invocations.
 *
 * The domain never imports an SDK client; it goes through the adapters in this folder,
 * which take their clients from here. Local mode (infra/local) replaces the ECS, ELBv2 and
 * CloudWatch clients with the simulator (`useClients`) and points DynamoDB at DynamoDB Local
 * through FLEDGE_DYNAMODB_ENDPOINT, so the same adapter code runs on AWS and locally.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The part of an SDK v3 client the adapters use: `send(command)`. */
export interface CommandSender {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<any>;
}

export interface AwsClients {
  dynamodb: DynamoDBDocumentClient;
  ecs: CommandSender;
  elbv2: CommandSender;
  cloudwatch: CommandSender;
  sfn: CommandSender;
}

function createDefaultClients(): AwsClients {
  const endpoint = process.env.FLEDGE_DYNAMODB_ENDPOINT;
  const dynamodb = DynamoDBDocumentClient.from(
    new DynamoDBClient(endpoint ? { endpoint, maxAttempts: 5 } : { maxAttempts: 5 }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return {
    dynamodb,
    ecs: new ECSClient({}),
    elbv2: new ElasticLoadBalancingV2Client({}),
    cloudwatch: new CloudWatchClient({}),
    sfn: new SFNClient({}),
  };
}

let clients: AwsClients | undefined;

export function awsClients(): AwsClients {
  clients ??= createDefaultClients();
  return clients;
}

/** Replace some clients (local mode's simulator, tests). Returns the previous set. */
export function useClients(overrides: Partial<AwsClients>): AwsClients {
  const previous = awsClients();
  clients = { ...previous, ...overrides };
  return previous;
}

/** Forget the clients so the next call builds them again from the environment. */
export function resetClients(): void {
  clients = undefined;
}
