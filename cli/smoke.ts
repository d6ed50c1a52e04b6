/**
 * `npm run smoke -- --endpoint <api url>`: the smoke test an operator runs once after
 * `cdk deploy` (or against local mode). It states what it will cost, asks for confirmation
 * on a terminal (`--yes` skips; without a terminal and without `--yes` it refuses), then
 * takes one environment through create, serve, update, sleep, wake, heal and delete, and
 * proves nothing tagged with its name is left (cli/smoke/steps.ts).
 *
 * Exit codes: 0 passed, 1 a step failed (the environment was cleaned up unless --keep),
 * 2 nothing was run (usage error, refused or declined).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { FledgeApi, regionOfEndpoint, sigV4Signer } from './api-client.ts';
import { AwsOutOfBand, LocalOutOfBand, type OutOfBand } from './smoke/backends.ts';
import { estimateCost, formatUsd } from './smoke/cost.ts';
import { runSmoke, SMOKE_CPU, SMOKE_MEMORY, STEPS } from './smoke/steps.ts';

export const EXIT_PASSED = 0;
export const EXIT_FAILED = 1;
export const EXIT_NOT_RUN = 2;

export const DEFAULT_IMAGE = 'public.ecr.aws/nginx/nginx:stable';
/** the minutes the estimate assumes: a run on AWS takes 10-15 min, most of it Fargate starts and the heal's alarm */
export const ESTIMATED_MINUTES = 15;
const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** stdin and stdout are a terminal: the confirmation can be asked */
  interactive: boolean;
  ask(question: string): Promise<string>;
  env: Record<string, string | undefined>;
  /** aborted on Ctrl-C: the running step fails and cleanup runs */
  signal?: AbortSignal;
}

interface Options {
  endpoint: string;
  name?: string;
  image: string;
  port: number;
  timeout: number;
  cluster?: string;
  region?: string;
  hostedZoneId?: string;
  local?: boolean;
  yes?: boolean;
  keep?: boolean;
}

const positiveInt = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return n;
};

function program(io: CliIo): Command {
  return new Command('smoke')
    .description('Smoke-test a deployed Fledge: one environment through create, serve, update, sleep, wake, heal and delete, then prove nothing is left.')
    .requiredOption('--endpoint <url>', 'the Fledge API base URL (the stack output ApiUrl, or http://127.0.0.1:4000 for local mode)')
    .option('--name <name>', 'environment name (default: smoke-<random>)')
    .option('--image <image>', 'a public image that answers 200 on / at --port', DEFAULT_IMAGE)
    .option('--port <port>', 'the container port', positiveInt('--port'), 80)
    .option('--timeout <seconds>', 'how long each step may take', positiveInt('--timeout'), 900)
    .option('--cluster <name|arn>', 'AWS: the ECS cluster Fledge deploys into (for the out-of-band service deletion)')
    .option('--region <region>', 'AWS: the region (default: from the endpoint host, else AWS_REGION)')
    .option('--hosted-zone-id <id>', 'AWS: the Route 53 hosted zone of baseDomain (the stack\'s hostedZoneId), to prove the environment\'s alias record is gone too (installations with more than one load balancer)')
    .option('--local', 'the endpoint is local mode (detected when GET /_local/resources answers)')
    .option('-y, --yes', 'do not ask for confirmation (CI)')
    .option('--keep', 'on a failure, leave the environment in place for inspection')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) })
    .showHelpAfterError('(npm run smoke -- --help for all options)');
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  let options: Options;
  try {
    options = program(io).parse(argv, { from: 'user' }).opts<Options>();
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_PASSED : EXIT_NOT_RUN;
    throw error;
  }
  const usage = (message: string) => {
    io.err(`smoke: ${message}`);
    return EXIT_NOT_RUN;
  };

  let endpoint: URL;
  try {
    endpoint = new URL(options.endpoint);
    if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    return usage(`--endpoint ${options.endpoint} is not an http(s) URL`);
  }
  const name = options.name ?? `smoke-${randomBytes(3).toString('hex')}`;
  if (!NAME_PATTERN.test(name) || name.startsWith('internal-')) return usage(`--name ${name} is not an environment name (1-32 lowercase letters, digits and hyphens)`);

  // which backend: local mode answers /_local/resources (unsigned: local mode is open)
  const localApi = new FledgeApi(endpoint.href);
  const isLocal = options.local ? true : options.cluster ? false : await LocalOutOfBand.detect(localApi);
  let api: FledgeApi;
  let backend: OutOfBand;
  if (isLocal) {
    if (options.local && !(await LocalOutOfBand.detect(localApi))) return usage(`--local given, but ${endpoint.href}_local/resources does not answer (is local mode running there?)`);
    api = localApi;
    backend = new LocalOutOfBand(localApi);
  } else {
    const region = options.region ?? regionOfEndpoint(endpoint.href) ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
    if (!region) return usage('cannot tell the region from the endpoint: pass --region (or set AWS_REGION)');
    if (!options.cluster) {
      return usage(`${endpoint.href} is not local mode, so this is AWS: pass --cluster <name|arn> (the ECS cluster of the Fledge stack), which the heal step deletes a service in`);
    }
    api = new FledgeApi(endpoint.href, sigV4Signer(region));
    backend = new AwsOutOfBand(options.cluster, region, {}, options.hostedZoneId);
  }

  const cost = estimateCost(SMOKE_CPU, SMOKE_MEMORY, ESTIMATED_MINUTES);
  io.out('Fledge smoke test');
  io.out(`  endpoint     ${endpoint.href}`);
  io.out(`  target       ${backend.describe()}`);
  io.out(`  environment  ${name}: ${options.image} on port ${options.port}, ${SMOKE_CPU / 1024} vCPU / ${SMOKE_MEMORY / 1024} GB, 1 task`);
  io.out(`  steps        ${STEPS.join(', ')} (each at most ${options.timeout} s)`);
  if (backend.kind === 'aws') {
    io.out(`  cost         about ${formatUsd(cost.usd)}: ${cost.assumption}`);
    io.out(`               not counted: ${cost.excluded}`);
  } else {
    io.out('  cost         none: local mode creates nothing on AWS');
  }

  if (!options.yes) {
    if (!io.interactive) {
      io.err('smoke: refusing to run: it creates (billable) resources, and there is no terminal to confirm on; pass --yes to run it without asking (CI)');
      return EXIT_NOT_RUN;
    }
    const answer = (await io.ask('Create the environment and run the smoke test? [y/N] ')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.err('smoke: not confirmed; nothing was created');
      return EXIT_NOT_RUN;
    }
  }

  const result = await runSmoke(
    {
      name,
      image: options.image,
      port: options.port,
      stepTimeoutMs: options.timeout * 1000,
      pollMs: backend.kind === 'aws' ? 5_000 : 200,
      leftoversPollMs: backend.kind === 'aws' ? 15_000 : 200,
      keep: options.keep ?? false,
    },
    { api, backend, log: (line) => io.out(line), ...(io.signal ? { signal: io.signal } : {}) },
  );
  if (!result.ok) {
    io.err(`smoke FAILED at step ${result.failedStep}: ${result.message}${result.errorCode ? ` (error code ${result.errorCode})` : ''}`);
    return EXIT_FAILED;
  }
  return EXIT_PASSED;
}

function processIo(): CliIo {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nsmoke: interrupted; cleaning up (Ctrl-C again to stop at once)\n');
    controller.abort();
  });
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    ask: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
    env: process.env,
    signal: controller.signal,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // pooled connections of the AWS SDK must not hold the exit
  setTimeout(() => process.exit(code), 1000).unref();
}
