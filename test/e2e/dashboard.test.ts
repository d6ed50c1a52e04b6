/**
 * The dashboard in a real browser (issue 16): local mode serves it at `/`, headless Chromium
 * (test/support/browser.ts) drives it as a person would, through the stable `data-testid`s of
 * its contract, while the API (as CI would call it) changes what the page shows:
 *  - an environment created through the API appears in the list and goes RUNNING, live (the
 *    page polls; the test proves it was never reloaded);
 *  - from an environment's page: sleep (scale to 0) after a confirmation, SLEEPING; heal
 *    (a POST with no body: 202, HEALING, then RUNNING);
 *  - a failed environment (a `fail-start` image) shows its error code and reason, and its logs;
 *  - delete from the page (after declining once), and its row leaves the list;
 *  - with `--auth oidc` (a second local server): the page asks for a token, works with a good
 *    one, and a denied action shows the problem (`action-error`), changing nothing.
 *
 * It also writes docs/screenshots/list.png and failed.png when they are missing or
 * FLEDGE_UPDATE_SCREENSHOTS=1 (else a run leaves the committed images alone), and prints the
 * first load's weight and time to first render (never asserted: they depend on the machine).
 *
 * Only in the `default` project (vitest.config.ts): the hostile simulator changes nothing the
 * page does, and a browser is slow on two shared cores.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeFirstLoad, launchChromium, measureFirstLoad, screenshot, waitForText } from '../support/browser.ts';
import { type LocalApi, reached, useLocalServer } from './local-api.ts';

const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');
/** the page polls every 2 s: a change shows within a few polls */
const LIVE_MS = 15_000;
/** a workflow (create, scale, delete) in the simulator, with room for a busy machine */
const WORKFLOW_MS = 60_000;

const id = (testId: string) => `[data-testid="${testId}"]`;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** A fresh page (its own context: no cache, no sessionStorage) of a size that suits the docs. */
async function openPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return context.newPage();
}

const pages: Page[] = [];
async function visit(local: LocalApi, hash: string): Promise<Page> {
  const page = await openPage();
  pages.push(page);
  await page.goto(`${local.server().url}/${hash}`);
  return page;
}
afterEach(async () => {
  for (const page of pages.splice(0)) await page.context().close();
});

/** Goes to another route of the app in place (hash routing: no reload). */
const route = (page: Page, hash: string) => page.evaluate(`location.hash = ${JSON.stringify(hash)}`);

