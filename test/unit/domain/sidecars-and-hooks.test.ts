/**
 * Sidecars and hooks in the spec (issue 17): validation like the app container's, the task size
 * with sidecars, hooks within ECS's override limit, merge patches, the rendered task definition
 * (app first, sidecars after), its content hash, and `plan.hooks`.
 */
import { describe, expect, it } from 'vitest';
import { environmentSpecSchema, hookSettings } from '../../../functions/domain/environment-spec.ts';
import { ValidationFailed } from '../../../functions/domain/errors.ts';
import { HOOK_NAMES, MAX_OVERRIDE_CHARACTERS, overrideCharacters } from '../../../functions/domain/hooks.ts';
import { renderPlan, type PlanSettings } from '../../../functions/domain/resource-plan.ts';
import { secretExecutionRoleArn } from '../../../functions/domain/execution-roles.ts';
import { applyPatch, checkOwnership, parseSpec } from '../../../functions/domain/spec-validation.ts';
import { sizesFitting, taskSizeProblem } from '../../../functions/domain/fargate-sizes.ts';
import { classifyStoppedTask } from '../../../functions/domain/task-failure.ts';
import { checkAgainstShape, inputShape, serviceModel } from '../../support/service-models.ts';

const RULES = { maxTtlMs: 30 * 86_400_000, allowPinning: true };
const schema = environmentSpecSchema({ maxTtlMs: RULES.maxTtlMs });
const issues = (input: unknown) => {
  const result = schema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const settings: PlanSettings = {
  installationId: 'fled1a2b',
  clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/fledge',
  subnetIds: ['subnet-a'],
  securityGroupIds: ['sg-1'],
  assignPublicIp: 'DISABLED',
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  taskRoleArn: 'arn:aws:iam::123456789012:role/task',
  logGroup: '/fledge/environments',
  region: 'eu-west-1',
  baseDomain: 'preview.example.com',
  loadBalancerDimension: 'app/fledge/0123456789abcdef',
};
const DB_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fledge/acme/web/db-AbCdEf';
const SCOPE = { partition: 'aws', region: 'eu-west-1', account: '123456789012', root: 'fledge', prefixes: [] };
const postgres = { name: 'db', image: 'postgres:16', port: 5432, secrets: { POSTGRES_PASSWORD: DB_SECRET } };

function validationError(run: () => unknown): ValidationFailed {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailed);
    return error as ValidationFailed;
  }
  throw new Error('expected a ValidationFailed');
}

