/**
 * How the Action runs the `fledge` CLI: as a child process of the same Node
 * (`process.execPath <cli bundle> ...args --json`), so the job needs no install step. The
 * CLI's contract (brief of issue 13, README "The fledge CLI"): one JSON value on stdout with
 * `--json`; exit 0 success, 1 the environment ended FAILED or DEGRADED, 2 usage error or the
 * API unreachable or refusing, 130 interrupted. The interface lets the GitHub logic be tested
 * with a fake (test/unit/action/preview-action.test.ts).
 */
import { spawn } from 'node:child_process';

/** The CLI's bundle, written by `npm run build:action` next to the Action's own (action/dist/). */
export const CLI_BUNDLE = 'fledge.mjs';

export interface FledgeResult {
  exitCode: number;
  /** the JSON value the CLI printed on stdout, undefined when it printed none or not JSON */
  output: unknown;
  /** the end of what the CLI wrote on stderr (its progress lines and error messages) */
  stderr: string;
  /** the run passed its time limit and was interrupted (the environment keeps going) */
  timedOut: boolean;
}

export interface FledgeRunner {
  run(args: string[], options?: { timeoutMs?: number }): Promise<FledgeResult>;
}

export interface SpawnOptions {
  /** the CLI's entry (a bundled .mjs) */
  cli: string;
  /** variables added to the job's environment for the CLI: FLEDGE_ENDPOINT, FLEDGE_TOKEN */
  env: Record<string, string>;
  /** where the CLI's stderr is copied live, so the job log shows its progress */
  progress?: (chunk: string) => void;
  /** how long an interrupted CLI gets to say where the environment is before it is killed */
  killAfterMs?: number;
}

/** stderr kept for messages: the last lines matter, not a long wait's progress */
const STDERR_KEPT = 16_384;

export function spawnFledge(options: SpawnOptions): FledgeRunner {
  return {
    run: (args, { timeoutMs } = {}) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [options.cli, ...args], {
          env: { ...process.env, ...options.env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        let timedOut = false;
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr = (stderr + chunk).slice(-STDERR_KEPT);
          options.progress?.(chunk);
        });
        // Ctrl-C's signal: the CLI stops waiting, says the environment keeps going and exits 130
        const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
          timedOut = true;
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 10_000).unref();
        }, timeoutMs);
        child.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ exitCode: code ?? (signal === 'SIGINT' ? 130 : 1), output: parseJson(stdout), stderr, timedOut });
        });
      }),
  };
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
