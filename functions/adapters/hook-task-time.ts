/**
 * A hook's one-off task in the environment's cost (README "Cost"): its billed seconds
 * (functions/domain/cost.ts `hookTaskSeconds`) are added to the item's `hookSeconds`, once per
 * task. The hook workflow's step calls it with the stopped task RunTask.sync answered.
 *
 * One UpdateItem, no read: `ADD` is atomic, and the condition on `lastHookTask` makes a retried
 * step (or a duplicate execution) of the same task a no-op. Hooks of one environment run one
 * after another, so the last task is enough to know. `taskTime` is not touched: the running
 * count's writes pin it by `since`/`count` (functions/adapters/operation-store.ts), and a
 * change of its `seconds` beside them could be lost.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { hookTaskSeconds, type BilledTask } from '#domain/cost.ts';
import { dynamodbClient } from './clients/dynamodb.ts';
import { envKey, tableName } from './table-keys.ts';

/** Adds the task's billed seconds to the environment's hook time; false when it was added already (or the environment is gone). */
export async function recordHookTaskTime(name: string, task: BilledTask & { taskArn: string }): Promise<boolean> {
  try {
    await dynamodbClient().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: envKey(name),
        UpdateExpression: 'SET #last = :task ADD #seconds :seconds',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#last) OR #last <> :task)',
        ExpressionAttributeNames: { '#last': 'lastHookTask', '#seconds': 'hookSeconds' },
        ExpressionAttributeValues: { ':task': task.taskArn, ':seconds': hookTaskSeconds(task) },
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}