describe('sidecars in the spec', () => {
  it('fills the defaults: no maps, essential like ECS; a spec without sidecars or hooks has neither key', () => {
    expect(schema.parse({ image: 'web', sidecars: [{ name: 'cache', image: 'redis:7' }] }).sidecars).toEqual([
      { name: 'cache', image: 'redis:7', environment: {}, secrets: {}, essential: true },
    ]);
    const plain = schema.parse({ image: 'web' });
    expect('sidecars' in plain || 'hooks' in plain).toBe(false);
  });

  it('takes names of 1-31 lowercase letters, digits and hyphens starting with a letter, never `app`, never twice', () => {
    expect(issues({ image: 'web', sidecars: [{ name: 'a', image: 'x' }, { name: `d${'b'.repeat(30)}`, image: 'x' }] })).toEqual([]);
    for (const name of ['', '1db', 'Db', 'db_1', `d${'b'.repeat(31)}`]) {
      expect(issues({ image: 'web', sidecars: [{ name, image: 'x' }] })).toEqual([expect.stringMatching(/^sidecars\.0\.name: must be 1-31 lowercase/)]);
    }
    expect(issues({ image: 'web', sidecars: [{ name: 'app', image: 'x' }] })).toEqual(['sidecars.0.name: "app" is the app\'s container']);
    expect(issues({ image: 'web', sidecars: [{ name: 'db', image: 'x' }, { name: 'db', image: 'y' }] })).toEqual(['sidecars.1.name: sidecars.0 has this name already']);
  });

  it('allows at most 5 sidecars', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `s${i}`, image: 'x' }));
    expect(issues({ image: 'web', cpu: 512, memory: 1024, sidecars: many(5) })).toEqual([]);
    expect(issues({ image: 'web', cpu: 512, memory: 1024, sidecars: many(6) })).toEqual(['sidecars: at most 5 sidecars']);
  });

  it('validates a sidecar\'s image, variables, secrets and port like the app container\'s', () => {
    expect(issues({ image: 'web', sidecars: [{ name: 'db', image: 'UPPER/case' }] })[0]).toMatch(/^sidecars\.0\.image: must be an OCI image reference/);
    expect(issues({ image: 'web', sidecars: [{ name: 'db', image: 'x', environment: { '1BAD': 'x' } }] })[0]).toMatch(/^sidecars\.0\.environment\.1BAD: /);
    expect(issues({ image: 'web', sidecars: [{ name: 'db', image: 'x', environment: { BIG: 'x'.repeat(33 * 1024) } }] })).toEqual(['sidecars.0.environment: environment variables must total at most 32 KiB']);
    expect(issues({ image: 'web', sidecars: [{ name: 'db', image: 'x', secrets: { P: 'hunter2' } }] })[0]).toMatch(/^sidecars\.0\.secrets\.P: must be a Secrets Manager secret ARN/);
    expect(issues({ image: 'web', sidecars: [{ name: 'db', image: 'x', environment: { P: 'a' }, secrets: { P: DB_SECRET } }] })).toEqual([
      'sidecars.0.environment.P: also defined in secrets.P; a variable comes from one or the other',
      'sidecars.0.secrets.P: also defined in environment.P; a variable comes from one or the other',
    ]);
    expect(issues({ image: 'web', sidecars: [{ name: 'db', image: 'x', port: 0 }] })[0]).toMatch(/^sidecars\.0\.port: /);
    expect(issues({ image: 'web', sidecars: [{ name: 'db', image: 'x', port: 65536 }] })[0]).toMatch(/^sidecars\.0\.port: /);
    expect(issues({ image: 'web', sidecars: [{ name: 'db', image: 'x', cpu: 256 }] })).toEqual(['sidecars.0: Unrecognized key: "cpu"']);
    expect(issues({ image: 'web', sidecars: { name: 'db' } })[0]).toMatch(/^sidecars: /);
  });

  it('keeps ports apart: one network namespace per task (awsvpc)', () => {
    expect(issues({ image: 'web', port: 8080, sidecars: [{ name: 'db', image: 'x', port: 8080 }] })).toEqual([
      "sidecars.0.port: 8080 is the app's port; the containers of a task share one network namespace",
    ]);
    expect(issues({ image: 'web', sidecars: [{ name: 'db', image: 'x', port: 5432 }, { name: 'db2', image: 'x', port: 5432 }] })).toEqual([
      "sidecars.1.port: 5432 is sidecars.0's port; the containers of a task share one network namespace",
    ]);
    expect(issues({ image: 'web', sidecars: [{ name: 'db', image: 'x' }, { name: 'db2', image: 'x' }] })).toEqual([]);
  });

  it('refuses a sidecar secret the repository does not own, naming its path', () => {
    const parsed = parseSpec({ image: 'web', labels: { repository: 'acme/web' }, sidecars: [postgres] }, RULES);
    expect(checkOwnership(parsed, SCOPE)).toBe(parsed);
    const other = parseSpec({ image: 'web', labels: { repository: 'acme/other' }, sidecars: [postgres] }, RULES);
    expect(validationError(() => checkOwnership(other, SCOPE)).errors).toEqual([
      { path: 'sidecars.0.secrets.POSTGRES_PASSWORD', message: expect.stringMatching(/must be a secret of repository "acme\/other"/) },
    ]);
  });

  it('refuses `__proto__` as a sidecar variable name (a JavaScript object would drop it silently)', () => {
    const error = validationError(() => parseSpec(JSON.parse('{"image":"web","sidecars":[{"name":"db","image":"x","environment":{"__proto__":"x"}}]}'), RULES));
    expect(error.errors).toEqual([{ path: 'sidecars.0.environment.__proto__', message: '"__proto__" cannot be used as a name' }]);
  });
});

