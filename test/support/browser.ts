/**
 * The browser the dashboard's tests drive: the machine's own Chromium (Debian's `chromium`
 * package), launched by playwright-core, which downloads no browser. scripts/ensure-ready.mjs
 * (the `pretest` hook) installs it where it is missing, or stops with the command that does;
 * this module fails with the same one line when a test runs without it (vitest run directly).
 *
 * Also what the tests and `npm run measure:dashboard` measure of a first load (bytes
 * transferred, first contentful paint) and where screenshots go.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

/** Where to look, in order (scripts/ensure-ready.mjs checks the same places). */
export function chromiumCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [env.FLEDGE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((path): path is string => Boolean(path));
}

export const CHROMIUM_MISSING =
  'the browser tests need Chromium: install it (Debian/Ubuntu: `sudo apt-get install -y chromium`; `npm test` does it when run as root) ' +
  'or point FLEDGE_CHROMIUM at a Chromium or Chrome executable.';

/** The Chromium executable to launch; throws CHROMIUM_MISSING (one line, no stack worth reading) when there is none. */
export function chromiumExecutable(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLEDGE_CHROMIUM && !existsSync(env.FLEDGE_CHROMIUM)) throw new Error(`FLEDGE_CHROMIUM=${env.FLEDGE_CHROMIUM} does not exist; ${CHROMIUM_MISSING}`);
  const found = chromiumCandidates(env).find((path) => existsSync(path));
  if (!found) throw new Error(CHROMIUM_MISSING);
  return found;
}

/**
 * Headless Chromium. Chromium's sandbox refuses to run as root, so it is off only then (CI
 * containers run as root); `--disable-dev-shm-usage` because containers' /dev/shm is often 64 MB,
 * too small for Chromium's shared memory.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumExecutable();
  // playwright adds --no-sandbox unless chromiumSandbox is true
  return chromium.launch({ executablePath, headless: true, chromiumSandbox: process.getuid?.() !== 0, args: ['--disable-dev-shm-usage'] });
}

export interface FirstLoad {
  /** bytes on the wire (headers and bodies, as Chromium's Network.loadingFinished counts them) */
  transferredBytes: number;
  /** bodies as delivered to the page (after decompression) */
  bodyBytes: number;
  requests: Array<{ url: string; status: number; bodyBytes: number }>;
  /** performance "first-contentful-paint", ms after navigation start; null when the page painted no content */
  firstContentfulPaintMs: number | null;
  /** ms from the start of navigation until `ready` was visible */
  readyMs: number;
}

/**
 * Loads `url` in a fresh page and measures it: every response's body (page.on('response')) and
 * the bytes on the wire (CDP Network events, which see what the response events do not: headers,
 * compression). Numbers to print, never to assert: they vary with the machine.
 */
export async function measureFirstLoad(page: Page, url: string, ready: string): Promise<FirstLoad> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  // no cache: a first visit
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let transferredBytes = 0;
  cdp.on('Network.loadingFinished', (event) => {
    transferredBytes += event.encodedDataLength;
  });
  const bodies: Array<Promise<{ url: string; status: number; bodyBytes: number }>> = [];
  page.on('response', (response) => {
    bodies.push(
      response.body().then(
        (body) => ({ url: response.url(), status: response.status(), bodyBytes: body.length }),
        () => ({ url: response.url(), status: response.status(), bodyBytes: 0 }), // a redirect has no body
      ),
    );
  });
  const started = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.locator(ready).first().waitFor({ state: 'visible' });
  const readyMs = Date.now() - started;
  // the page is idle once it has fetched what its first render needs
  await page.waitForLoadState('networkidle').catch(() => undefined);
  // a string, evaluated in the page: this project's types are Node's, not the DOM's
  const paints = await page.evaluate<Array<{ name: string; startTime: number }>>(
    "performance.getEntriesByType('paint').map((entry) => ({ name: entry.name, startTime: entry.startTime }))",
  );
  const requests = await Promise.all(bodies);
  await cdp.detach();
  const fcp = paints.find((entry) => entry.name === 'first-contentful-paint');
  return {
    transferredBytes,
    bodyBytes: requests.reduce((sum, request) => sum + request.bodyBytes, 0),
    requests,
    firstContentfulPaintMs: fcp ? Math.round(fcp.startTime) : null,
    readyMs,
  };
}

/** One line for a log or a closing note. */
export function describeFirstLoad(what: string, load: FirstLoad): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  return (
    `${what}: ${load.requests.length} requests, ${kb(load.transferredBytes)} transferred (${kb(load.bodyBytes)} of bodies); ` +
    `first contentful paint ${load.firstContentfulPaintMs ?? 'n/a'} ms, ready after ${load.readyMs} ms`
  );
}

/**
 * Whether a committed screenshot should be (re)written: when FLEDGE_UPDATE_SCREENSHOTS=1, or when
 * it is missing. An ordinary run leaves the committed images alone, so CI does not dirty the tree
 * (pixels differ between machines and Chromium versions, so they are not compared either).
 */
export function shouldWriteScreenshot(path: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return env.FLEDGE_UPDATE_SCREENSHOTS === '1' || !existsSync(path);
}

/** Saves a screenshot of `page` to `path` when shouldWriteScreenshot says so; returns whether it did. */
export async function screenshot(page: Page, path: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (!shouldWriteScreenshot(path, env)) return false;
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return true;
}

/**
 * Waits until `locator`'s text is `expected` (trimmed) or matches it, polling as the page itself
 * polls the API: playwright-core has no web-first `expect`. Fails naming the last text seen.
 */
export async function waitForText(locator: Locator, expected: string | RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  for (;;) {
    const text = await locator.textContent({ timeout: Math.max(50, Math.min(2_000, deadline - Date.now())) }).catch(() => null);
    if (text !== null && (typeof expected === 'string' ? text.trim() === expected : expected.test(text))) return text;
    if (text !== null) last = text;
    if (Date.now() >= deadline) throw new Error(`${String(locator)} did not show ${String(expected)} within ${timeoutMs} ms; last text: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
