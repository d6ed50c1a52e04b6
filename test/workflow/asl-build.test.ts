import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionArnSubstitution, WORKFLOW_KINDS, WORKFLOWS } from '../../functions/contract/workflows.ts';
import { aslCalls } from '../../infra/aws/workflows.ts';
import { renderStateMachines, STATE_MACHINES, STATEMACHINES_DIR } from '../../statemachines/source/build.ts';

describe('statemachines/*.asl.json are written by statemachines/source/build.ts', () => {
  it.each(Object.entries(renderStateMachines()))('%s is what the builder writes', (file, text) => {
    const committed = readFileSync(join(STATEMACHINES_DIR, file), 'utf8');
    expect(committed === text, `statemachines/${file} differs from statemachines/source: run \`npm run build:asl\``).toBe(true);
  });
});

describe('the workflow registry (functions/contract/workflows.ts) says what each state machine invokes', () => {
  it.each(WORKFLOW_KINDS)('%s: its task Lambdas are the ones its ASL invokes', (kind) => {
    const invoked = aslCalls(STATE_MACHINES[kind]).functions;
    expect(invoked).toEqual([...WORKFLOWS[kind].taskLambdas].map(functionArnSubstitution).sort());
  });

  it.each(WORKFLOW_KINDS.flatMap((kind) => WORKFLOWS[kind].taskLambdas.map((lambda) => [kind, lambda])))('%s: functions/tasks/%s.ts exists', (_kind, lambda) => {
    expect(() => readFileSync(join(STATEMACHINES_DIR, '..', 'functions', 'tasks', `${lambda}.ts`))).not.toThrow();
  });
});
