/**
 * The one DynamoDB table, built from `functions/contract/table-definition.ts` (local mode builds DynamoDB
 * Local's table from the same definition).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { tableDefinition } from '../../functions/contract/table-definition.ts';

export interface StateTableProps {
  /** Customer managed KMS key; AWS managed (aws/dynamodb) when absent. */
  kmsKeyArn?: string;
}

export class StateTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    const stringKey = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });
    const encryption = props.kmsKeyArn
      ? {
          encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
          encryptionKey: kms.Key.fromKeyArn(this, 'Key', props.kmsKeyArn),
        }
      : { encryption: dynamodb.TableEncryption.AWS_MANAGED };

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: stringKey(tableDefinition.partitionKey),
      sortKey: stringKey(tableDefinition.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: tableDefinition.ttlAttribute,
      deletionProtection: true,
      // The table is the record of every environment: never dropped with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
      ...encryption,
    });
    for (const [indexName, index] of Object.entries(tableDefinition.indexes)) {
      this.table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: stringKey(index.partitionKey),
        sortKey: stringKey(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
