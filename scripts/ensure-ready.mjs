#!/usr/bin/env node
/**
 * The front door's first step (`prestart`, `pretest`): makes a fresh clone ready for `npm start`
 * and `npm test` with nothing run before them. Plain JavaScript without dependencies, because it
 * runs before node_modules exists, on whatever Node runs npm (the toolchain's Node 22 comes
 * with the dependencies).
 *
 * 1. Dependencies: `npm ci` when node_modules is missing or does not hold what
 *    package-lock.json pins (npm's own record of the install, node_modules/.package-lock.json,
 *    is compared with the lockfile).
 * 2. Java 17+ for DynamoDB Local: installed with apt-get when running as root where apt-get
 *    exists; anywhere else it stops with the one command that installs it.
 * 3. Chromium, for the dashboard's browser tests, before `npm test` only (`npm start` and the
 *    benchmark do not need it): the same way, Debian's `chromium` package. It looks where
 *    test/support/browser.ts does: FLEDGE_CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser.
 *    The browser tests are part of `npm test` (CI must run them), so a missing browser stops the
 *    run here with one line, rather than as a launch error deep in a test.
 *
 * When everything is there it only reads two JSON files, runs `java -version` and checks a path.
 * npm builds each script's PATH (node_modules/.bin first) when it starts that script, so the
 * main script (`vitest`, `tsx`) finds the Node 22 this step may just have installed.
 */
/* global process, console -- Node's, for a plain script ESLint sees as browser-neutral JavaScript */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODULES = join(ROOT, 'node_modules');
const JAVA_MAJOR = 17;

function fail(message) {
  console.error(`\nfledge: ${message}\n`);
  process.exit(1);
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Why node_modules must be installed again, or undefined when it holds what the lockfile pins. */
function staleDependencies() {
  if (!existsSync(MODULES)) return 'node_modules is missing';
  const lock = readJson(join(ROOT, 'package-lock.json'));
  if (!lock?.packages) fail('package-lock.json is missing or unreadable: it pins every dependency `npm ci` installs.');
  const installed = readJson(join(MODULES, '.package-lock.json'))?.packages;
  if (!installed) return 'node_modules was not installed by npm from package-lock.json';
  for (const [path, pinned] of Object.entries(lock.packages)) {
    if (path === '') continue; // the project itself
    const have = installed[path];
    // optional packages for other platforms (esbuild's, rollup's) are rightly absent
    if (!have) {
      if (pinned.optional || pinned.devOptional) continue;
      return `${path} is not installed`;
    }
    if (have.version !== pinned.version || have.integrity !== pinned.integrity) return `${path} is not the version package-lock.json pins`;
  }
  for (const path of Object.keys(installed)) {
    if (!(path in lock.packages)) return `${path} is installed but no longer in package-lock.json`;
  }
  // the `node` package's install script puts the toolchain's Node 22 here
  if (!existsSync(join(MODULES, '.bin', 'node'))) return "the toolchain's Node (node_modules/.bin/node) is missing";
  return undefined;
}

function npm(args) {
  // the npm that runs this hook when there is one (npm_execpath), else the one on PATH
  const execpath = process.env.npm_execpath;
  const [command, argv] = execpath && /\.[cm]?js$/.test(execpath) ? [process.execPath, [execpath, ...args]] : ['npm', args];
  return spawnSync(command, argv, { cwd: ROOT, stdio: 'inherit' });
}

function ensureDependencies() {
  const reason = staleDependencies();
  if (!reason) return;
  if (lstatSync(MODULES, { throwIfNoEntry: false })?.isSymbolicLink()) {
    // `npm ci` empties node_modules first: never through a link into another checkout
    fail(`${reason}, and node_modules is a link to ${realpathSync(MODULES)}: run \`npm ci\` there, not here.`);
  }
  console.error(`fledge: installing dependencies (${reason}): npm ci`);
  const result = npm(['ci', '--no-audit', '--no-fund']);
  if (result.status !== 0) fail('`npm ci` failed (above). Fix that, then run the command again.');
}

/** The major version of the `java` on PATH, null when there is none. */
function javaMajor() {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error) return null;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr ?? ''}${result.stdout ?? ''}`);
  if (!match) return 0;
  return match[1] === '1' ? Number(match[2]) : Number(match[1]); // "1.8.0" is Java 8
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** The one command that installs `packages` (a name per package manager) on this machine. */
function installCommand(packages) {
  if (process.platform === 'darwin') return `brew install ${packages.brew}`;
  if (has('apt-get')) return `sudo apt-get install -y ${packages.apt}`;
  if (has('dnf')) return `sudo dnf install -y ${packages.dnf}`;
  if (has('apk')) return `sudo apk add ${packages.apk}`;
  return undefined;
}

/** Whether this process may install with apt-get itself: as root, where apt-get exists. */
const canApt = () => process.getuid?.() === 0 && has('apt-get');

/** `apt-get install` of one package, non-interactive; true when apt-get succeeded. */
function aptInstall(name) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return spawnSync('sh', ['-c', `apt-get update -qq && apt-get install -y -qq ${name}`], { stdio: ['ignore', 'inherit', 'inherit'], env }).status === 0;
}

function ensureJava() {
  const major = javaMajor();
  if (major !== null && major >= JAVA_MAJOR) return;
  const found = major === null ? 'no `java` on PATH' : `found Java ${major || '(unknown version)'}`;
  if (canApt()) {
    console.error(`fledge: DynamoDB Local needs Java ${JAVA_MAJOR}+ (${found}): installing default-jre-headless with apt-get`);
    const installed = aptInstall('default-jre-headless');
    const now = javaMajor();
    if (installed && now !== null && now >= JAVA_MAJOR) return;
    fail(`installing Java with apt-get did not give Java ${JAVA_MAJOR}+ (${now === null ? 'still no `java`' : `Java ${now}`}); install a Java ${JAVA_MAJOR}+ runtime and put it first on PATH.`);
  }
  const command = installCommand({ brew: 'openjdk@17', apt: 'default-jre-headless', dnf: 'java-17-openjdk-headless', apk: 'openjdk17-jdk' });
  fail(
    `DynamoDB Local needs Java ${JAVA_MAJOR} or newer (${found}). ` +
      (command ? `Install it with:\n\n    ${command}\n\nthen run the command again.` : `Install a Java ${JAVA_MAJOR}+ runtime (for example from https://adoptium.net), put it on PATH, then run the command again.`),
  );
}

