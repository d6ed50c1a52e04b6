import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientFor } from '../aws-clients.ts';

/** DynamoDB (document client: plain JS values in and out); FLEDGE_DYNAMODB_ENDPOINT points it at DynamoDB Local. */
export const dynamodbClient = () =>
  clientFor('dynamodb', () => {
    const endpoint = process.env.FLEDGE_DYNAMODB_ENDPOINT;
    return DynamoDBDocumentClient.from(new DynamoDBClient(endpoint ? { endpoint, maxAttempts: 5 } : { maxAttempts: 5 }), {
      marshallOptions: { removeUndefinedValues: true },
    });
  });
