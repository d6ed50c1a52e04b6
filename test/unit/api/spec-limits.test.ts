/**
 * Issue 17 hardening at the API: an empty sidecar list or hook set says the same as none (a later
 * identical PUT is a no-op 200), a spec whose rendered task definition is over ECS's 64 KiB is a
 * 400 naming the limit and the size (not a 201 that fails at RegisterTaskDefinition), and a NUL
 * in a hook's command word is refused.
 */
import { describe, expect, it } from 'vitest';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { handler as putHandler } from '../../../functions/api/put-environment.ts';
import { handler as patchHandler } from '../../../functions/api/patch-environment.ts';
import { sameSpec } from '../../../functions/domain/environment.ts';
import { MAX_TASK_DEFINITION_BYTES, taskDefinitionBytes } from '../../../functions/domain/task-definition-size.ts';
import { renderTaskDefinition } from '../../../functions/domain/resource-plan.ts';
import { mockApiAws } from '../../support/api-aws.ts';
import { call } from '../../support/api-events.ts';
import { record, spec } from '../../support/records.ts';

const { dynamodb, sfn, stored } = mockApiAws();
const put = (body: unknown, name = 'pr-1') => call(putHandler, { method: 'PUT', path: `/v1/environments/${name}`, pathParameters: { name }, body });
const patch = (body: unknown, name = 'pr-1') => call(patchHandler, { method: 'PATCH', path: `/v1/environments/${name}`, pathParameters: { name }, body });
const LABELS = { repository: 'acme/web', branch: 'main' };
const BASE = { image: 'ghcr.io/acme/web:1.0', labels: LABELS };

/** The spec the last conditional write stored (the environment's Put or Update in the transaction). */
function writtenSpec(): Record<string, unknown> {
  const calls = dynamodb.commandCalls(TransactWriteCommand);
  const items = calls[calls.length - 1]!.args[0].input.TransactItems!;
  const env = items.find((i) => (i.Put?.Item as { sk?: string } | undefined)?.sk === 'ENV')!;
  return (env.Put!.Item as { spec: Record<string, unknown> }).spec;
}

/** `count` variables of `size` characters each: names are short, the values carry the bytes. */
const variables = (count: number, size: number, prefix = 'V') => Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, 'x'.repeat(size)]));

describe('empty sidecars and hooks normalise to absent', () => {
  it('PATCH {"hooks":{"afterUpdate":null}} removing the last hook stores no hooks key; the same PUT without it is then a no-op 200', async () => {
    stored(record({ spec: spec({ hooks: { afterUpdate: { command: ['migrate'] } } }) }));
    const patched = await patch({ hooks: { afterUpdate: null } });
    expect(patched.status).toBe(202);
    expect(writtenSpec()).not.toHaveProperty('hooks');

    stored(record({ spec: spec() }));
    const starts = sfn.commandCalls(StartExecutionCommand).length;
    const again = await put(BASE);
    expect(again.status).toBe(200);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(starts);
  });

  it('PUT with "sidecars": [] and "hooks": {} equals the same spec without them: 200, nothing started', async () => {
    stored(record({ spec: spec() }));
    const response = await put({ ...BASE, sidecars: [], hooks: {} });
    expect(response.status).toBe(200);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('a record stored with an empty list or set (before this normalisation) still equals the spec without them', () => {
    expect(sameSpec({ ...spec(), sidecars: [], hooks: {} }, spec())).toBe(true);
    expect(sameSpec({ ...spec(), hooks: { afterUpdate: undefined } }, spec())).toBe(true);
    expect(sameSpec(spec({ hooks: { afterUpdate: { command: ['m'] } } }), spec())).toBe(false);
  });
});

describe("the rendered task definition's size (ECS: 64 KiB)", () => {
  // 6 containers of 100 variables of 95 characters: a body of ~60 KiB (under the API's 64 KiB) that renders to more than 64 KiB
  const sidecars = Array.from({ length: 5 }, (_, i) => ({ name: `side${i}`, image: 'redis:7', environment: variables(100, 95, `S${i}_`) }));
  const large = { ...BASE, cpu: 512, memory: 1024, environment: variables(100, 95), sidecars };

  it('a spec under the body limit whose task definition renders over 64 KiB is 400 naming the limit and the size; nothing written or started', async () => {
    expect(new TextEncoder().encode(JSON.stringify(large)).length).toBeLessThan(64 * 1024);
    const response = await put(large);
    expect(response.status).toBe(400);
    const detail = response.body.detail as string;
    const bytes = Number(/is (\d+) bytes as JSON/.exec(detail)?.[1]);
    expect(bytes).toBeGreaterThan(MAX_TASK_DEFINITION_BYTES);
    expect(detail).toContain(`ECS allows ${MAX_TASK_DEFINITION_BYTES} (64 KiB)`);
    expect(response.body.errors).toEqual([{ path: 'environment', message: expect.stringContaining(`${bytes} bytes`) }]);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('a PATCH that grows a stored spec past the limit is refused the same way (the stored spec is untouched)', async () => {
    const fewer = { ...large, sidecars: sidecars.slice(0, 4) };
    stored(record({ spec: spec({ ...fewer }) }));
    const response = await patch({ sidecars });
    expect(response.status).toBe(400);
    expect(response.body.detail).toMatch(/^the environment spec is invalid: the task definition this spec renders is \d+ bytes as JSON; ECS allows 65536/);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('counts the bytes ECS receives: a default spec is far below the limit, and the count grows with every variable', () => {
    const settings = { installationId: 'test', clusterArn: 'c', subnetIds: [], securityGroupIds: [], assignPublicIp: 'DISABLED' as const, executionRoleArn: 'arn:aws:iam::123456789012:role/exec', taskRoleArn: 'arn:aws:iam::123456789012:role/task', logGroup: '/fledge', region: 'eu-west-1', baseDomain: 'example.com' };
    const small = taskDefinitionBytes(renderTaskDefinition(spec(), settings));
    expect(small).toBeLessThan(2048);
    expect(taskDefinitionBytes(renderTaskDefinition(spec({ environment: { A: 'é' } }), settings))).toBe(small + '{"Name":"A","Value":"é"}'.length + 1);
  });
});

describe('hook commands', () => {
  it('refuses a NUL character in a command word (400 naming the word), accepts the same command without it', async () => {
    const response = await put({ ...BASE, hooks: { afterCreate: { command: ['seed', 'a\u0000b'] } } }, 'pr-9');
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'hooks.afterCreate.command.1', message: 'must not contain a NUL character' }]);
    expect((await put({ ...BASE, hooks: { afterCreate: { command: ['seed', 'ab'] } } }, 'pr-9')).status).toBe(201);
  });
});