describe('dashboard (local mode, no auth)', () => {
  const local = useLocalServer();
  const labels = { repository: 'acme/web' };

  it('shows an environment created through the API, and its way to RUNNING, without a reload', async () => {
    const page = await visit(local, '#/');
    await page.locator(`${id('env-list')}, ${id('empty-list')}`).first().waitFor();
    // a mark a reload would erase
    await page.evaluate('window.__fledgeNoReload = true');

    const created = await local.api('PUT', '/v1/environments/pr-1', { body: { image: 'nginx:1.27', port: 80, labels } });
    expect(created.status, created.text).toBe(201);
    const broken = await local.api('PUT', '/v1/environments/pr-2', { body: { image: 'nginx:fail-start', port: 80, labels } });
    expect(broken.status, broken.text).toBe(201);

    const row = page.getByTestId('env-row-pr-1');
    await row.waitFor({ timeout: LIVE_MS });
    await waitForText(row.getByTestId('env-status'), 'RUNNING', WORKFLOW_MS);
    expect(await row.getByTestId('env-image').textContent()).toContain('nginx:1.27');
    expect(await row.getByTestId('env-url').textContent()).toContain('pr-1.localhost');
    await row.getByTestId('env-cost').waitFor();
    await waitForText(page.getByTestId('env-row-pr-2').getByTestId('env-status'), 'FAILED', WORKFLOW_MS);
    expect(await page.evaluate('window.__fledgeNoReload')).toBe(true);
    await screenshot(page, join(SCREENSHOTS, 'list.png'));

    // the first load, in a fresh context (nothing cached), with two environments to list
    const fresh = await openPage();
    pages.push(fresh);
    const load = await measureFirstLoad(fresh, `${local.server().url}/`, id('env-row-pr-1'));
    console.log(describeFirstLoad('dashboard first load (local mode, 2 environments)', load));
    for (const request of load.requests) console.log(`  ${request.status} ${new URL(request.url).pathname}${new URL(request.url).search} ${request.bodyBytes} B`);
    // every byte from local mode itself: no CDN, no external fonts
    for (const request of load.requests) expect(new URL(request.url).origin).toBe(local.server().url);
  }, 180_000);

  it('sleeps an environment from its page, after a confirmation: SLEEPING', async () => {
    await local.waitFor('pr-1', (env) => env.status === 'RUNNING');
    const page = await visit(local, '#/env/pr-1');
    const envPage = page.getByTestId('env-page');
    await envPage.waitFor();
    await waitForText(page.getByTestId('env-title'), /pr-1/);
    await waitForText(envPage.getByTestId('env-status'), 'RUNNING', LIVE_MS);

    await page.getByTestId('action-sleep').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await page.getByTestId('confirm-yes').click();
    await waitForText(envPage.getByTestId('env-status'), 'SLEEPING', WORKFLOW_MS);
    const env = await local.waitFor('pr-1', (e) => e.status === 'SLEEPING');
    expect(env).toMatchObject({ desiredCount: 0 });
    expect(await page.getByTestId('action-error').count()).toBe(0);
  }, 120_000);

  it("shows a failed environment's error code and reason, its events and its logs", async () => {
    await local.waitFor('pr-2', (env) => env.status === 'FAILED', WORKFLOW_MS);
    const page = await visit(local, '#/env/pr-2');
    const envPage = page.getByTestId('env-page');
    await waitForText(envPage.getByTestId('env-status'), 'FAILED', LIVE_MS);
    const error = await waitForText(page.getByTestId('env-error'), /TASK_EXITED/, LIVE_MS);
    expect(error).toMatch(/exited with exit code 1/);
    await page.getByTestId('event-row').first().waitFor({ timeout: LIVE_MS });
    await waitForText(page.getByTestId('env-logs'), /fatal: startup failed/, LIVE_MS);
    expect(await page.getByTestId('log-line').count()).toBeGreaterThan(0);
    await screenshot(page, join(SCREENSHOTS, 'failed.png'));
  }, 120_000);

  it('heals an environment from its page: the POST (no body, a JSON content type) is a 202, HEALING, then RUNNING', async () => {
    const created = await local.api('PUT', '/v1/environments/pr-4', { body: { image: 'nginx:1.27', port: 80, labels } });
    expect(created.status, created.text).toBe(201);
    await local.waitFor('pr-4', (env) => env.status === 'RUNNING', WORKFLOW_MS);
    const page = await visit(local, '#/env/pr-4');
    const envPage = page.getByTestId('env-page');
    await waitForText(envPage.getByTestId('env-status'), 'RUNNING', LIVE_MS);

    await page.getByTestId('action-heal').click();
    await page.getByTestId('confirm-dialog').waitFor();
    const healed = page.waitForResponse((response) => response.url().endsWith('/v1/environments/pr-4/heal') && response.request().method() === 'POST');
    await page.getByTestId('confirm-yes').click();
    const response = await healed;
    // before the fix openapi-fetch sent no content type with no body: 415 Unsupported Media Type
    expect(response.status(), await response.text()).toBe(202);
    expect(await response.request().headerValue('content-type')).toBe('application/json');
    expect((await response.json()).status).toBe('HEALING');
    await waitForText(page.getByTestId('action-done'), /Heal pr-4/, LIVE_MS);
    const env = await local.waitFor('pr-4', (e) => e.status === 'RUNNING' && e.operation?.type === 'heal' && e.operation.status === 'SUCCEEDED', WORKFLOW_MS);
    expect(env.operation).toMatchObject({ type: 'heal', status: 'SUCCEEDED' });
    await waitForText(envPage.getByTestId('env-status'), 'RUNNING', LIVE_MS);
    expect(await page.getByTestId('action-error').count()).toBe(0);
    expect((await local.api('DELETE', '/v1/environments/pr-4')).status).toBe(202);
  }, 180_000);

  it('deletes an environment from its page (declining first changes nothing), and its row leaves the list', async () => {
    const created = await local.api('PUT', '/v1/environments/pr-3', { body: { image: 'nginx:1.27', port: 80, labels } });
    expect(created.status, created.text).toBe(201);
    await local.waitFor('pr-3', (env) => env.status === 'RUNNING', WORKFLOW_MS);
    const page = await visit(local, '#/env/pr-3');
    await waitForText(page.getByTestId('env-page').getByTestId('env-status'), 'RUNNING', LIVE_MS);

    await page.getByTestId('action-delete').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await page.getByTestId('confirm-no').click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'hidden' });
    expect((await local.api('GET', '/v1/environments/pr-3')).body.status).toBe('RUNNING');

    await page.getByTestId('action-delete').click();
    await page.getByTestId('confirm-yes').click();
    await local.waitFor('pr-3', (env) => env.status === 'DELETING' || env.status === 'DELETED', LIVE_MS);
    await route(page, '#/');
    await page.getByTestId('env-row-pr-1').waitFor({ timeout: LIVE_MS });
    await page.getByTestId('env-row-pr-3').waitFor({ state: 'detached', timeout: WORKFLOW_MS });
    // the others stay
    await page.getByTestId('env-row-pr-2').waitFor();
  }, 120_000);
});

