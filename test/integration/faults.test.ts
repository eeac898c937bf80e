import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo, run, type RunResult } from '../helpers/git.js';
import { eventually, httpGet } from '../helpers/http.js';
import { uniqueName } from '../helpers/server.js';
import { AppPoller, ServerProcess } from '../helpers/server-process.js';

/**
 * Faults of the control plane: kill -9 mid-build, SIGTERM + restart with a container that
 * died meanwhile, an app that crashes after its release. The server runs as a separate
 * process (test/helpers/server-process.ts) so it can really be killed. Timings are
 * printed, never asserted.
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let srv: ServerProcess | undefined;
const repos: AppRepo[] = [];
const pollers: AppPoller[] = [];

beforeEach(async () => {
  srv = await ServerProcess.create();
  await srv.start();
});

afterEach(async () => {
  for (const p of pollers.splice(0)) await p.stop();
  await srv?.cleanup();
  srv = undefined;
  for (const repo of repos.splice(0)) await repo.remove();
});

afterAll(async () => {
  await srv?.cleanup();
});

async function newRepo(files: Record<string, string>): Promise<AppRepo> {
  const repo = await AppRepo.create(files);
  repos.push(repo);
  return repo;
}

function poll(port: number, expected: RegExp): AppPoller {
  const p = new AppPoller(port, expected);
  pollers.push(p);
  return p;
}

async function pushOk(repo: AppRepo, app: string): Promise<RunResult> {
  const push = await repo.push(srv!.remote(app));
  expect(push.code, `${push.output}\n--- server log ---\n${await srv!.logTail()}`).toBe(0);
  return push;
}

async function record(app: string): Promise<any> {
  const res = await srv!.api('GET', `/apps/${app}`);
  expect(res.status, res.text).toBe(200);
  return res.json;
}

/** `docker ps -a --filter label=minpaas.app=APP`: names of every container of the app. */
async function containersOf(app: string): Promise<string[]> {
  const res = await run('docker', ['ps', '-a', '--filter', `label=minpaas.app=${app}`, '--format', '{{.Names}}']);
  expect(res.code, res.output).toBe(0);
  return res.stdout.split('\n').filter(Boolean).sort();
}

/**
 * Full ids of the top-level images (tagged or dangling; not the intermediate layers of a
 * kept image) that carry the app's label.
 */
async function imagesOf(app: string, label?: string): Promise<string[]> {
  const also = label ? ['--filter', `label=${label}`] : [];
  const res = await run('docker', ['images', '--no-trunc', '--filter', `label=minpaas.app=${app}`, ...also, '--format', '{{.ID}}']);
  expect(res.code, res.output).toBe(0);
  return [...new Set(res.stdout.split('\n').filter(Boolean))].sort();
}

/** The container's own address (IP on its app network) and the app's port, as "ip:3000"; '' while it is down. */
async function containerAddress(nameOrId: string): Promise<string> {
  const res = await run('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', nameOrId]);
  const ip = res.stdout.trim();
  return ip ? `${ip}:3000` : '';
}

function getAt(address: string): Promise<{ status: number; body: string } | null> {
  return fetch(`http://${address}/`, { signal: AbortSignal.timeout(2000) }).then(
    async (r) => ({ status: r.status, body: await r.text() }),
    () => null,
  );
}

async function containerState(nameOrId: string): Promise<string | null> {
  const res = await run('docker', ['inspect', '-f', '{{.State.Status}}', nameOrId]);
  return res.code === 0 ? res.stdout.trim() : null;
}

/** A `git push` whose output can be watched while it runs. */
function pushStreaming(repo: AppRepo, remote: string): { output: () => string; waitFor: (re: RegExp, timeoutMs: number) => Promise<void>; done: Promise<RunResult> } {
  let out = '';
  let err = '';
  const child = spawn('git', ['push', remote, 'main'], { cwd: repo.dir, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<RunResult>((resolve) => {
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: out, stderr: err, output: `${out}${err}` }));
  });
  let finished = false;
  void done.then(() => (finished = true));
  return {
    output: () => `${out}${err}`,
    done,
    async waitFor(re, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(`${out}${err}`)) {
        if (finished) throw new Error(`git push ended before its output matched ${re}:\n${out}${err}`);
        if (Date.now() > deadline) throw new Error(`git push output never matched ${re}:\n${out}${err}`);
        await sleep(50);
      }
    },
  };
}

/** A node app whose install step takes `seconds`; `unique` defeats the dependency-layer cache. */
function slowBuildApp(message: string, seconds: number, unique: string): Record<string, string> {
  return nodeApp(message, {
    'package.json': JSON.stringify({
      name: 'fixture',
      version: '1.0.0',
      description: unique,
      // The builder's step container has its short ID as host name: the test finds it by that.
      scripts: { start: 'node server.js', install: `echo build-container=$(hostname); sleep ${seconds}` },
    }),
  });
}

