/**
 * Starts `npm start -- --in-memory --port <free>` as a child process for the end-to-end
 * tests, waits for GET /v1/health, and stops it (its whole process group) at the end.
 * Tests talk to it only over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LocalServer {
  url: string;
  port: number;
  /** recent stdout+stderr of the server, for failure messages */
  output(): string;
  stop(): Promise<void>;
  /** ms from spawn to the first healthy /v1/health */
  startupMs: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface LocalServerOptions {
  /** `--auth oidc`: /v1 needs tokens from POST /_local/token */
  auth?: 'oidc';
}

export async function startLocalServer(env: Record<string, string> = {}, timeoutMs = 90_000, options: LocalServerOptions = {}): Promise<LocalServer> {
  const port = await freePort();
  const started = Date.now();
  const args = ['start', '--', '--in-memory', '--port', String(port), ...(options.auth ? ['--auth', options.auth] : [])];
  const child: ChildProcess = spawn('npm', args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PATH: `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
      FLEDGE_SIM_TASK_START_MS: '200',
      FLEDGE_SIM_HEALTH_CHECK_INTERVAL_MS: '100',
      FLEDGE_SIM_ALARM_PERIOD_MS: '500',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      FLEDGE_LOG_LEVEL: 'INFO',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exitCode !== undefined) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 10_000);
    await exited;
    clearTimeout(timer);
  };
  for (;;) {
    if (exitCode !== undefined) throw new Error(`local mode exited with code ${exitCode} before it was healthy:\n${output}`);
    try {
      const response = await fetch(`${url}/v1/health`);
      // with --auth the API answers 401 without a token: it is up
      if (response.ok || (options.auth && response.status === 401)) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - started > timeoutMs) {
      await stop();
      throw new Error(`local mode was not healthy within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port, output: () => output, stop, startupMs: Date.now() - started };
}
