/**
 * Writes statemachines/<kind>.asl.json from the workflow sources beside this file:
 * `npm run build:asl`. The committed JSON is what CDK and local mode load;
 * test/workflow/asl-build.test.ts fails when it differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AnyWorkflowKind, WORKFLOW_KINDS, WORKFLOWS } from '#contract/workflows.ts';
import type { Json, StateMachine } from './asl.ts';
import { formatJson } from './format.ts';
import { cleanup } from './cleanup.ts';
import { create } from './create.ts';
import { heal } from './heal.ts';
import { scale } from './scale.ts';
import { teardown } from './teardown.ts';
import { update } from './update.ts';

/** One source per kind of functions/contract/workflows.ts. */
export const STATE_MACHINES: Record<AnyWorkflowKind, StateMachine> = { create, update, teardown, scale, heal, cleanup };

export const STATEMACHINES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** file name under statemachines/ -> its text */
export function renderStateMachines(): Record<string, string> {
  return Object.fromEntries(WORKFLOW_KINDS.map((kind) => [WORKFLOWS[kind].asl, formatJson(STATE_MACHINES[kind] as unknown as Json)]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, text] of Object.entries(renderStateMachines())) {
    writeFileSync(join(STATEMACHINES_DIR, file), text);
    console.log(`statemachines/${file}: ${text.split('\n').length - 1} lines`);
  }
}
