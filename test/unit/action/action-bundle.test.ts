/**
 * The committed Action: action.yml points at a bundle that is what `npm run build:action`
 * writes from the sources, and that bundle runs on its own (copied out of the repository,
 * no node_modules) as GitHub runs it: inputs as INPUT_* variables, the event in
 * GITHUB_EVENT_PATH, outputs to GITHUB_OUTPUT, the OIDC token from the job's token service.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleEntries, DIST, renderBundles, ROOT } from '../../../action/build.ts';
import { MARKER } from '../../../action/src/comment.ts';
import { CLI_BUNDLE } from '../../../action/src/fledge-runner.ts';
import { startFakeGitHub, type FakeGitHub } from '../../support/fake-github.ts';

const actionYml = readFileSync(join(ROOT, 'action.yml'), 'utf8');

/** The input names action.yml declares (two-space keys under `inputs:`). */
function declaredInputs(): string[] {
  const section = /^inputs:\n((?: {2}.*\n)+)/m.exec(actionYml)?.[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z-]+):$/gm)].map((match) => match[1]!);
}

/** The input names the sources read. */
function readInputNames(): string[] {
  const sources = ['main.ts', 'inputs.ts'].map((file) => readFileSync(join(ROOT, 'action', 'src', file), 'utf8')).join('\n');
  return [...new Set([...sources.matchAll(/get(?:Input|MultilineInput)?\('([a-z-]+)'/g)].map((match) => match[1]!))];
}

describe('action.yml and its bundle', () => {
  it('runs the committed bundle on node24', () => {
    expect(actionYml).toMatch(/^runs:\n {2}using: node24\n {2}main: action\/dist\/index\.mjs\n/m);
  });

  it('declares exactly the inputs the code reads', () => {
    expect(declaredInputs().sort()).toEqual(readInputNames().sort());
  });

  it('the committed bundles are what npm run build:action writes (run it and commit when this fails)', async () => {
    const rendered = await renderBundles();
    expect(Object.keys(rendered).sort()).toEqual(Object.keys(bundleEntries()).sort());
    for (const [file, text] of Object.entries(rendered)) {
      expect(readFileSync(join(DIST, file), 'utf8') === text, `action/dist/${file} is out of date: npm run build:action`).toBe(true);
    }
  });
});

describe('the bundle, run as GitHub runs it', () => {
  let github: FakeGitHub;
  let tokenService: ReturnType<typeof createServer>;
  let tokenUrl: string;
  let audiences: string[];

  beforeEach(async () => {
    audiences = [];
    github = await startFakeGitHub();
    // the job's token service (ACTIONS_ID_TOKEN_REQUEST_URL): GET ...&audience=X with the request token -> {value}
    tokenService = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.headers.authorization !== 'Bearer request-token') return void res.writeHead(401).end();
      audiences.push(url.searchParams.get('audience') ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: 'eyJ.oidc-token' }));
    });
    await new Promise<void>((resolve) => tokenService.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(tokenService.address() as AddressInfo).port}/token?api-version=2.0`;
  });
  afterEach(async () => {
    await github.close();
    await new Promise((resolve) => tokenService.close(resolve));
  });

  /** The bundle copied alone into a fresh directory, with a stand-in CLI beside it that records what it got. */
  function runBundle(event: object, inputs: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'fledge-action-'));
    copyFileSync(join(DIST, 'index.mjs'), join(dir, 'index.mjs'));
    writeFileSync(join(dir, CLI_BUNDLE), `
      import { writeFileSync } from 'node:fs';
      writeFileSync(${JSON.stringify(join(dir, 'cli-call.json'))}, JSON.stringify({ args: process.argv.slice(2), token: process.env.FLEDGE_TOKEN, endpoint: process.env.FLEDGE_ENDPOINT }));
      process.stdout.write(JSON.stringify({ name: 'pr-7', status: 'RUNNING', url: 'https://pr-7.preview.acme.dev', cost: { perHour: 0.0123, toDate: 0, currency: 'USD' } }));`);
    writeFileSync(join(dir, 'event.json'), JSON.stringify(event));
    writeFileSync(join(dir, 'output'), '');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: join(dir, 'event.json'),
      GITHUB_OUTPUT: join(dir, 'output'),
      GITHUB_API_URL: github.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/web',
      GITHUB_RUN_ID: '99',
      ACTIONS_ID_TOKEN_REQUEST_URL: tokenUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
      'INPUT_GITHUB-TOKEN': github.token,
      'INPUT_WAIT-TIMEOUT-MINUTES': '20',
      'INPUT_FORK-LABEL': 'preview',
      INPUT_AUTH: 'oidc',
      INPUT_AUDIENCE: 'fledge',
      ...Object.fromEntries(Object.entries(inputs).map(([key, value]) => [`INPUT_${key.toUpperCase()}`, value])),
    };
    return new Promise<{ code: number; stdout: string; dir: string }>((resolve) => {
      execFile(process.execPath, [join(dir, 'index.mjs')], { cwd: dir, env }, (error, stdout) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, dir });
      });
    });
  }

  const event = (headRepo: string) => ({
    action: 'opened',
    number: 7,
    pull_request: {
      number: 7,
      labels: [],
      head: { ref: 'feature/login', sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', repo: { full_name: headRepo } },
      base: { ref: 'main', repo: { full_name: 'acme/web' } },
    },
    repository: { full_name: 'acme/web' },
  });

  it('deploys with the job\'s OIDC token for the audience, comments and sets its outputs', async () => {
    const run = await runBundle(event('acme/web'), { endpoint: 'https://ci.fledge.example', image: 'ghcr.io/acme/web:pr-7' });

    expect(run.code, run.stdout).toBe(0);
    expect(audiences).toEqual(['fledge']);
    const call = JSON.parse(readFileSync(join(run.dir, 'cli-call.json'), 'utf8')) as { args: string[]; token: string; endpoint: string };
    expect(call).toMatchObject({ token: 'eyJ.oidc-token', endpoint: 'https://ci.fledge.example' });
    expect(call.args.slice(0, 4)).toEqual(['up', 'pr-7', '--image', 'ghcr.io/acme/web:pr-7']);
    expect(github.markedComments(7, MARKER)).toHaveLength(1);
    expect(github.deployments[0]!.statuses.at(-1)).toMatchObject({ state: 'success', log_url: 'https://github.com/acme/web/actions/runs/99' });
    const outputs = readFileSync(join(run.dir, 'output'), 'utf8');
    expect(outputs).toContain('https://pr-7.preview.acme.dev');
    // the token is masked in the job log
    expect(run.stdout).toContain('::add-mask::eyJ.oidc-token');
  });

  it('a fork without the label: the comment saying why, exit 0, no token asked for', async () => {
    const run = await runBundle(event('mallory/web'), { endpoint: 'https://ci.fledge.example', image: 'ghcr.io/acme/web:pr-7' });

    expect(run.code, run.stdout).toBe(0);
    expect(audiences).toEqual([]);
    expect(github.markedComments(7, MARKER)[0]!.body).toContain('adds the label `preview`');
  });
});
