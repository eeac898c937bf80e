import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { eventually } from '../helpers/http.js';
import { startTestServer, TEST_TOKEN, uniqueName, type TestServer } from '../helpers/server.js';

/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core), on a
 * real server with a real pushed app. Screenshots go to test-artifacts/dashboard/.
 */
const CHROMIUM = process.env.MINPAAS_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.resolve('test-artifacts/dashboard');

// The fixture app, printing one log line per request (so live logs have something to follow).
const loggingApp = (message: string): Record<string, string> =>
  nodeApp(message, {
    'server.js': `const http = require('http');
http.createServer((req, res) => {
  console.log('request ' + req.url);
  res.end(${JSON.stringify(message)} + ' greeting=' + (process.env.GREETING || '') + '\\n');
}).listen(Number(process.env.PORT), () => console.log('booted ${message}'));
`,
  });

let t: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let repo: AppRepo;
const app = uniqueName('dash');
let appUrl: string;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function appBody(): Promise<string> {
  return (await fetch(appUrl, { signal: AbortSignal.timeout(5000) })).text();
}

async function sessionCookieHeader(): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === 'minpaas_session');
  if (!cookie) throw new Error('no session cookie');
  return `minpaas_session=${cookie.value}`;
}

async function csrfOfPage(): Promise<string> {
  return page.locator('input[name="csrf"]').first().inputValue();
}

beforeAll(async () => {
  await fs.mkdir(SHOTS, { recursive: true });
  t = await startTestServer();
  repo = await AppRepo.create(loggingApp('dash-one'));
  const push = await repo.push(t.remote(app), 'main');
  expect(push.code, push.output).toBe(0);
  appUrl = (await t.api('GET', `/apps/${app}`)).json.url;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  context = await browser.newContext({ baseURL: t.url });
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await repo?.remove();
  await t?.cleanup();
});