/** The first Chromium found where test/support/browser.ts looks, undefined when none. */
function chromiumPath() {
  return [process.env.FLEDGE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => path && existsSync(path));
}

function ensureChromium() {
  if (process.env.FLEDGE_CHROMIUM && !existsSync(process.env.FLEDGE_CHROMIUM)) fail(`FLEDGE_CHROMIUM=${process.env.FLEDGE_CHROMIUM} does not exist: point it at a Chromium or Chrome executable, or unset it.`);
  if (chromiumPath()) return;
  if (canApt()) {
    console.error('fledge: the browser tests need Chromium: installing chromium with apt-get');
    if (aptInstall('chromium') && chromiumPath()) return;
    fail('installing chromium with apt-get did not give /usr/bin/chromium; install Chromium and set FLEDGE_CHROMIUM to its executable.');
  }
  const command = installCommand({ brew: '--cask chromium', apt: 'chromium', dnf: 'chromium', apk: 'chromium' });
  fail(
    'the browser tests (test/e2e/dashboard.test.ts) need Chromium, and none was found (FLEDGE_CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser). ' +
      (command ? `Install it with:\n\n    ${command}\n\n(or set FLEDGE_CHROMIUM to a Chromium or Chrome executable) then run the command again.` : 'Install Chromium, set FLEDGE_CHROMIUM to its executable, then run the command again.'),
  );
}

ensureDependencies();
ensureJava();
// npm names the script this hook runs for: `pretest` (npm test), not `prestart` nor `pretest:bench`
if (process.env.npm_lifecycle_event === 'pretest') ensureChromium();
