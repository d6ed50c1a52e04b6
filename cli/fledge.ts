/**
 * `fledge`: the command line of the Fledge API for CI pipelines and people (README "CLI").
 * Argument parsing by commander, requests through the API client the smoke test shares
 * (cli/api-client.ts: SigV4 from the AWS credential chain, or FLEDGE_TOKEN as a bearer token),
 * terminal output by picocolors and log-update. The commands are in cli/fledge/commands.ts.
 *
 * Exit codes: 0 success (RUNNING, SLEEPING, deleted), 1 the environment ended FAILED or
 * DEGRADED (or --wait timed out), 2 usage error or the API could not be reached or refused the
 * request, 130 Ctrl-C during --wait (the environment keeps going).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import pc from 'picocolors';
import { duration, integerIn, keyValue, listOf, since } from './fledge/arguments.ts';
import * as commands from './fledge/commands.ts';
import type { Context, FledgeIo } from './fledge/commands.ts';
import { CliError, connect, EXIT_OK, EXIT_USAGE } from './fledge/connection.ts';
import { serveDashboard } from './fledge/dashboard.ts';

/** the package's version (cli/ and dist/ are both one level below package.json) */
export function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const STATUSES = ['CREATING', 'RUNNING', 'UPDATING', 'SCALING', 'SLEEPING', 'HEALING', 'DEGRADED', 'FAILED', 'DELETING', 'DELETED'];

interface GlobalFlags {
  endpoint?: string;
  region?: string;
  json?: boolean;
  color?: boolean;
}

const waitOptions = (command: Command, what: string) =>
  command
    .option('--wait', `wait until ${what}, showing progress`)
    .option('--timeout <duration>', 'how long --wait waits', duration('--timeout'), 30 * 60_000);

