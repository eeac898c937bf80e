import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { httpGet } from '../helpers/http.js';
import { assertMatchesDocument, undocumented } from '../helpers/openapi.js';
import { parsePrometheusText, sampleValue, type Sample } from '../helpers/prometheus-text.js';
import { startTestServer, TEST_TOKEN, uniqueName, type TestServer } from '../helpers/server.js';

// /metrics, /openapi.json and the error format against a real server: a push, a failed
// push and a config change move the counters and histograms by exactly what happened;
// real answers (success and error) match the document's own schemas.

const METRICS_TOKEN = 'metrics-only-token-0123456789';
let t: TestServer;
let repo: AppRepo;
const app = uniqueName('ops');
let doc: Parameters<typeof assertMatchesDocument>[0];

async function scrape(token = TEST_TOKEN): Promise<Sample[]> {
  const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text()).samples;
}

/** What moved between two scrapes, for the series a deploy touches. */
function moved(before: Sample[], after: Sample[]): Record<string, number> {
  const d = (name: string, labels: Record<string, string> = {}): number => sampleValue(after, name, labels) - sampleValue(before, name, labels);
  return {
    pushOk: d('minpaas_deploys_total', { app, source: 'push', outcome: 'succeeded' }),
    pushFailed: d('minpaas_deploys_total', { app, source: 'push', outcome: 'failed' }),
    configOk: d('minpaas_deploys_total', { app, source: 'config', outcome: 'succeeded' }),
    buildReleases: d('minpaas_releases_total', { app, kind: 'build' }),
    configReleases: d('minpaas_releases_total', { app, kind: 'config' }),
    builds: d('minpaas_build_duration_seconds_count'),
    healthChecks: d('minpaas_health_check_duration_seconds_count'),
    switches: d('minpaas_switch_duration_seconds_count'),
    drains: d('minpaas_drain_duration_seconds_count'),
  };
}
const none = { pushOk: 0, pushFailed: 0, configOk: 0, buildReleases: 0, configReleases: 0, builds: 0, healthChecks: 0, switches: 0, drains: 0 };

beforeAll(async () => {
  t = await startTestServer({ MINPAAS_METRICS_TOKEN: METRICS_TOKEN });
  repo = await AppRepo.create(nodeApp('ops v1'));
  const res = await fetch(`${t.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
});

afterAll(async () => {
  await t?.cleanup();
  await repo?.remove();
});

describe('metrics', () => {
  let afterPush: Sample[];

  it('a push moves the push counter, one release, one build, one health check, one switch', async () => {
    const before = await scrape();
    const push = await repo.push(t.remote(app));
    expect(push.code, push.output).toBe(0);
    afterPush = await scrape();
    expect(moved(before, afterPush)).toEqual({ ...none, pushOk: 1, buildReleases: 1, builds: 1, healthChecks: 1, switches: 1 });
  });

  it('a failed push counts as failed with its build time, and no release', async () => {
    await repo.commit({ 'package.json': JSON.stringify({ name: 'x', version: '1.0.0', scripts: { start: 'node server.js', install: 'echo fails-on-purpose; exit 7' } }) }, 'broken');
    const push = await repo.push(t.remote(app));
    expect(push.code).not.toBe(0);
    const after = await scrape();
    expect(moved(afterPush, after)).toEqual({ ...none, pushFailed: 1, builds: 1 });
    await repo.git('reset', '-q', '--hard', 'HEAD~1');
  });

  it('a config change is one config deploy and release, a health check, a switch and a drain; no build', async () => {
    const before = await scrape();
    const res = await t.api('PATCH', `/apps/${app}/config`, { GREETING: 'metrics' });
    expect(res.status, res.text).toBe(200);
    const after = await scrape();
    expect(moved(before, after)).toEqual({ ...none, configOk: 1, configReleases: 1, healthChecks: 1, switches: 1, drains: 1 });
  });

  it('per-app gauges: restarts, memory, running, and HTTP requests from the router', async () => {
    const { port } = t.server.store.getApp(app)!;
    const before = await scrape();
    for (let i = 0; i < 5; i++) expect((await httpGet(port))?.status).toBe(200);
    const started = performance.now();
    const after = await scrape(METRICS_TOKEN);
    // A figure for the report (one running container: one Docker list, one one-shot stats, one show stat).
    console.log(`[metrics] scrape with one running app: ${Math.round(performance.now() - started)} ms`);
    expect(sampleValue(after, 'minpaas_app_http_requests', { app }) - sampleValue(before, 'minpaas_app_http_requests', { app })).toBe(5);
    expect(sampleValue(after, 'minpaas_app_running', { app })).toBe(1);
    expect(sampleValue(after, 'minpaas_app_container_restarts', { app })).toBe(0);
    expect(sampleValue(after, 'minpaas_app_memory_bytes', { app })).toBeGreaterThan(1024 * 1024);
    expect(sampleValue(after, 'minpaas_router_up')).toBe(1);
    expect(sampleValue(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('needs the admin or the metrics token; the metrics token opens nothing else', async () => {
    const anonymous = await fetch(`${t.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await t.api('GET', '/apps', undefined, METRICS_TOKEN)).status).toBe(401);
  });
});

