/**
 * The pages of a Query on the table, one request each, until DynamoDB has no more
 * (LastEvaluatedKey absent) or the caller stops reading: each reader keeps its own limits and
 * counts, and none spells the paging loop again.
 */
import { QueryCommand, type QueryCommandInput, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { dynamodbClient } from './clients/dynamodb.ts';
import { tableName } from './table-keys.ts';

/** `limit` is asked before each request, so it can shrink with what the caller has read. */
export async function* queryPages(
  input: Omit<QueryCommandInput, 'TableName' | 'Limit'>,
  limit?: () => number,
): AsyncGenerator<QueryCommandOutput> {
  let startKey = input.ExclusiveStartKey;
  do {
    const page = await dynamodbClient().send(
      new QueryCommand({ ...input, TableName: tableName(), ...(limit ? { Limit: limit() } : {}), ExclusiveStartKey: startKey }),
    );
    yield page;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