describe('the task size with sidecars', () => {
  it('fits the app (256 MiB) and 128 MiB per sidecar in the task\'s memory', () => {
    expect(taskSizeProblem(256, 512, 2)).toBeUndefined();
    expect(taskSizeProblem(256, 512, 0)).toBeUndefined();
    expect(taskSizeProblem(256, 1024, 5)).toBeUndefined();
    expect(taskSizeProblem(256, 512, 3)).toMatch(/^memory 512 \(with cpu 256\) cannot hold the app and 3 sidecars: they need at least 640 MiB/);
  });

  it('names the Fargate sizes that fit', () => {
    expect(sizesFitting(640)).toBe('cpu 256 with memory 1024 or 2048; cpu 512 with memory 1024-4096; cpu 1024 with memory 2048-8192; cpu 2048 with memory 4096-16384; cpu 4096 with memory 8192-30720');
    expect(sizesFitting(2048)).toMatch(/^cpu 256 with memory 2048; cpu 512 with memory 2048-4096;/);
  });

  it('a spec that does not fit is a 400 whose detail names the sizes that fit', () => {
    const three = [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }, { name: 'c', image: 'x' }];
    const error = validationError(() => parseSpec({ image: 'web', sidecars: three }, RULES));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^the environment spec is invalid: memory 512 \(with cpu 256\) cannot hold the app and 3 sidecars.*Fargate sizes that fit: cpu 256 with memory 1024 or 2048/);
    expect(error.errors).toEqual([{ path: 'memory', message: expect.stringMatching(/need at least 640 MiB/) }]);
    expect(parseSpec({ image: 'web', memory: 1024, sidecars: three }, RULES).sidecars).toHaveLength(3);
  });

  it('an invalid Fargate pair is reported once, as before', () => {
    expect(issues({ image: 'web', cpu: 256, memory: 4096, sidecars: [{ name: 'a', image: 'x' }] })).toEqual([expect.stringMatching(/^memory: memory 4096 is not valid with cpu 256/)]);
  });
});

describe('hooks in the spec', () => {
  it('has the four hooks the workflows run, each a command with a timeout (default 600 s)', () => {
    expect(Object.keys(hookSettings.shape)).toEqual([...HOOK_NAMES]);
    expect(schema.parse({ image: 'web', hooks: { afterCreate: { command: ['npm', 'run', 'db:seed'] } } }).hooks).toEqual({
      afterCreate: { command: ['npm', 'run', 'db:seed'], timeoutSeconds: 600 },
    });
  });

  it('refuses unknown hooks, empty commands or words, more than 64 words and timeouts outside 10..3600', () => {
    expect(issues({ image: 'web', hooks: { afterDeploy: { command: ['x'] } } })).toEqual(['hooks: Unrecognized key: "afterDeploy"']);
    expect(issues({ image: 'web', hooks: { afterCreate: { command: [] } } })).toEqual(['hooks.afterCreate.command: must have at least one word']);
    expect(issues({ image: 'web', hooks: { afterCreate: { command: ['npm', ''] } } })).toEqual(['hooks.afterCreate.command.1: must not be empty']);
    expect(issues({ image: 'web', hooks: { afterCreate: { command: 'npm run seed' } } })[0]).toMatch(/^hooks\.afterCreate\.command: /);
    expect(issues({ image: 'web', hooks: { afterCreate: { command: Array(65).fill('x') } } })).toEqual(['hooks.afterCreate.command: at most 64 words']);
    expect(issues({ image: 'web', hooks: { afterCreate: { command: ['x'], timeoutSeconds: 9 } } })[0]).toMatch(/^hooks\.afterCreate\.timeoutSeconds: /);
    expect(issues({ image: 'web', hooks: { afterCreate: { command: ['x'], timeoutSeconds: 3601 } } })[0]).toMatch(/^hooks\.afterCreate\.timeoutSeconds: /);
    expect(issues({ image: 'web', hooks: { afterCreate: { command: ['x'], timeoutSeconds: 30.5 } } })[0]).toMatch(/^hooks\.afterCreate\.timeoutSeconds: /);
    expect(issues({ image: 'web', hooks: { beforeDelete: { command: ['x'], timeoutSeconds: 10 } } })).toEqual([]);
  });

  it('keeps the command within RunTask\'s 8192 characters of overrides, JSON included', () => {
    // {"containerOverrides":[{"name":"app","command":["<word>"]}]} is 54 characters around the word
    const fits = ['x'.repeat(MAX_OVERRIDE_CHARACTERS - 54)];
    expect(overrideCharacters(fits)).toBe(MAX_OVERRIDE_CHARACTERS);
    expect(issues({ image: 'web', hooks: { beforeUpdate: { command: fits } } })).toEqual([]);
    expect(issues({ image: 'web', hooks: { beforeUpdate: { command: ['x'.repeat(MAX_OVERRIDE_CHARACTERS - 53)] } } })).toEqual([
      'hooks.beforeUpdate.command: the command\'s override is 8193 characters as JSON; ECS RunTask allows 8192 (8 KiB)',
    ]);
    // quotes and backslashes count as JSON writes them
    expect(overrideCharacters(['"'])).toBe(overrideCharacters(['xx']));
  });
});