describe('kill -9 of the control plane while a build runs', () => {
  it('keeps serving the previous release, records the deploy as failed, and leaves nothing behind', async () => {
    const app = uniqueName('killbuild');
    const repo = await newRepo(nodeApp('stable v1'));
    await pushOk(repo, app);
    const v1 = await record(app);
    const v1Image = (await srv!.api('GET', `/apps/${app}/releases`)).json[0].imageId as string;
    // v1's image and v1's build cache (the build stage kept for the next push).
    const v1Images = await imagesOf(app);
    expect(v1Images).toContain(v1Image);
    // Every answer during the whole scenario must be v1 (or, after the final push, its successor).
    const poller = poll(v1.port, /^(stable v1|after the crash) /);

    await repo.commit(slowBuildApp('interrupted v2', 6, `slow-${Date.now()}-${Math.random()}`), 'slow build');
    const push = pushStreaming(repo, srv!.remote(app));
    // Inside the slow RUN step: the builder has started its container.
    // (the app's install script runs in the step after the source is copied; it prints its host name).
    await push.waitFor(/build-container=[0-9a-f]{12}/, 120_000);
    await sleep(1000);
    const buildContainer = [...push.output().matchAll(/build-container=([0-9a-f]{12})/g)].at(-1)![1]!;
    const running = (await srv!.api('GET', `/apps/${app}/deploys`)).json as Array<{ id: number; status: string }>;
    expect(running[0]!.status).toBe('running');
    const interruptedId = running[0]!.id;

    const killedAt = performance.now();
    await srv!.kill9();
    const pushResult = await push.done;
    console.log(`[kill-build] git push ended ${Math.round(performance.now() - killedAt)} ms after kill -9, exit ${pushResult.code}`);
    expect(pushResult.code, pushResult.output).not.toBe(0);
    expect(pushResult.output).not.toMatch(/Released v2/);

    // The control plane is down for a few seconds; the app must not notice.
    await sleep(2000);
    const startMs = await srv!.start();
    console.log(`[kill-build] images of the app right after the restart: ${(await imagesOf(app)).join(' ')}`);
    console.log(`[kill-build] server back in ${startMs} ms (down ${Math.round(performance.now() - killedAt)} ms)`);

    const deploys = (await srv!.api('GET', `/apps/${app}/deploys`)).json as Array<{ id: number; status: string; error: string | null }>;
    const interrupted = deploys.find((d) => d.id === interruptedId);
    expect(interrupted?.status, JSON.stringify(deploys)).toBe('failed');
    expect(interrupted?.error).toMatch(/interrupted/);
    expect(deploys.filter((d) => d.status === 'running')).toEqual([]);

    const afterRestart = await record(app);
    expect(afterRestart.release).toBe(1);
    expect(afterRestart.container).toBe(v1.container);
    expect(afterRestart.status).toBe('running');
    // The interrupted build left no image and no build container (the engine may take a moment).
    await eventually(async () => expect(await imagesOf(app)).toEqual(v1Images), 30_000, 500);
    await eventually(async () => expect(await containerState(buildContainer)).toBeNull(), 30_000, 500);
    expect(await containersOf(app)).toEqual([v1.container]);

    // The lock is free: the next push deploys, as v2 (the interrupted one made no release).
    await repo.commit(nodeApp('after the crash'), 'after the crash');
    const next = await pushOk(repo, app);
    expect(next.output).toMatch(/Released v2:/);
    expect(next.output).not.toMatch(/Waiting for the deploy/);
    const v2 = await record(app);
    expect(v2.release).toBe(2);
    expect((await httpGet(v2.port))?.body).toMatch(/^after the crash /);

    // Only the current container carries the app's label; only v1's and v2's images remain.
    await eventually(async () => expect(await containersOf(app)).toEqual([v2.container]), 30_000, 250);
    const releases = (await srv!.api('GET', `/apps/${app}/releases`)).json as Array<{ number: number; imageId: string }>;
    expect(releases.map((r) => r.number)).toEqual([2, 1]);
    // Besides the releases' images: the one build cache of the app (its newest build stage).
    const caches = await imagesOf(app, 'minpaas.build-cache=true');
    expect(caches).toHaveLength(1);
    expect(await imagesOf(app)).toEqual([...releases.map((r) => r.imageId), ...caches].sort());

    await poller.stop();
    console.log(`[kill-build] polling during the whole scenario: ${poller.summary()}`);
    expect(poller.failures, poller.summary()).toEqual([]);
  });
});