export function program(io: FledgeIo, run: (action: (ctx: Context) => Promise<number>) => Promise<void>): Command {
  const root = new Command('fledge')
    .description('Preview environments on AWS: create, watch, inspect and remove them through the Fledge API.')
    .version(version())
    .option('--endpoint <url>', 'the Fledge API (default: $FLEDGE_ENDPOINT)')
    .option('--region <region>', 'AWS region to sign requests for (default: from the endpoint, else $AWS_REGION)')
    .option('--json', 'print one JSON value on stdout')
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) })
    .showHelpAfterError('(fledge --help for usage)')
    .addHelpText('after', '\nAuth: FLEDGE_TOKEN as a bearer token (GitHub OIDC), else SigV4 from the AWS credential chain; none for http://127.0.0.1 (local mode).\nExit codes: 0 ok, 1 FAILED or DEGRADED, 2 usage or API error, 130 interrupted.');

  const count = integerIn('the task count', 0, 10);

  waitOptions(
    root
      .command('up <name>')
      .description('create or update an environment (PUT: the same spec again changes nothing; on FAILED or DEGRADED it retries)')
      .requiredOption('--image <image>', 'the container image (registry/repository:tag)')
      .option('--port <port>', 'the container port (default 8080)', integerIn('--port', 1, 65535))
      .option('--env <KEY=VALUE>', 'an environment variable (repeatable)', keyValue('--env'))
      .option('--secret <KEY=ARN>', 'a secret from Secrets Manager or SSM (repeatable)', keyValue('--secret'))
      .option('--label <KEY=VALUE>', 'a label, e.g. repository=acme/web (repeatable)', keyValue('--label'))
      .option('--ttl <duration>', 'expire this long after the last update (e.g. 72h, 7d)')
      .option('--cpu <units>', 'Fargate CPU units (256, 512, 1024, ...)', integerIn('--cpu', 1, 16384))
      .option('--memory <MiB>', 'Fargate memory in MiB', integerIn('--memory', 1, 122880))
      .option('--count <n>', 'the number of tasks (0-10)', count),
    'it is RUNNING (or FAILED)',
  ).action((name: string, flags: commands.UpFlags) => run((ctx) => commands.up(ctx, name, flags)));

  root.command('status <name>').description('show an environment (exit 1 when FAILED or DEGRADED, with its last log lines)')
    .action((name: string) => run((ctx) => commands.status(ctx, name)));

  root.command('ls').description('list environments')
    .option('--repository <owner/name>', 'only this repository\'s (adds its total cost)')
    .option('--branch <branch>', 'only this branch\'s')
    .addOption(new Option('--status <status>', 'only this status (DELETED lists deleted ones)').choices(STATUSES))
    .action((flags: { repository?: string; branch?: string; status?: string }) => run((ctx) => commands.list(ctx, flags)));

  root.command('events <name>').description('an environment\'s history, newest first')
    .option('--limit <n>', 'how many (1-100)', integerIn('--limit', 1, 100), 20)
    .action((name: string, flags: { limit: number }) => run((ctx) => commands.events(ctx, name, flags.limit)));

  root.command('logs <name>').description('an environment\'s container log lines, oldest first')
    .option('--since <when>', 'from this long ago (10m, 2h) or this ISO time', since())
    .option('--limit <n>', 'at most this many lines (1-10000)', integerIn('--limit', 1, 10_000), 100)
    .option('-f, --follow', 'keep printing new lines until Ctrl-C (with --json: one JSON object per line)')
    .action((name: string, flags: { since?: string; limit: number; follow?: boolean }) => run((ctx) => commands.logs(ctx, name, flags)));

  waitOptions(root.command('scale <name>').argument('<count>', 'the number of tasks (0-10; 0 sleeps)', count).description('set the number of tasks'), 'the scale has ended')
    .action((name: string, n: number, flags: commands.WaitFlags) => run((ctx) => commands.scale(ctx, name, n, flags)));

  waitOptions(root.command('heal <name>').description('reconcile the environment now (from RUNNING or DEGRADED)'), 'the heal has ended')
    .action((name: string, flags: commands.WaitFlags) => run((ctx) => commands.heal(ctx, name, flags)));

  waitOptions(root.command('sleep <name>').description('scale to 0 tasks (no Fargate cost; its URL wakes it)'), 'it is SLEEPING')
    .action((name: string, flags: commands.WaitFlags) => run((ctx) => commands.scale(ctx, name, 0, flags)));

  waitOptions(
    root.command('wake <name>').description('scale a sleeping environment back up (to the count it slept from)')
      .option('--count <n>', 'wake to this many tasks instead', integerIn('the task count', 1, 10)),
    'it is RUNNING',
  ).action((name: string, flags: commands.WaitFlags & { count?: number }) => run((ctx) => commands.wake(ctx, name, flags)));

  waitOptions(root.command('down <name>').description('delete an environment and everything it created'), 'it is deleted')
    .action((name: string, flags: commands.WaitFlags) => run((ctx) => commands.down(ctx, name, flags)));

  root.command('open <name>').description('print the URL and open it in a browser when there is a display (never fails for want of one)')
    .action((name: string) => run((ctx) => commands.open(ctx, name)));

  root.command('prune').description('delete a repository\'s environments except those kept (for a scheduled workflow passing the open pull requests)')
    .requiredOption('--repository <owner/name>', 'the repository whose environments to prune')
    .requiredOption('--keep <names or PR numbers>', 'environments to keep: names, or pull request numbers N (keeps pr-N and label pullRequest=N); separated by commas or spaces, or repeated; "" keeps none', listOf)
    .option('--dry-run', 'say what would be deleted, delete nothing')
    .action((flags: { repository: string; keep: string[]; dryRun?: boolean }) => run((ctx) => commands.prune(ctx, flags)));

  root.command('dashboard').description('serve the dashboard on 127.0.0.1 (its API calls signed with your credentials or FLEDGE_TOKEN) until Ctrl-C')
    .option('--port <n>', 'the local port', integerIn('the port', 1, 65535), 4400)
    .action((flags: { port: number }) =>
      run((ctx) => serveDashboard(ctx.io, { endpoint: ctx.api.endpoint, signer: ctx.api.client.signer, userAgent: `fledge-cli/${version()}` }, flags)));

  return root;
}

export async function main(argv: string[], io: FledgeIo): Promise<number> {
  let code = EXIT_OK;
  const run = async (action: (ctx: Context) => Promise<number>) => {
    const flags = root.opts<GlobalFlags>();
    const colors = pc.createColors(flags.color !== false && !flags.json && pc.isColorSupported);
    try {
      const api = connect(flags, io.env, version());
      code = await action({ api, io, json: Boolean(flags.json), c: colors });
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      io.err(`fledge: ${error.message}`);
      // --json: stdout still holds one JSON value, so a pipeline can read why it failed
      if (flags.json) io.out(JSON.stringify({ error: { message: error.message, exitCode: error.exitCode } }));
      code = error.exitCode;
    }
  };
  const root = program(io, run);
  try {
    await root.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    // never a stack trace: one line, exit 2
    io.err(`fledge: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_USAGE;
  }
  return code;
}

export function processIo(): FledgeIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    stderr: process.stderr,
    env: process.env,
    platform: process.platform,
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      return () => process.off('SIGINT', handler);
    },
    exit: (code) => process.exit(code),
  };
}

/** The bin's entry (bin/fledge.mjs): runs, then exits (pooled connections must not hold the process). */
export async function run(argv = process.argv.slice(2)): Promise<void> {
  const code = await main(argv, processIo());
  process.exitCode = code;
  setTimeout(() => process.exit(code), 500).unref();
}