describe('dashboard in a browser', () => {
  it('asks for the token, refuses a wrong one, and logs in into an HttpOnly SameSite=Strict cookie', async () => {
    await page.goto('/');
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.getByLabel('Token').fill('not-the-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('That token is not valid');
    await shot('login');
    await page.getByLabel('Token').fill(TEST_TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'minpaas_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Strict');
    expect(cookie.value).not.toContain(TEST_TOKEN);
    expect(page.url()).not.toContain(TEST_TOKEN);
    expect(await page.content()).not.toContain(TEST_TOKEN);
  });

  it('lists the app with its status, release and URL', async () => {
    const row = page.getByRole('row').filter({ hasText: app });
    await expect(row.textContent()).resolves.toMatch(/running[\s\S]*v1/);
    await expect(row.getByRole('link', { name: appUrl }).count()).resolves.toBe(1);
    await shot('apps');
  });

  it('sets a config var (hidden until revealed) and the new release serves it', async () => {
    await page.getByRole('link', { name: app, exact: true }).first().click();
    await page.getByRole('heading', { name: app, level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('GREETING');
    await page.getByLabel('Value', { exact: true }).fill('hello-from-the-dashboard');
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Set GREETING: released v2');
    expect(await appBody()).toContain('greeting=hello-from-the-dashboard');
    // Masked in the page (not even in its source) until revealed.
    expect(await page.content()).not.toContain('hello-from-the-dashboard');
    await page.getByRole('link', { name: 'Reveal GREETING' }).click();
    await expect(page.locator('code.value').textContent()).resolves.toBe('hello-from-the-dashboard');
    await expect(page.getByRole('heading', { name: 'Process types' }).count()).resolves.toBe(1);
    await shot('app');
  });

  it('rolls back to v1: a new release without the var serves', async () => {
    await page.getByRole('button', { name: 'Roll back to v1' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Rolled back: now v3');
    expect(await appBody()).toMatch(/greeting=\n/);
    expect((await t.api('GET', `/apps/${app}`)).json.release).toBe(3);
  });

  it('is usable from the keyboard: a skip link first, every input labelled, a visible focus ring', async () => {
    await page.goto(`/ui/apps/${app}`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('main');
    // (Browser-side code as strings: the test's TypeScript has no DOM types.)
    const unlabelled = await page.evaluate(
      "[...document.querySelectorAll('input:not([type=hidden]), button')].filter((e) => e.tagName === 'INPUT' ? e.labels.length === 0 : !e.textContent.trim()).length",
    );
    expect(unlabelled).toBe(0);
    const landmarks = await page.evaluate("[...document.querySelectorAll('header, nav, main')].map((e) => e.tagName.toLowerCase())");
    expect(landmarks).toEqual(['header', 'nav', 'main']);
    await page.getByLabel('Name', { exact: true }).focus();
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).toBe('solid');
  });

  it('follows the logs live', async () => {
    await page.goto(`/ui/apps/${app}/logs`);
    await expect(page.locator('#log').textContent()).resolves.toContain('booted dash-one');
    await page.getByText('Following live.').waitFor();
    const marker = `/live-${Math.random().toString(36).slice(2, 8)}`;
    await fetch(`${appUrl}${marker}`);
    await page.locator('#log').getByText(`request ${marker}`).waitFor();
    await shot('logs');
  });

  it('follows a running deploy live, to its end', async () => {
    // A build step that takes a while, so the page is opened while the build runs.
    const files = loggingApp('dash-two');
    const pkg = JSON.parse(files['package.json']!);
    pkg.scripts.build = 'echo building slowly && sleep 8 && echo build step done';
    await repo.commit({ ...files, 'package.json': JSON.stringify(pkg) }, 'slow build');
    const pushing = repo.push(t.remote(app), 'main');
    const running = await eventually(async () => {
      const d = (await t.api('GET', `/apps/${app}/deploys`)).json.find((x: { status: string }) => x.status === 'running');
      if (!d) throw new Error('no running deploy yet');
      return d as { id: number };
    }, 120_000, 200);
    await page.goto(`/ui/apps/${app}/deploys/${running.id}`);
    // Rendered while running: the live hint is there and the stream takes over.
    expect(await page.locator('pre[data-follow]').count()).toBe(1);
    const shownAtLoad = (await page.locator('#log').textContent())!;
    expect(shownAtLoad).not.toContain('Released v4');
    await page.getByText('Finished: succeeded.').waitFor({ timeout: 180_000 });
    const log = (await page.locator('#log').textContent())!;
    expect(log).toContain('build step done');
    expect(log).toMatch(/Released v4/);
    expect(await page.locator('#deploy-status').textContent()).toBe('succeeded');
    await shot('deploy-live');
    expect((await pushing).code).toBe(0);
  });

  it("shows a failed deploy's log", async () => {
    // No start script and no server.js (npm's default start): the runtime contract fails.
    await repo.commit({ 'package.json': JSON.stringify({ name: 'broken', version: '1.0.0', scripts: {} }), 'server.js': null }, 'no start script');
    const push = await repo.push(t.remote(app), 'main');
    expect(push.code).not.toBe(0);
    await page.goto(`/ui/apps/${app}`);
    const failed = page.getByRole('row').filter({ hasText: 'failed' }).first();
    await failed.getByRole('link').click();
    await page.getByRole('heading', { name: /Deploy #\d+/ }).waitFor();
    const log = (await page.locator('#log').textContent())!;
    expect(log).toContain('start');
    expect(log).toMatch(/ !     /);
    expect(await page.locator('#deploy-status').textContent()).toBe('failed');
    await shot('deploy-failed');
    // The previous release still serves.
    expect(await appBody()).toContain('dash-two');
  });
});

describe('dashboard without JavaScript', () => {
  it('logs in and reads every page: apps, an app, its logs, a deploy log', async () => {
    const plain = await browser.newContext({ baseURL: t.url, javaScriptEnabled: false });
    try {
      const p = await plain.newPage();
      await p.goto('/');
      await p.getByLabel('Token').fill(TEST_TOKEN);
      await p.getByRole('button', { name: 'Log in' }).click();
      await p.getByRole('row').filter({ hasText: app }).waitFor();
      await p.goto(`/ui/apps/${app}`);
      await expect(p.getByRole('heading', { name: 'Releases' }).count()).resolves.toBe(1);
      await expect(p.getByRole('button', { name: /Roll back to v1/ }).count()).resolves.toBe(1);
      await p.goto(`/ui/apps/${app}/logs`);
      await expect(p.locator('#log').textContent()).resolves.toContain('booted');
      const deploys = (await t.api('GET', `/apps/${app}/deploys`)).json as { id: number }[];
      await p.goto(`/ui/apps/${app}/deploys/${deploys.at(-1)!.id}`);
      await expect(p.locator('#log').textContent()).resolves.toContain('Released v1');
    } finally {
      await plain.close();
    }
  });
});

describe('dashboard refusals', () => {
  const post = async (pathname: string, form: Record<string, string>, headers: Record<string, string>): Promise<Response> =>
    fetch(`${t.url}${pathname}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });

  it('without a session: pages redirect to the login, changes are refused', async () => {
    const get = await fetch(`${t.url}/ui/apps/${app}`, { redirect: 'manual' });
    expect(get.status).toBe(303);
    expect(get.headers.get('location')).toBe('/ui/login');
    expect(await get.text()).not.toContain(app);
    const stream = await fetch(`${t.url}/ui/apps/${app}/logs/stream`, { redirect: 'manual' });
    expect(stream.status).toBe(303);
    // The admin token as a bearer header is no dashboard session either.
    const bearer = await post(`/ui/apps/${app}/config`, { key: 'X', value: '1' }, { origin: t.url, authorization: `Bearer ${TEST_TOKEN}` });
    expect(bearer.status).toBe(403);
  });

  it('a wrong or missing CSRF token, or another origin, is refused; the right ones pass', async () => {
    await page.goto(`/ui/apps/${app}`);
    const csrf = await csrfOfPage();
    const cookie = await sessionCookieHeader();
    const target = `/ui/apps/${app}/config`;
    const change = { key: 'REFUSED', value: 'x' };
    expect((await post(target, { ...change, csrf: 'wrong' }, { cookie, origin: t.url })).status).toBe(403);
    expect((await post(target, change, { cookie, origin: t.url })).status).toBe(403);
    expect((await post(target, { ...change, csrf }, { cookie, origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(target, { ...change, csrf }, { cookie })).status).toBe(403);
    expect((await t.api('GET', `/apps/${app}/config`)).json).not.toHaveProperty('REFUSED');
    // The same request with the session's token from this origin is done.
    const ok = await post(target, { ...change, csrf }, { cookie, origin: t.url });
    expect(ok.status).toBe(303);
    expect((await t.api('GET', `/apps/${app}/config`)).json.REFUSED).toBe('x');
  });

  it('a cross-origin login is refused, and logging out ends the session', async () => {
    expect((await post('/ui/login', { token: TEST_TOKEN }, { origin: 'http://evil.example' })).status).toBe(403);
    const cookie = await sessionCookieHeader();
    await page.goto('/');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    const after = await fetch(`${t.url}/`, { redirect: 'manual', headers: { cookie } });
    expect(after.status).toBe(303);
  });
});

describe('dashboard with a user token', () => {
  it('a read user sees only their app, config names only and no change; once the token is revoked the next page load is logged out', async () => {
    const other = uniqueName('dashread');
    const user = uniqueName('reader');
    expect((await t.api('POST', '/apps', { name: other })).status).toBe(201);
    expect((await t.api('PATCH', `/apps/${other}/config`, { READER_SEES_NAME: 'value-the-reader-never-sees' })).status).toBe(200);
    expect((await t.api('POST', '/users', { name: user })).status).toBe(201);
    expect((await t.api('PUT', `/apps/${other}/access/${user}`, { role: 'read' })).status).toBe(200);
    const created = await t.api('POST', '/tokens', { user, name: 'browser' });
    expect(created.status).toBe(201);
    const { id, token } = created.json as { id: string; token: string };
    const ctx = await browser.newContext({ baseURL: t.url });
    try {
      const p = await ctx.newPage();
      await p.goto('/');
      await p.getByLabel('Token').fill(token);
      await p.getByRole('button', { name: 'Log in' }).click();
      await p.getByRole('heading', { name: 'Apps', level: 1 }).waitFor();
      await expect(p.getByRole('row').filter({ hasText: other }).count()).resolves.toBe(1);
      expect(await p.content()).not.toContain(app);
      expect(await p.content()).not.toContain(token);
      expect((await p.goto(`/ui/apps/${app}`))!.status()).toBe(404);
      await p.goto(`/ui/apps/${other}`);
      await p.getByRole('heading', { name: 'Config vars' }).waitFor();
      const html = await p.content();
      expect(html).toContain('READER_SEES_NAME');
      expect(html).not.toContain('value-the-reader-never-sees');
      await expect(p.getByRole('link', { name: /Reveal/ }).count()).resolves.toBe(0);
      await expect(p.getByRole('button', { name: /^(Set|Unset)/ }).count()).resolves.toBe(0);
      await expect(p.getByText('shows config names only').count()).resolves.toBe(1);
      await p.screenshot({ path: path.join(SHOTS, 'read-user.png'), fullPage: true });
      // A change posted anyway, with the session's own CSRF token from this origin: refused, nothing changed.
      const csrf = await p.locator('input[name="csrf"]').first().inputValue();
      const cookie = (await ctx.cookies()).find((c) => c.name === 'minpaas_session')!;
      const refused = await fetch(`${t.url}/ui/apps/${other}/config`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.url, cookie: `minpaas_session=${cookie.value}` },
        body: new URLSearchParams({ csrf, key: 'READER_SEES_NAME', value: 'changed' }).toString(),
      });
      expect(refused.status).toBe(403);
      expect((await t.api('GET', `/apps/${other}/config`)).json.READER_SEES_NAME).toBe('value-the-reader-never-sees');
      // Revoked: the very next page load shows the login form.
      expect((await t.api('DELETE', `/tokens/${id}`)).status).toBe(200);
      await p.reload();
      expect(new URL(p.url()).pathname).toBe('/ui/login');
      await p.getByRole('heading', { name: 'Log in' }).waitFor();
      expect((await ctx.cookies()).find((c) => c.name === 'minpaas_session')).toBeUndefined();
    } finally {
      await ctx.close();
      await t.api('DELETE', `/users/${user}`);
      await t.api('DELETE', `/apps/${other}`);
    }
  });
});
