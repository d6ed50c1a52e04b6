import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamodbEndpoint } from '#runtime/config.ts';
import { clientFor } from '../aws-clients.ts';

/**
 * How plain JS values become DynamoDB attributes. `convertClassInstanceToMap`: the marshaller
 * recognises a map by `value.constructor.name === 'Object'`, so a spec map with a key named
 * `constructor` (an environment variable or a label, which the API accepts) would otherwise
 * throw "Unsupported type passed" on every write; with it, such an object is written as a map
 * of its own enumerable keys like any other.
 */
export const MARSHALL_OPTIONS = { removeUndefinedValues: true, convertClassInstanceToMap: true } as const;

/** DynamoDB (document client: plain JS values in and out); FLEDGE_DYNAMODB_ENDPOINT points it at DynamoDB Local. */
export const dynamodbClient = () =>
  clientFor('dynamodb', () => {
    const endpoint = dynamodbEndpoint();
    return DynamoDBDocumentClient.from(new DynamoDBClient(endpoint ? { endpoint, maxAttempts: 5 } : { maxAttempts: 5 }), {
      marshallOptions: MARSHALL_OPTIONS,
    });
  });