describe('SIGTERM and restart of the control plane with apps running', () => {
  it('apps serve throughout; a container that died while it was down is started again', async () => {
    const app = uniqueName('restart');
    const repo = await newRepo(nodeApp('survivor'));
    await pushOk(repo, app);
    const before = await record(app);
    const haproxyBefore = await srv!.haproxyPid();
    expect(haproxyBefore).not.toBeNull();

    // 1. A plain restart: the router stays up, so not one request fails.
    const poller = poll(before.port, /^survivor /);
    await sleep(500);
    const stopStarted = performance.now();
    await srv!.stop();
    console.log(`[restart] SIGTERM → exit in ${Math.round(performance.now() - stopStarted)} ms; exits: ${srv!.exits.join(', ')}`);
    expect(srv!.exits.at(-1)).toBe('code 0');
    expect(await srv!.haproxyPid()).toBe(haproxyBefore);
    await sleep(1500);
    const startMs = await srv!.start();
    await sleep(1000);
    await poller.stop();
    console.log(`[restart] server back in ${startMs} ms; polling: ${poller.summary()}`);
    expect(poller.failures, poller.summary()).toEqual([]);
    expect(poller.ok).toBeGreaterThan(10);
    expect(await srv!.haproxyPid(), 'the router was restarted although it was running').toBe(haproxyBefore);

    // 2. While the control plane is down, the app's container stops (as if it had died).
    await srv!.stop();
    const stopped = await run('docker', ['stop', '-t', '2', before.container]);
    expect(stopped.code, stopped.output).toBe(0);
    expect(await containerState(before.container)).toBe('exited');
    const startMs2 = await srv!.start();
    const restartedAt = performance.now();
    const after = await record(app);
    expect(after.container).toBe(before.container);
    expect(after.status, JSON.stringify(after)).toBe('running');
    expect(await containerState(before.container)).toBe('running');
    await eventually(async () => expect((await httpGet(after.port))?.body).toMatch(/^survivor /), 20_000, 100);
    console.log(`[restart] server started in ${startMs2} ms; the stopped container served again ${Math.round(performance.now() - restartedAt)} ms after /healthz answered`);
    expect(await containersOf(app)).toEqual([before.container]);
  });
});

describe('an app that crashes after its release', () => {
  it('is restarted by its restart policy; GET /apps/APP shows it', async () => {
    const app = uniqueName('crashy');
    const repo = await newRepo(
      nodeApp('crashy', {
        'server.js': `const http = require('http');
http.createServer((req, res) => {
  if (req.url === '/crash') { res.end('bye\\n'); setTimeout(() => process.exit(1), 50); return; }
  res.end('crashy up since ' + process.uptime() + '\\n');
}).listen(Number(process.env.PORT), () => console.log('crashy listening'));
`,
      }),
    );
    await pushOk(repo, app);
    const before = await record(app);
    expect(before.status).toBe('running');
    expect(before.restarts).toBe(0);
    expect((await httpGet(before.port))?.body).toMatch(/^crashy up/);

    const addressBefore = await containerAddress(before.container);
    const crashed = await httpGet(before.port, '/crash');
    expect(crashed?.body).toBe('bye\n');
    const crashedAt = performance.now();
    const seen = new Set<string>();
    const after = await eventually(async () => {
      const r = await record(app);
      seen.add(`${r.status}/${r.restarts}`);
      expect(r.restarts).toBeGreaterThanOrEqual(1);
      expect(r.status).toBe('running');
      return r;
    }, 30_000, 100);
    console.log(
      `[crash] restarts=${after.restarts} status=${after.status} after ${Math.round(performance.now() - crashedAt)} ms; ` +
        `states seen: ${[...seen].join(', ')}`,
    );
    expect(after.container).toBe(before.container);
    expect(after.release).toBe(before.release);
    // The restarted container answers at its address; it must answer through the app's stable port too.
    const address = await eventually(async () => {
      const now = await containerAddress(after.container);
      expect((await getAt(now))?.body).toMatch(/^crashy up/);
      return now;
    }, 30_000, 50);
    console.log(`[crash] the container answers directly at ${address} (before the crash: ${addressBefore})`);
    const answer = await eventually(async () => {
      const res = await httpGet(before.port);
      expect(res?.body, `container at ${addressBefore} before the crash, at ${address} after it`).toMatch(/^crashy up/);
      return res!;
    }, 30_000, 50);
    console.log(`[crash] answers again through port ${before.port} after ${Math.round(performance.now() - crashedAt)} ms: ${answer.body.trim()}`);

    // A restart at another address (its old one taken meanwhile): the route follows it.
    const network = (await run('docker', ['inspect', '-f', '{{.HostConfig.NetworkMode}}', after.container])).stdout.trim();
    const image = (await run('docker', ['inspect', '-f', '{{.Image}}', after.container])).stdout.trim();
    expect((await run('docker', ['stop', '-t', '1', after.container])).code).toBe(0);
    const squatter = (await run('docker', ['run', '-d', '--label', `minpaas-test=${app}`, '--network', network, '--entrypoint', 'sleep', image, '300'])).stdout.trim();
    try {
      expect(await containerAddress(squatter)).toBe(address);
      const moved = Date.now();
      expect((await run('docker', ['start', after.container])).code).toBe(0);
      const newAddress = await containerAddress(after.container);
      expect(newAddress).not.toBe(address);
      const followed = await eventually(async () => {
        const res = await httpGet(before.port);
        expect(res?.body, `container moved from ${address} to ${newAddress}`).toMatch(/^crashy up/);
        return res!;
      }, 30_000, 50);
      console.log(`[crash] restarted at ${newAddress} (was ${address}); served through port ${before.port} again after ${Date.now() - moved} ms: ${followed.body.trim()}`);
    } finally {
      await run('docker', ['rm', '-f', squatter]);
    }
  });
});
