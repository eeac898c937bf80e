import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { AppRepo } from '../helpers/git.js';
import { underLoad } from '../helpers/load.js';
import { apiRequest, eventually, httpGet } from '../helpers/http.js';
import { startTestServer, TEST_TOKEN, uniqueName, type TestServer } from '../helpers/server.js';

/**
 * Processes on real Docker and HAProxy: a Procfile with web + worker + release; web=3
 * behind the router round-robin; scaling under load with no failed request; a release
 * command that fails rejects the push while v1 serves; one-off runs; the formation
 * across a control-plane restart.
 *
 * Containers share no filesystem and MinPaas has no volumes, so the release command's
 * marker is seen where a user sees it: in the push output, before any process of the
 * release starts, with the release's own config (GREETING) and its own $DYNO.
 */

function procApp(version: string, releaseCommand: string): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'procs', version: '1.0.0', scripts: { start: 'node server.js' } }),
    Procfile: `web: node server.js\nworker: node worker.js\nrelease: ${releaseCommand}\n`,
    'server.js': `const http = require('http');
http.createServer((req, res) => res.end('${version} dyno=' + process.env.DYNO + '\\n')).listen(Number(process.env.PORT), () => console.log('web up ' + process.env.DYNO));
`,
    'worker.js': `let n = 0;
console.log('worker up ' + process.env.DYNO);
setInterval(() => console.log('heartbeat ' + process.env.DYNO + ' ' + (++n)), 300);
`,
    'release.js': `console.log('release-marker ${version} ' + process.env.DYNO + ' greeting=' + (process.env.GREETING || ''));
`,
  };
}

/** The replicas (DYNO names) that answer `count` requests through the app's port. */
async function dynosSeen(port: number, count: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const r = await httpGet(port, '/');
    const match = r ? /dyno=(\S+)/.exec(r.body) : null;
    if (match) seen.add(match[1]!);
  }
  return seen;
}

interface NdjsonLine {
  stdout?: string;
  stderr?: string;
  exitCode?: number | null;
  error?: string;
}

async function runOneOff(url: string, app: string, body: unknown): Promise<{ status: number; lines: NdjsonLine[] }> {
  const res = await fetch(`${url}/apps/${app}/run`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  // A refusal (400, 404…) is one JSON error, before any stream starts.
  if (res.status !== 200) return { status: res.status, lines: [JSON.parse(text) as NdjsonLine] };
  return { status: res.status, lines: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as NdjsonLine) };
}


