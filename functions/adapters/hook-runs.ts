/**
 * A hook run as the record keeps it: its event, and its task-seconds added to `hookSeconds` (the
 * cost estimate counts them) in one transaction, once per task: `hookTasks` holds the ARNs
 * counted, so a retried RecordHookRun counts nothing twice.
 */
import type { EnvironmentEvent } from '#domain/events.ts';
import { cancellationCodes, transactWrite } from './environment-store.ts';
import { appendEvents, eventPuts } from './event-log.ts';
import { envKey, tableName } from './table-keys.ts';

/** Records the run; false when this task was counted already (a retried step) or the operation is no longer the environment's. */
export async function recordHookRun(name: string, operationId: string, run: { taskArn?: string; taskSeconds: number }, event: EnvironmentEvent): Promise<boolean> {
  if (!run.taskArn) {
    // no task ran (RunTask refused): nothing to count, only the event
    await appendEvents(name, [event]);
    return true;
  }
  try {
    await transactWrite({
      TransactItems: [
        {
          Update: {
            TableName: tableName(),
            Key: envKey(name),
            UpdateExpression: 'ADD hookSeconds :seconds, hookTasks :task',
            ConditionExpression: 'operation.id = :operation AND (attribute_not_exists(hookTasks) OR NOT contains(hookTasks, :arn))',
            ExpressionAttributeValues: { ':seconds': run.taskSeconds, ':task': new Set([run.taskArn]), ':arn': run.taskArn, ':operation': operationId },
          },
        },
        ...eventPuts(name, [event]),
      ],
    });
    return true;
  } catch (error) {
    if ((cancellationCodes(error) ?? []).includes('ConditionalCheckFailed')) return false;
    throw error;
  }
}
