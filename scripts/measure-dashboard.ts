/**
 * `npm run measure:dashboard [-- --url http://127.0.0.1:4000] [--runs 3]`: how heavy and how quick
 * the dashboard's first load is, in headless Chromium (test/support/browser.ts): bytes
 * transferred (every response, headers included, nothing cached) and time to first render
 * (first contentful paint; and until the list shows its first row). Without --url it starts
 * local mode in memory with a few environments, and stops it after. Prints; asserts nothing.
 */
import { parseArgs } from 'node:util';
import { describeFirstLoad, launchChromium, measureFirstLoad } from '../test/support/browser.ts';
import { startLocalServer, type LocalServer } from '../test/e2e/local-server.ts';

const { values } = parseArgs({ options: { url: { type: 'string' }, runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number of at least 1');

const NAMES = ['pr-1', 'pr-2', 'pr-3', 'pr-4', 'pr-5'];

let server: LocalServer | undefined;
let url = values.url?.replace(/\/$/, '');
if (!url) {
  server = await startLocalServer();
  url = server.url;
  for (const name of NAMES) {
    const response = await fetch(`${url}/v1/environments/${name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: 'nginx:1.27', port: 80, labels: { repository: 'acme/web' } }),
    });
    if (!response.ok) throw new Error(`PUT ${name}: ${response.status} ${await response.text()}`);
  }
}

const browser = await launchChromium();
try {
  const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)] ?? 0;
  for (const [what, hash, ready] of [
    ['list', '#/', server ? '[data-testid="env-row-pr-1"]' : '[data-testid="env-list"], [data-testid="empty-list"]'],
    ['environment page', `#/env/${NAMES[0]}`, '[data-testid="env-page"]'],
  ] as const) {
    if (!server && what !== 'list') continue; // an existing server's environments are unknown
    const loads = [];
    for (let run = 0; run < runs; run++) {
      // a fresh context each time: nothing cached, a first visit
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      loads.push(await measureFirstLoad(await context.newPage(), `${url}/${hash}`, ready));
      await context.close();
    }
    for (const load of loads) console.log(describeFirstLoad(`${what} (${url}/${hash})`, load));
    const last = loads.at(-1)!;
    for (const request of last.requests) console.log(`  ${request.status} ${new URL(request.url).pathname}${new URL(request.url).search} ${request.bodyBytes} B`);
    console.log(
      `${what}: median of ${runs}: ${(median(loads.map((l) => l.transferredBytes)) / 1024).toFixed(1)} KiB transferred, ` +
        `first contentful paint ${median(loads.map((l) => l.firstContentfulPaintMs ?? 0))} ms, ready after ${median(loads.map((l) => l.readyMs))} ms`,
    );
  }
} finally {
  await browser.close();
  await server?.stop();
}