describe('processes: Procfile types, formation, release phase, one-off runs', () => {
  let t: TestServer;
  let repo: AppRepo;
  const app = uniqueName('procs');
  let port: number;

  beforeAll(async () => {
    t = await startTestServer({ MINPAAS_WORKER_STARTUP: '2', MINPAAS_RELEASE_TIMEOUT: '60' });
    repo = await AppRepo.create(procApp('v1', 'node release.js'));
  }, 60_000);

  afterAll(async () => {
    // After the restart test the first server's store is closed: its apps went with the second server.
    await t?.cleanup().catch(async () => {
      await t.server.router.stopProcess().catch(() => undefined);
      await fs.rm(t.dataDir, { recursive: true, force: true });
    });
    await repo?.remove();
  }, 120_000);

  it('a push runs the release command first, then web=3 (set before the first deploy) and the worker', async () => {
    expect((await t.api('POST', '/apps', { name: app })).status).toBe(201);
    expect((await t.api('PATCH', `/apps/${app}/config`, { GREETING: 'hello' })).status).toBe(200);
    // Before the first release the counts are only stored (there are no types to check yet).
    expect((await t.api('PATCH', `/apps/${app}/formation`, { web: 3 })).json).toEqual({ web: 3 });
    const push = await repo.push(t.remote(app));
    expect(push.code, push.stderr).toBe(0);
    const out = push.stderr;
    // The release command ran once, in a one-off of the new image with the new config…
    expect(out).toMatch(/Running the release command: node release\.js/);
    expect(out).toMatch(/release-marker v1 run\.[0-9a-f]+ greeting=hello/);
    expect(out).toMatch(/Release command succeeded/);
    // …before any process of the release started.
    expect(out.indexOf('release-marker v1')).toBeLessThan(out.indexOf('Starting v1: web=3 worker=1'));
    port = (await t.api('GET', `/apps/${app}`)).json.port as number;
    expect((await t.api('GET', `/apps/${app}/formation`)).json).toEqual({ web: 3, worker: 1 });
  }, 300_000);

  it('web=3 serves from three containers round-robin; the worker runs with no port and writes its heartbeat', async () => {
    expect([...(await dynosSeen(port, 12))].sort()).toEqual(['web.1', 'web.2', 'web.3']);
    const ps = (await t.api('GET', `/apps/${app}/ps`)).json as { status: string; processes: Array<{ name: string; container: string; status: string; restarts: number; uptime: number }> };
    expect(ps.status).toBe('running');
    expect(ps.processes.map((p) => `${p.name} ${p.container} ${p.status}`)).toEqual([
      `web.1 minpaas-${app}-v1-web-1 running`,
      `web.2 minpaas-${app}-v1-web-2 running`,
      `web.3 minpaas-${app}-v1-web-3 running`,
      `worker.1 minpaas-${app}-v1-worker-1 running`,
    ]);
    const log = await eventually(async () => {
      const text = (await t.api('GET', `/apps/${app}/logs?process=worker.1&tail=50`)).text;
      expect(text).toMatch(/heartbeat worker\.1 \d+/);
      return text;
    });
    expect(log).toContain('worker up worker.1');
    expect((await t.api('GET', `/apps/${app}/logs?process=web.2`)).text).toContain('web up web.2');
    expect((await t.api('GET', `/apps/${app}/logs?process=clock.1`)).status).toBe(404);
    // Workers get no route: the router serves exactly the three web replicas.
    expect(t.server.router.routes().find((r) => r.app === app)?.targets).toHaveLength(3);
  }, 60_000);

  it('scaling a type the release lacks, or release, is a 400 naming its types', async () => {
    const bad = await t.api('PATCH', `/apps/${app}/formation`, { clock: 1 });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/no process type clock; its types are: web, worker/);
    expect((await t.api('PATCH', `/apps/${app}/formation`, { release: 2 })).status).toBe(400);
    expect((await t.api('PATCH', `/apps/${app}/formation`, { web: 11 })).status).toBe(400);
  });

  it('scales down and up under load with no failed request', async () => {
    const load = await underLoad(port, async () => {
      const down = await t.api('PATCH', `/apps/${app}/formation`, { web: 1, worker: 0 });
      expect(down.json).toEqual({ web: 1, worker: 0 });
      expect([...(await dynosSeen(port, 6))]).toEqual(['web.1']);
      const up = await t.api('PATCH', `/apps/${app}/formation`, { web: 3 });
      expect(up.json).toEqual({ web: 3, worker: 0 });
    });
    console.log(`[scale] 3→1→3 under 10 connections: ${load.requests.total} requests, ${load.errors} errors, ${load.non2xx} non-2xx`);
    expect(load.errors).toBe(0);
    expect(load.non2xx).toBe(0);
    expect(load.requests.total).toBeGreaterThan(0);
    expect([...(await dynosSeen(port, 12))].sort()).toEqual(['web.1', 'web.2', 'web.3']);
    expect(await t.docker.inspect(`minpaas-${app}-v1-worker-1`)).toBeNull();
    // Recorded in the deploys history with its log.
    const deploys = (await t.api('GET', `/apps/${app}/deploys`)).json as Array<{ source: string; status: string }>;
    expect(deploys.slice(0, 2).map((d) => `${d.source} ${d.status}`)).toEqual(['scale succeeded', 'scale succeeded']);
  }, 180_000);

  it('run streams the output of a one-off container of the current release and ends with its exit code', async () => {
    const r = await runOneOff(t.url, app, { command: ['sh', '-c', 'echo "out $DYNO $GREETING"; echo oops >&2; exit 7'] });
    expect(r.status).toBe(200);
    expect(r.lines.map((l) => l.stdout ?? '').join('')).toMatch(/^out run\.[0-9a-f]+ hello\n$/);
    expect(r.lines.map((l) => l.stderr ?? '').join('')).toBe('oops\n');
    expect(r.lines.at(-1)).toEqual({ exitCode: 7 });
    const timedOut = await runOneOff(t.url, app, { command: ['sleep', '30'], timeout: 1 });
    expect(timedOut.lines.at(-1)).toEqual({ exitCode: null, timedOut: true });
    // The one-off containers are gone afterwards.
    const left = (await t.docker.listOwnedContainerNames(app)).filter((n) => n.includes('-run-'));
    expect(left).toEqual([]);
    expect((await runOneOff(t.url, app, { command: [] })).status).toBe(400);
    // The CLI (its code in-process, against this server) prints the output and returns the exit code.
    const io = { stdout: '', stderr: '', out: (s: string) => void (io.stdout += s), err: (s: string) => void (io.stderr += s) };
    expect(await runCli(['run', app, '--url', t.url, '--token', TEST_TOKEN, '--', 'sh', '-c', 'echo cli $DYNO; echo e >&2; exit 5'], io)).toBe(5);
    expect(io.stdout).toMatch(/^cli run\.[0-9a-f]+\n$/);
    expect(io.stderr).toBe('e\n');
  }, 60_000);

  it('crashed replicas restart with back-off and show in ps; all web replicas down is `crashed`, not running', async () => {
    const crashy = uniqueName('crashy');
    // GET /crash leaves a mark in the container's own filesystem and exits; a start that finds it exits at once.
    const crashRepo = await AppRepo.create({
      'package.json': JSON.stringify({ name: 'crashy', version: '1.0.0', scripts: { start: 'node server.js' } }),
      'server.js': `const fs = require('fs');
if (fs.existsSync('/tmp/crashed')) process.exit(1);
require('http').createServer((req, res) => {
  if (req.url === '/crash') { fs.writeFileSync('/tmp/crashed', '1'); res.end('bye ' + process.env.DYNO + '\\n'); setTimeout(() => process.exit(1), 50); return; }
  res.end('ok ' + process.env.DYNO + '\\n');
}).listen(Number(process.env.PORT));
`,
    });
    try {
      expect((await t.api('POST', '/apps', { name: crashy })).status).toBe(201);
      expect((await t.api('PATCH', `/apps/${crashy}/formation`, { web: 2 })).status).toBe(200);
      const push = await crashRepo.push(t.remote(crashy));
      expect(push.code, push.stderr).toBe(0);
      const crashPort = (await t.api('GET', `/apps/${crashy}`)).json.port as number;
      const ps = async () => (await t.api('GET', `/apps/${crashy}/ps`)).json as { status: string; processes: Array<{ name: string; status: string; restarts: number }> };
      expect((await ps()).status).toBe('running');
      // One replica down: degraded, and the other one still answers every request.
      const first = await httpGet(crashPort, '/crash');
      const down = /bye (\S+)/.exec(first?.body ?? '')?.[1];
      expect(down).toMatch(/^web\.[12]$/);
      await eventually(async () => {
        const now = await ps();
        expect(now.status).toBe('degraded');
        expect(now.processes.find((p) => p.name === down)?.restarts).toBeGreaterThanOrEqual(1);
      }, 30_000, 200);
      // The router's checks take the crashed one out of the rotation.
      await eventually(async () => {
        for (let i = 0; i < 10; i++) expect((await httpGet(crashPort, '/'))?.body).toMatch(/^ok web\.[12]$/m);
      }, 60_000, 500);
      // The other one too: crashed in ps and apps:info, and the router answers 503, not a hang.
      await httpGet(crashPort, '/crash');
      await eventually(async () => expect((await ps()).status).toBe('crashed'), 30_000, 200);
      await eventually(async () => expect((await t.api('GET', `/apps/${crashy}`)).json.status).toBe('crashed'), 30_000, 200);
      await eventually(async () => expect((await httpGet(crashPort, '/'))?.status).toBe(503), 30_000, 200);
    } finally {
      await t.api('DELETE', `/apps/${crashy}`);
      await crashRepo.remove();
    }
  }, 180_000);

  it('a failing release command rejects the push; v1 keeps serving untouched', async () => {
    await repo.commit(procApp('v2', 'sh -c "echo migration-broke; exit 3"'), 'v2');
    const push = await repo.push(t.remote(app));
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('migration-broke');
    expect(push.stderr).toMatch(/the release command failed \(exit code 3\); the previous release keeps serving/);
    expect(push.stderr).not.toMatch(/Starting v2/);
    expect((await t.api('GET', `/apps/${app}`)).json.release).toBe(1);
    expect([...(await dynosSeen(port, 12))].sort()).toEqual(['web.1', 'web.2', 'web.3']);
    expect((await httpGet(port, '/'))?.body).toMatch(/^v1 /);
    expect((await t.docker.listOwnedContainerNames(app)).sort()).toEqual([1, 2, 3].map((i) => `minpaas-${app}-v1-web-${i}`));
  }, 300_000);

  it('a rollback skips the release command unless asked', async () => {
    const lastLog = async (): Promise<string> => {
      const [latest] = (await t.api('GET', `/apps/${app}/deploys`)).json as Array<{ id: number }>;
      return (await t.api('GET', `/apps/${app}/deploys/${latest!.id}/log`)).text;
    };
    expect((await t.api('POST', `/apps/${app}/rollback`, { release: 1 })).status).toBe(200);
    expect(await lastLog()).not.toContain('Running the release command');
    expect((await t.api('POST', `/apps/${app}/rollback`, { release: 1, runReleasePhase: true })).status).toBe(200);
    expect(await lastLog()).toMatch(/release-marker v1 run\.[0-9a-f]+ greeting=hello/);
    expect((await t.api('POST', `/apps/${app}/rollback`, { release: 1, runReleasePhase: 'yes' })).status).toBe(400);
    expect([...(await dynosSeen(port, 12))].sort()).toEqual(['web.1', 'web.2', 'web.3']);
  }, 120_000);

  it('the formation survives a control-plane restart; the processes keep serving', async () => {
    const before = (await t.api('GET', `/apps/${app}/ps`)).json as { processes: Array<{ container: string }> };
    await t.server.close();
    let second: RunningServer | undefined;
    try {
      second = await startServer(loadConfig({ ...process.env, MINPAAS_DATA_DIR: t.dataDir, MINPAAS_PORT: '0', MINPAAS_HOST: '127.0.0.1', MINPAAS_TOKEN: TEST_TOKEN }));
      const formation = await apiRequest(second.url, TEST_TOKEN, 'GET', `/apps/${app}/formation`);
      expect(formation.json).toEqual({ web: 3, worker: 0 });
      const ps = await apiRequest(second.url, TEST_TOKEN, 'GET', `/apps/${app}/ps`);
      expect((ps.json as typeof before).processes.map((p) => p.container)).toEqual(before.processes.map((p) => p.container));
      expect([...(await dynosSeen(port, 12))].sort()).toEqual(['web.1', 'web.2', 'web.3']);
    } finally {
      // The first server's cleanup uses its store; the second one serves the same data dir.
      for (const a of second?.store.listApps() ?? []) await second!.apps.destroy(a.name).catch(() => undefined);
      await second?.close();
    }
  }, 120_000);
});