describe('merge patches of sidecars and hooks', () => {
  const current = parseSpec({ image: 'web', sidecars: [postgres, { name: 'cache', image: 'redis:7', port: 6379 }], hooks: { afterCreate: { command: ['seed'] }, beforeUpdate: { command: ['migrate'], timeoutSeconds: 60 } } }, RULES);

  it('replaces the sidecar list with an array, removes it with null', () => {
    expect(applyPatch(current, { sidecars: [{ name: 'cache', image: 'redis:8' }] }, RULES).sidecars).toEqual([{ name: 'cache', image: 'redis:8', environment: {}, secrets: {}, essential: true }]);
    expect('sidecars' in applyPatch(current, { sidecars: null }, RULES)).toBe(false);
    expect(applyPatch(current, { ttl: '7d' }, RULES).sidecars).toEqual(current.sidecars);
  });

  it('merges hooks one by one: a field of one hook, null removes one or all', () => {
    const patched = applyPatch(current, { hooks: { beforeUpdate: { timeoutSeconds: 120 }, afterCreate: null, afterUpdate: { command: ['warm'] } } }, RULES);
    expect(patched.hooks).toEqual({ beforeUpdate: { command: ['migrate'], timeoutSeconds: 120 }, afterUpdate: { command: ['warm'], timeoutSeconds: 600 } });
    expect('hooks' in applyPatch(current, { hooks: null }, RULES)).toBe(false);
  });

  it('validates the result like a PUT', () => {
    expect(validationError(() => applyPatch(current, { sidecars: [{ name: 'app', image: 'x' }] }, RULES)).errors).toEqual([{ path: 'sidecars.0.name', message: '"app" is the app\'s container' }]);
    expect(validationError(() => applyPatch(current, { hooks: { afterCreate: { command: [] } } }, RULES)).errors[0]!.path).toBe('hooks.afterCreate.command');
    expect(validationError(() => applyPatch(current, { hooks: 'seed' }, RULES)).errors[0]!.path).toBe('hooks');
  });
});

