/**
 * The browser harness (test/support/browser.ts) on a page of its own: the machine's Chromium
 * launches, loads a small static page with a script and a stylesheet, renders what the script
 * writes, takes a screenshot and measures the load. The dashboard's own browser test
 * (test/e2e/dashboard.test.ts) relies on each of these.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING, chromiumExecutable, describeFirstLoad, launchChromium, measureFirstLoad, screenshot, shouldWriteScreenshot, waitForText } from '../../support/browser.ts';

const FILES: Record<string, { type: string; body: string }> = {
  '/': {
    type: 'text/html; charset=utf-8',
    body: '<!doctype html><html><head><link rel="stylesheet" href="/assets/app.css"></head><body><main id="root"></main><script src="/assets/app.js"></script></body></html>',
  },
  '/assets/app.css': { type: 'text/css', body: 'main { font: 16px sans-serif; padding: 1rem; }' },
  // renders after a fetch, as the dashboard renders its list after GET /v1/environments
  '/assets/app.js': {
    type: 'text/javascript',
    body: "fetch('/data.json').then((r) => r.json()).then((d) => { const ul = document.createElement('ul'); ul.dataset.testid = 'env-list'; for (const name of d.names) { const li = document.createElement('li'); li.dataset.testid = 'env-row-' + name; li.textContent = name; ul.append(li); } document.getElementById('root').append(ul); });",
  },
  '/data.json': { type: 'application/json', body: JSON.stringify({ names: ['pr-1', 'pr-2'] }) },
};

describe('browser harness (Chromium through playwright-core)', () => {
  let server: Server;
  let url: string;
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'fledge-browser-'));

  beforeAll(async () => {
    server = createServer((request, response) => {
      const file = FILES[request.url ?? ''];
      if (!file) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': file.type, 'content-length': Buffer.byteLength(file.body) }).end(file.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('launches, loads a page, waits for what its script renders, and measures the load', async () => {
    const page = await browser.newPage();
    const load = await measureFirstLoad(page, url, '[data-testid="env-list"]');
    expect(await page.getByTestId('env-row-pr-2').textContent()).toBe('pr-2');
    expect(load.requests.map((request) => new URL(request.url).pathname).sort()).toEqual(['/', '/assets/app.css', '/assets/app.js', '/data.json']);
    const bodies = Object.values(FILES).reduce((sum, file) => sum + Buffer.byteLength(file.body), 0);
    expect(load.bodyBytes).toBe(bodies);
    // on the wire: the bodies plus every response's headers
    expect(load.transferredBytes).toBeGreaterThan(bodies);
    expect(load.firstContentfulPaintMs).toEqual(expect.any(Number));
    expect(load.readyMs).toBeGreaterThanOrEqual(0);
    expect(describeFirstLoad('static page', load)).toMatch(/^static page: 4 requests, [\d.]+ KiB transferred \([\d.]+ KiB of bodies\); first contentful paint \d+ ms, ready after \d+ ms$/);
    await page.close();
  });

  it('waits for a text to show, and fails naming the last text seen when it never does', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    expect(await waitForText(page.getByTestId('env-row-pr-1'), 'pr-1', 10_000)).toBe('pr-1');
    expect(await waitForText(page.getByTestId('env-list'), /pr-1\s*pr-2/, 10_000)).toBe('pr-1pr-2');
    await expect(waitForText(page.getByTestId('env-row-pr-1'), 'RUNNING', 300)).rejects.toThrow(/did not show RUNNING within 300 ms; last text: "pr-1"/);
    await page.close();
  });

  it('writes a screenshot when it is missing or asked for, and leaves an existing one alone', async () => {
    const page = await browser.newPage({ viewport: { width: 640, height: 400 } });
    await page.goto(url);
    await page.getByTestId('env-list').waitFor();
    const path = join(dir, 'shots', 'list.png');
    expect(await screenshot(page, path, {})).toBe(true);
    const png = readFileSync(path);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const written = statSync(path).mtimeMs;
    expect(await screenshot(page, path, {})).toBe(false);
    expect(statSync(path).mtimeMs).toBe(written);
    expect(shouldWriteScreenshot(path, { FLEDGE_UPDATE_SCREENSHOTS: '1' })).toBe(true);
    await page.close();
  });

  it('finds Chromium through FLEDGE_CHROMIUM first, and says in one line how to get it when it is missing', () => {
    const real = chromiumExecutable();
    expect(existsSync(real)).toBe(true);
    expect(chromiumExecutable({ FLEDGE_CHROMIUM: real })).toBe(real);
    expect(() => chromiumExecutable({ FLEDGE_CHROMIUM: join(dir, 'no-such-chromium') })).toThrow(`FLEDGE_CHROMIUM=${join(dir, 'no-such-chromium')} does not exist; ${CHROMIUM_MISSING}`);
    expect(CHROMIUM_MISSING).not.toContain('\n');
    expect(CHROMIUM_MISSING).toContain('apt-get install -y chromium');
  });
});
