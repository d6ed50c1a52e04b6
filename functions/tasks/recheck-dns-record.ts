/** RecheckDnsRecord (create, heal): Route 53 refused the CREATE, the name is read again; functions/commands/environment-dns.ts `recheckDnsRecord`. */
import type { TaskPayload, WorkflowState } from '#domain/workflow-state.ts';
import { recheckDnsRecord } from '#commands/environment-dns.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ workflow, state }: TaskPayload): Promise<WorkflowState> {
  return recheckDnsRecord(workflow, state);
}

export const handler = taskHandler(handle);