describe('OpenAPI and the error format', () => {
  it('describes every route of the running server', () => {
    expect(t.server.routes.length).toBeGreaterThan(15);
    expect(undocumented(t.server.routes, doc as never)).toEqual([]);
  });

  it('real answers match the document: success and error', async () => {
    const check = async (method: string, url: string, docPath: string, status: number, body?: unknown, token?: string): Promise<unknown> => {
      const res = await t.api(method, url, body, token);
      expect(res.status, res.text).toBe(status);
      assertMatchesDocument(doc, docPath, method, status, res.json);
      return res.json;
    };
    await check('GET', '/apps', '/apps', 200);
    await check('GET', `/apps/${app}`, '/apps/{name}', 200);
    await check('GET', `/apps/${app}/config`, '/apps/{name}/config', 200);
    await check('GET', `/apps/${app}/releases`, '/apps/{name}/releases', 200);
    await check('GET', `/apps/${app}/deploys`, '/apps/{name}/deploys', 200);
    const created = uniqueName('ops-new');
    await check('POST', '/apps', '/apps', 201, { name: created });
    await check('POST', '/apps', '/apps', 409, { name: created });
    await check('POST', '/apps', '/apps', 400, { name: 12 });
    await check('GET', '/apps/no-such-app', '/apps/{name}', 404);
    await check('POST', `/apps/${app}/rollback`, '/apps/{name}/rollback', 404, { release: 99 });
    await check('GET', '/apps', '/apps', 401, undefined, 'wrong-token-0123456789');
    expect(await check('PUT', `/apps/${app}/builder`, '/apps/{name}/builder', 400, { builder: 'kaniko' })).toMatchObject({ code: 'INVALID_INPUT' });
    await check('DELETE', `/apps/${created}`, '/apps/{name}', 200);
  });

  it('pages GET /apps with ?limit=&after= and a Link to the next page', async () => {
    const res = await fetch(`${t.url}/apps?limit=1`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    const first = (await res.json()) as { name: string }[];
    expect(first).toHaveLength(1);
    expect(res.headers.get('link')).toBe(`</apps?limit=1&after=${first[0]!.name}>; rel="next"`);
    expect((await t.api('GET', `/apps?limit=1&after=${first[0]!.name}`)).json).toEqual([]);
    expect((await t.api('GET', '/apps?limit=0')).json).toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('the NDJSON deploy stream ends with the same error object (code, status)', async () => {
    const res = await fetch(`${t.url}/deploy?stream=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ app: uniqueName('ops-clone'), runtime: 'node', repo: 'http://127.0.0.1:9/nothing.git' }),
    });
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ code: 'CLONE_FAILED', status: 422 });
    expect(typeof lines.at(-1)!.error).toBe('string');
  });
});
