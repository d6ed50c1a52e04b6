import { describe, expect, it } from 'vitest';
import { NAME_PATTERN } from '../../../functions/domain/environment-spec.ts';
import {
  checkInstallationId, installationIdFor, installationIdProblem, legacyTargetGroupName, TARGET_GROUP_NAME_MAX, targetGroupName,
} from '../../../functions/domain/resource-names.ts';

/** Elastic Load Balancing CreateTargetGroup Name: 1-32 alphanumerics or hyphens, not beginning or ending with a hyphen, not `internal-...`. */
const validTargetGroupName = (name: string) =>
  name.length >= 1 && name.length <= TARGET_GROUP_NAME_MAX && /^[A-Za-z0-9-]+$/.test(name) && !name.startsWith('-') && !name.endsWith('-') && !name.startsWith('internal-');

describe('installation ids', () => {
  it('are 2-8 lowercase letters and digits starting with a letter, never "internal"', () => {
    for (const id of ['ab', 'fled9ce2', 'local', 'test', 'p1']) expect(installationIdProblem(id), id).toBeUndefined();
    for (const id of ['a', 'fledge-x', 'Fledge', '1abc', 'abcdefghi', 'internal', '']) expect(installationIdProblem(id), id).toBeDefined();
    expect(() => checkInstallationId('a-b')).toThrow(/installation id/);
  });

  it('derive from the stack name: valid, stable, and different for stacks named alike', () => {
    const ids = ['Fledge', 'FledgeStaging', 'FledgeA', 'FledgeB', 'fledge', '123-Stack', '---', 'Internal', 'INTERNAL-preview'].map(installationIdFor);
    for (const id of ids) expect(installationIdProblem(id), id).toBeUndefined();
    expect(new Set(ids).size).toBe(ids.length);
    expect(installationIdFor('Fledge')).toBe(installationIdFor('Fledge'));
    expect(installationIdFor('Fledge')).toMatch(/^fled[0-9a-f]{4}$/);
  });
});

describe('target group names', () => {
  const longest = 'a'.repeat(32);
  const names = ['a', 'pr-42', 'feature-login-page-redesign', longest, 'x-'.repeat(15) + 'ab', '9lives', 'a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p'];

  it('fit Elastic Load Balancing\'s rules for every environment name, with the longest installation id', () => {
    for (const name of names) {
      expect(NAME_PATTERN.test(name), name).toBe(true);
      for (const installation of ['ab', 'fled9ce2', 'zzzzzzzz']) {
        const tg = targetGroupName(installation, name);
        expect(validTargetGroupName(tg), `${installation} ${name} -> ${tg}`).toBe(true);
        expect(tg.startsWith(`${installation}-`)).toBe(true);
      }
    }
    expect(targetGroupName('fled9ce2', 'pr-42')).toMatch(/^fled9ce2-pr-42-[0-9a-f]{8}$/);
    expect(targetGroupName('fled9ce2', longest)).toHaveLength(32);
  });

  it('are deterministic, differ between installations, and differ for names sharing a long prefix', () => {
    expect(targetGroupName('fled9ce2', 'pr-42')).toBe(targetGroupName('fled9ce2', 'pr-42'));
    expect(targetGroupName('fled9ce2', 'pr-42')).not.toBe(targetGroupName('stag1b3d', 'pr-42'));
    const similar = Array.from({ length: 500 }, (_, i) => `feature-very-long-branch-${i}`);
    const tgs = similar.map((n) => targetGroupName('fled9ce2', n));
    expect(new Set(tgs).size).toBe(similar.length);
    // the readable prefix is kept: an operator can tell them apart in the console
    expect(tgs[0]).toMatch(/^fled9ce2-feature-very-l-[0-9a-f]{8}$/);
  });

  it('never equal the name an earlier version gave (the environment\'s own name)', () => {
    for (const name of names) expect(targetGroupName('fled9ce2', name)).not.toBe(legacyTargetGroupName(name));
  });
});
