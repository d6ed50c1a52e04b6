/**
 * The one seam between Fledge's code and AWS. Each SDK client lives in its own module under
 * `clients/` (created once, at module scope on first use, reused across warm invocations), so
 * a Lambda bundles only the clients it actually calls: the health check carries no SDK, an
 * API route only DynamoDB and Step Functions.
 *
 * Local mode (infra/local) and tests replace clients here with `useClients` — the simulator's
 * and the local workflow runner's `send(command)` — and DynamoDB is pointed at DynamoDB Local
 * through FLEDGE_DYNAMODB_ENDPOINT, so the same adapter code runs on AWS and locally.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

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
  applicationautoscaling: CommandSender;
  sns: CommandSender;
  logs: CommandSender;
  route53: CommandSender;
}

type ClientName = keyof AwsClients;

const overrides: Partial<AwsClients> = {};
const created: Partial<AwsClients> = {};
let generation = 0;

/** The override for `name`, else the client made once by `create`. */
export function clientFor<K extends ClientName>(name: K, create: () => AwsClients[K]): AwsClients[K] {
  const override = overrides[name];
  if (override) return override;
  return (created[name] ??= create());
}

/** Replace some clients (local mode's simulator, tests). */
export function useClients(replacements: Partial<AwsClients>): void {
  Object.assign(overrides, replacements);
  generation++;
}

/** Forget overrides and created clients, so the next use builds them again from the environment. */
export function resetClients(): void {
  for (const key of Object.keys(overrides) as ClientName[]) delete overrides[key];
  for (const key of Object.keys(created) as ClientName[]) delete created[key];
  generation++;
}

/** Changes whenever clients are replaced (for caches that hold a client). */
export function clientGeneration(): number {
  return generation;
}