describe('rendering sidecars and hooks', () => {
  const spec = parseSpec({
    image: 'ghcr.io/acme/web:1.0', port: 3000, labels: { repository: 'acme/web' },
    environment: { DATABASE_URL: 'postgres://postgres@localhost:5432/app' },
    sidecars: [postgres, { name: 'mock', image: 'wiremock/wiremock:3', essential: false }],
    hooks: { afterCreate: { command: ['npm', 'run', 'db:seed'] }, beforeUpdate: { command: ['npm', 'run', 'migrate'], timeoutSeconds: 120 } },
  }, RULES);
  const plan = renderPlan('pr-7', spec, settings, 'op-1', 1);
  const [app, db, mock] = plan.taskDefinition.ContainerDefinitions;

  it('puts `app` first, the sidecars after it in the spec\'s order, `app` depending on their start', () => {
    expect(plan.taskDefinition.ContainerDefinitions.map((c) => c.Name)).toEqual(['app', 'db', 'mock']);
    expect(app!.DependsOn).toEqual([{ ContainerName: 'db', Condition: 'START' }, { ContainerName: 'mock', Condition: 'START' }]);
    expect(app!.MemoryReservation).toBeUndefined();
  });

  it('renders a sidecar with its own image, variables, port, essential flag, the same log group and prefix, and 128 MiB reserved', () => {
    expect(db).toEqual({
      Name: 'db', Image: 'postgres:16', Essential: true,
      PortMappings: [{ ContainerPort: 5432, Protocol: 'tcp' }],
      Environment: [], Secrets: [{ Name: 'POSTGRES_PASSWORD', ValueFrom: DB_SECRET }],
      LogConfiguration: app!.LogConfiguration, StopTimeout: 10, MemoryReservation: 128,
    });
    expect(mock).toMatchObject({ Name: 'mock', Essential: false, PortMappings: [] });
    expect(db!.LogConfiguration.Options['awslogs-stream-prefix']).toBe('fledge');
  });

  it('reads a sidecar\'s secrets with the repository\'s own execution role', () => {
    const onlySidecarSecrets = parseSpec({ image: 'web', labels: { repository: 'acme/web' }, sidecars: [postgres] }, RULES);
    expect(renderPlan('pr-7', onlySidecarSecrets, settings, 'op-1', 1).taskDefinition.ExecutionRoleArn).toBe(secretExecutionRoleArn('aws', '123456789012', 'fled1a2b', 'acme/web', 'eu-west-1'));
  });

  it('the content hash covers the sidecars; a spec without them renders and hashes as before', () => {
    const without = parseSpec({ image: 'web' }, RULES);
    const withOne = parseSpec({ image: 'web', sidecars: [{ name: 'cache', image: 'redis:7' }] }, RULES);
    const otherImage = parseSpec({ image: 'web', sidecars: [{ name: 'cache', image: 'redis:8' }] }, RULES);
    const notEssential = parseSpec({ image: 'web', sidecars: [{ name: 'cache', image: 'redis:7', essential: false }] }, RULES);
    const hashes = [without, withOne, otherImage, notEssential].map((s) => renderPlan('pr-7', s, settings, 'op-1', 1).taskDefinitionHash);
    expect(new Set(hashes).size).toBe(4);
    expect(renderPlan('pr-7', without, settings, 'op-1', 1).taskDefinition.ContainerDefinitions).toEqual([expect.not.objectContaining({ DependsOn: expect.anything() })]);
    // hooks are not in the task definition: changing one keeps the family
    const hooked = parseSpec({ image: 'web', hooks: { afterCreate: { command: ['seed'] } } }, RULES);
    expect(renderPlan('pr-7', hooked, settings, 'op-1', 1).taskDefinitionHash).toBe(hashes[0]);
  });

  it('hands the workflow plan.hooks with the state timeout: the command\'s and 300 s for Fargate to provision and pull', () => {
    expect(plan.hooks).toEqual({
      afterCreate: { command: ['npm', 'run', 'db:seed'], timeoutSeconds: 600, stateTimeoutSeconds: 900 },
      beforeUpdate: { command: ['npm', 'run', 'migrate'], timeoutSeconds: 120, stateTimeoutSeconds: 420 },
    });
    expect('hooks' in renderPlan('pr-7', parseSpec({ image: 'web' }, RULES), settings, 'op-1', 1)).toBe(false);
  });

  it('renders a task definition the ECS API accepts (checked against the ECS service model)', () => {
    const ecs = serviceModel('ecs');
    const register = { ...plan.taskDefinition, NetworkMode: 'awsvpc', RequiresCompatibilities: ['FARGATE'] };
    expect(checkAgainstShape(ecs, inputShape('ecs', 'RegisterTaskDefinition'), register, 'RegisterTaskDefinition')).toEqual([]);
  });
});

describe('a stopped task names the sidecar that exited', () => {
  it('says which container exited', () => {
    const containers = [{ name: 'app', exitCode: 137 }, { name: 'db', exitCode: 1, reason: 'exited' }];
    expect(classifyStoppedTask({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [containers[1]!] }))
      .toEqual({ code: 'TASK_EXITED', message: 'the sidecar db exited with exit code 1 (exited)' });
    expect(classifyStoppedTask({ stopCode: 'EssentialContainerExited', containers: [{ name: 'app', exitCode: 3 }] }))
      .toEqual({ code: 'TASK_EXITED', message: 'the container exited with exit code 3' });
  });
});
