/**
 * For route tests that mock the DynamoDB document client (aws-sdk-client-mock): what the
 * Idempotency-Key claim protocol (functions/commands/idempotency.ts) leaves in the table, so a next
 * request with the same key meets it. The protocol itself is tested against DynamoDB Local in
 * test/unit/commands/idempotency.test.ts.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClientResolvedConfig, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';

type DocumentClientMock = AwsStub<ServiceInputTypes, ServiceOutputTypes, DynamoDBDocumentClientResolvedConfig>;

/** From now on the key `pk` is held by `item`: the claim fails and the read returns it. */
export function idempotencyKeyHeld(dynamodb: DocumentClientMock, pk: string, item: Record<string, unknown>): void {
  dynamodb
    .on(PutCommand, { Item: { pk, sk: 'IDEM' } })
    .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
  dynamodb.on(GetCommand, { Key: { pk, sk: 'IDEM' } }).resolves({ Item: item });
}

/** The completed item the first request with key `pk` wrote (its claim, then its answer); it now holds the key. */
export function completedIdempotencyItem(dynamodb: DocumentClientMock, pk: string): Record<string, unknown> {
  const claim = dynamodb.commandCalls(PutCommand).find((c) => c.args[0].input.Item?.pk === pk)?.args[0].input.Item;
  const completion = dynamodb.commandCalls(UpdateCommand).find((c) => c.args[0].input.Key?.pk === pk)?.args[0].input;
  if (!claim || !completion) throw new Error(`no claim and completion of ${pk} were written`);
  const values = completion.ExpressionAttributeValues!;
  const item = { ...claim, state: values[':completed'], answer: values[':answer'], purgeAt: values[':purgeAt'] };
  idempotencyKeyHeld(dynamodb, pk, item);
  return item;
}
