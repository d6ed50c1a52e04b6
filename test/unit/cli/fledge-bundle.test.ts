/**
 * What `npm pack` / `npm publish` ship (package.json `prepack`: `npm run build:cli`): the
 * esbuild bundle of the CLI runs, with its dependencies resolved from node_modules as an
 * installed package resolves them. Built into a scratch folder, never into dist/ (which
 * bin/fledge.mjs would then prefer over the source).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const scratch = mkdtempSync(join(REPO_ROOT, '.cli-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the packed CLI', () => {
  it('is the build:cli script\'s bundle, and it runs', async () => {
    const script = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['build:cli'];
    expect(script).toBe('esbuild cli/fledge.ts --bundle --platform=node --format=esm --packages=external --outfile=dist/fledge.mjs');
    const outfile = join(scratch, 'fledge.mjs');
    await build({ entryPoints: [join(REPO_ROOT, 'cli', 'fledge.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'silent' });
    const help = execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pathToFileURL(outfile).href)}); await m.run(['--help']);`], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(help).toMatch(/^Usage: fledge \[options\] \[command\]/);
    expect(help).toContain('prune [options]');
  });
});
