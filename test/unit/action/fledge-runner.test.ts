/** The real runner: the `fledge` CLI as a child process (a stand-in script here; the CLI's own tests run the CLI). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnFledge } from '../../../action/src/fledge-runner.ts';

/** Prints its arguments and the credentials it got as JSON; `--exit N` exits N; `--hang` waits for SIGINT and exits 130 as the CLI does. */
const STAND_IN = `
const args = process.argv.slice(2);
process.stderr.write('waiting: CREATING\\n');
const answer = () => process.stdout.write(JSON.stringify({ args, token: process.env.FLEDGE_TOKEN, endpoint: process.env.FLEDGE_ENDPOINT }));
if (args.includes('--hang')) {
  process.on('SIGINT', () => { process.stderr.write('interrupted: the environment keeps going\\n'); process.exit(130); });
  setInterval(() => {}, 1000);
} else {
  answer();
  process.exit(Number(args[args.indexOf('--exit') + 1] ?? 0) || 0);
}`;

function standIn(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fledge-cli-')), 'fledge.mjs');
  writeFileSync(file, STAND_IN);
  return file;
}

describe('spawnFledge', () => {
  it('runs the CLI on this Node with the endpoint and token in its environment, and reads its JSON and exit code', async () => {
    const progress: string[] = [];
    const runner = spawnFledge({ cli: standIn(), env: { FLEDGE_ENDPOINT: 'https://api.example', FLEDGE_TOKEN: 'eyJ.token' }, progress: (chunk) => progress.push(chunk) });

    const result = await runner.run(['up', 'pr-7', '--image', 'web:1', '--json', '--exit', '1']);

    expect(result).toEqual({
      exitCode: 1,
      output: { args: ['up', 'pr-7', '--image', 'web:1', '--json', '--exit', '1'], token: 'eyJ.token', endpoint: 'https://api.example' },
      stderr: 'waiting: CREATING\n',
      timedOut: false,
    });
    expect(progress.join('')).toBe('waiting: CREATING\n');
  });

  it('interrupts the CLI like Ctrl-C when the wait passes its limit', async () => {
    const runner = spawnFledge({ cli: standIn(), env: {} });

    const result = await runner.run(['up', 'pr-7', '--hang'], { timeoutMs: 2000 });

    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain('the environment keeps going');
  });
});