describe('dashboard (local mode --auth oidc)', () => {
  const local = useLocalServer({}, { auth: 'oidc' });

  const token = async (request: Record<string, unknown>): Promise<string> => {
    const answer = await local.api('POST', '/_local/token', { body: request });
    expect(answer.status, answer.text).toBe(200);
    return answer.body.token;
  };

  it('asks for a token, works with a good one, and shows a denied action without changing anything', async () => {
    const good = await token({ repository: 'acme/web', actor: 'dev' });
    // a token of a job started by a refused event (pull_request_target): every request is a 403
    const refused = await token({ repository: 'acme/web', actor: 'dev', eventName: 'pull_request_target' });
    const created = await local.api('PUT', '/v1/environments/sec-1', { body: { image: 'nginx:1.27', port: 80 }, headers: { authorization: `Bearer ${good}` } });
    expect(created.status, created.text).toBe(201);
    const asGood = { headers: { authorization: `Bearer ${good}` } };
    await reached(() => local.api('GET', '/v1/environments/sec-1', asGood), (answer) => answer.body?.status === 'RUNNING', WORKFLOW_MS, 200, 'sec-1 RUNNING');

    const page = await visit(local, '#/env/sec-1');
    // without a token the API answers 401: the page says so and offers the field
    await page.locator(`${id('auth-required')}, ${id('action-error')}`).first().waitFor({ timeout: LIVE_MS });
    const field = page.getByTestId('auth-token');
    await field.fill(good);
    await field.press('Tab');
    const envPage = page.getByTestId('env-page');
    await waitForText(envPage.getByTestId('env-status'), 'RUNNING', LIVE_MS);

    // the same page with a token that is refused: the action is denied and the page says why
    await field.fill(refused);
    await field.press('Tab');
    await page.getByTestId('action-sleep').click();
    await page.getByTestId('confirm-yes').click();
    await waitForText(page.getByTestId('action-error'), /Forbidden|grants no access/, LIVE_MS);
    const env = await local.api('GET', '/v1/environments/sec-1', asGood);
    expect(env.body).toMatchObject({ status: 'RUNNING', desiredCount: 1 });
  }, 120_000);
});

