/**
 * DynamoDB Local (the real emulator, in memory) for the workflow tests: the task handlers'
 * conditional writes and transactions run against DynamoDB's own semantics. Started the way
 * local mode starts it, with the table built from the same definition.
 */
import { startDynamoDbLocal as startLocal } from '../../../infra/local/dynamodb-local.ts';

export interface DynamoDbLocal {
  endpoint: string;
  tableName: string;
  stop(): Promise<void>;
}

export async function startDynamoDbLocal(tableName = 'fledge-test'): Promise<DynamoDbLocal> {
  const db = await startLocal({ tableName, inMemory: true, dataDir: '' });
  return { endpoint: db.endpoint, tableName, stop: () => db.stop() };
}
