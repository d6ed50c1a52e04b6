import { describe, expect, it } from 'vitest';
import { environmentName, environmentSpecSchema } from '../../../functions/domain/environment-spec.ts';
import { formatDuration, parseDuration } from '../../../functions/domain/durations.ts';
import { isValidFargatePair } from '../../../functions/domain/fargate-sizes.ts';
import { mergePatch } from '../../../functions/domain/merge-patch.ts';
import { applyPatch, parseSpec } from '../../../functions/domain/spec-validation.ts';
import { ValidationFailed } from '../../../functions/domain/errors.ts';

const schema = environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 });
const issues = (input: unknown) => {
  const result = schema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('environment spec', () => {
  it('fills the documented defaults for a minimal spec', () => {
    expect(schema.parse({ image: 'nginx:1.27' })).toEqual({
      image: 'nginx:1.27',
      port: 8080,
      cpu: 256,
      memory: 512,
      desiredCount: 1,
      environment: {},
      secrets: {},
      healthCheck: { path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
      ttl: '72h',
      labels: {},
    });
  });

  it.each([
    'nginx',
    'nginx:1.27',
    'ghcr.io/acme/web:pr-42',
    'localhost:5000/app',
    '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:sha-abc123',
    `acme/web@sha256:${'a'.repeat(64)}`,
    `acme/web:1.0@sha256:${'b'.repeat(64)}`,
  ])('accepts the image reference %s', (image) => {
    expect(issues({ image })).toEqual([]);
  });

  it.each(['', 'UPPER/case', 'web:', 'web:tag with space', 'acme/web@sha256:short', '-leading/web'])('rejects the image reference "%s"', (image) => {
    expect(issues({ image })[0]).toMatch(/^image: /);
  });

  it('requires an image', () => {
    expect(issues({})).toEqual(['image: Invalid input: expected string, received undefined']);
  });

  it.each([
    [256, 512], [256, 2048], [512, 4096], [1024, 8192], [2048, 16384], [4096, 30720],
  ])('accepts the Fargate pair cpu %i / memory %i', (cpu, memory) => {
    expect(isValidFargatePair(cpu, memory)).toBe(true);
    expect(issues({ image: 'web', cpu, memory })).toEqual([]);
  });

  it.each([[256, 4096], [512, 512], [1024, 1024], [4096, 4096], [2048, 16500]])('rejects cpu %i with memory %i', (cpu, memory) => {
    expect(issues({ image: 'web', cpu, memory })).toEqual([expect.stringMatching(/^memory: memory \d+ is not valid with cpu/)]);
  });

  it('refuses an empty labels.repository (no list, filter or prune could find it); other labels may be empty', () => {
    expect(issues({ image: 'web', labels: { repository: '' } })).toEqual([expect.stringMatching(/^labels\.repository: must not be empty/)]);
    expect(issues({ image: 'web', labels: { repository: 'acme/web', note: '' } })).toEqual([]);
  });

  it('rejects a cpu Fargate does not offer', () => {
    expect(issues({ image: 'web', cpu: 300 })[0]).toMatch(/^cpu: /);
  });

  it('bounds port and desiredCount', () => {
    expect(issues({ image: 'web', port: 0 })[0]).toMatch(/^port: /);
    expect(issues({ image: 'web', port: 65536 })[0]).toMatch(/^port: /);
    expect(issues({ image: 'web', desiredCount: 11 })[0]).toMatch(/^desiredCount: /);
    expect(issues({ image: 'web', desiredCount: -1 })[0]).toMatch(/^desiredCount: /);
    expect(issues({ image: 'web', desiredCount: 1.5 })[0]).toMatch(/^desiredCount: /);
  });

  it('checks environment variable names, count and total size', () => {
    expect(issues({ image: 'web', environment: { '1BAD': 'x' } })[0]).toMatch(/^environment\.1BAD: /);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`V${i}`, 'x']));
    expect(issues({ image: 'web', environment: many })).toEqual(['environment: at most 100 environment variables']);
    expect(issues({ image: 'web', environment: { BIG: 'x'.repeat(33 * 1024) } })).toEqual(['environment: environment variables must total at most 32 KiB']);
  });

  it('takes secrets only as Secrets Manager or SSM parameter ARNs', () => {
    expect(issues({ image: 'web', secrets: { DB: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf' } })).toEqual([]);
    expect(issues({ image: 'web', secrets: { DB: 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/db' } })).toEqual([]);
    expect(issues({ image: 'web', secrets: { DB: 'hunter2' } })[0]).toMatch(/^secrets\.DB: must be a Secrets Manager secret ARN/);
  });

  it('parses ttl durations and enforces the operator maximum', () => {
    expect(issues({ image: 'web', ttl: '90m' })).toEqual([]);
    expect(issues({ image: 'web', ttl: '30d' })).toEqual([]);
    expect(issues({ image: 'web', ttl: '31d' })).toEqual(['ttl: exceeds the maximum ttl this installation allows']);
    expect(issues({ image: 'web', ttl: '0m' })[0]).toMatch(/^ttl: must be a duration/);
    expect(issues({ image: 'web', ttl: '3w' })[0]).toMatch(/^ttl: must be a duration/);
    expect(parseDuration('72h')).toBe(72 * 3_600_000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(formatDuration(7 * 86_400_000)).toBe('7d');
    expect(formatDuration(90 * 60_000)).toBe('90m');
  });

  it('checks autoscaling bounds against each other and the desired count', () => {
    expect(issues({ image: 'web', autoscaling: { minCount: 1, maxCount: 4 } })).toEqual([]);
    expect(issues({ image: 'web', autoscaling: { minCount: 5, maxCount: 2 } })).toEqual(['autoscaling.minCount: minCount must not exceed maxCount']);
    expect(issues({ image: 'web', autoscaling: { minCount: 1, maxCount: 11 } })[0]).toMatch(/^autoscaling.maxCount/);
    expect(issues({ image: 'web', autoscaling: { minCount: 1, maxCount: 4, targetCpuPercent: 95 } })[0]).toMatch(/^autoscaling.targetCpuPercent/);
    expect(issues({ image: 'web', desiredCount: 6, autoscaling: { minCount: 1, maxCount: 4 } })).toEqual(['desiredCount: must lie within autoscaling minCount..maxCount']);
  });

  it('rejects unknown and read-only fields', () => {
    expect(issues({ image: 'web', status: 'RUNNING' })).toEqual([': Unrecognized key: "status"']);
  });

  it('checks health-check timing like the ALB does', () => {
    expect(issues({ image: 'web', healthCheck: { intervalSeconds: 5, timeoutSeconds: 5 } })).toEqual(['healthCheck.timeoutSeconds: must be less than intervalSeconds']);
    expect(issues({ image: 'web', healthCheck: { path: 'health' } })[0]).toMatch(/^healthCheck.path: must start with \//);
  });
});

describe('environment names', () => {
  it.each(['a', 'pr-42', 'feature-login-form', 'a'.repeat(32), '0abc'])('accepts %s', (name) => {
    expect(environmentName.safeParse(name).success).toBe(true);
  });
  it.each(['', 'A', '-a', 'a-', 'a_b', 'a.b', 'a'.repeat(33), 'internal-api'])('rejects "%s"', (name) => {
    expect(environmentName.safeParse(name).success).toBe(false);
  });
});

describe('merge patch (RFC 7396)', () => {
  it('merges objects key by key, null removes, arrays and scalars replace', () => {
    expect(mergePatch({ a: 1, m: { x: '1', y: '2' }, l: [1] }, { a: 2, m: { x: null, z: '3' }, l: [2] })).toEqual({ a: 2, m: { y: '2', z: '3' }, l: [2] });
    expect(mergePatch({ a: 1 }, { a: null })).toEqual({});
  });
});

describe('applyPatch of labels', () => {
  const RULES = { maxTtlMs: 30 * 24 * 3_600_000, allowPinning: true };
  const current = parseSpec({ image: 'web:1', labels: { repository: 'acme/web', branch: 'main', team: 'blue' } }, RULES);

  it('`labels: null` removes every label but repository (fixed at create); without one, every label', () => {
    expect(applyPatch(current, { labels: null }, RULES).labels).toEqual({ repository: 'acme/web' });
    const unowned = parseSpec({ image: 'web:1', labels: { branch: 'main' } }, RULES);
    expect(applyPatch(unowned, { labels: null }, RULES).labels).toEqual({});
  });

  it('a label removed by name is gone, repository included (the command refuses that one: 400 naming labels.repository)', () => {
    expect(applyPatch(current, { labels: { team: null } }, RULES).labels).toEqual({ repository: 'acme/web', branch: 'main' });
    expect(applyPatch(current, { labels: { repository: null } }, RULES).labels).toEqual({ branch: 'main', team: 'blue' });
  });

  it('labels of another type are still a 400 naming labels', () => {
    for (const labels of [[], 'x', 3, { branch: 3 }]) {
      expect(() => applyPatch(current, { labels }, RULES), JSON.stringify(labels)).toThrow(ValidationFailed);
    }
  });
});
