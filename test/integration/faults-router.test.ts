import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { httpGet } from '../helpers/http.js';
import { uniqueName } from '../helpers/server.js';
import { childPids, isAlive, ServerProcess, waitForExit } from '../helpers/server-process.js';

/**
 * The router (HAProxy) killed under a running control plane: the watchdog restarts it from
 * the generated config, and every app's route and current release come back. Then the
 * router and the control plane both down: `minpaas server` brings every route back.
 * Timings are printed, never asserted.
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let srv: ServerProcess;
const repos: AppRepo[] = [];
const alpha = uniqueName('alpha');
const beta = uniqueName('beta');
/** What each app's current release answers. */
const expected: Record<string, RegExp> = {
  [alpha]: /^alpha two /,
  [beta]: /^beta one .*greeting=from-config/,
};
const ports: Record<string, number> = {};

beforeAll(async () => {
  srv = await ServerProcess.create();
  await srv.start();
});

afterAll(async () => {
  await srv?.cleanup();
  for (const repo of repos) await repo.remove();
});

async function push(app: string, repo: AppRepo): Promise<void> {
  const res = await repo.push(srv.remote(app));
  expect(res.code, `${res.output}\n--- server log ---\n${await srv.logTail()}`).toBe(0);
}

async function body(port: number): Promise<string> {
  const res = await httpGet(port, '/', 2000);
  return res === null ? '(no answer)' : `HTTP ${res.status} ${res.body.trim().slice(0, 100)}`;
}

/** Waits until every app answers its current release's content; resolves to the ms it took. */
async function allServe(label: string, timeoutMs = 30_000): Promise<number> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answers = await Promise.all(Object.keys(expected).map(async (app) => [app, await body(ports[app]!)] as const));
    if (answers.every(([app, text]) => expected[app]!.test(text.replace(/^HTTP 200 /, '')) && text.startsWith('HTTP 200 '))) {
      return Math.round(performance.now() - started);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${label}: not every route came back within ${timeoutMs} ms:\n` +
          answers.map(([app, text]) => `  ${app} (port ${ports[app]}): ${text}`).join('\n') +
          `\n--- server log ---\n${await srv.logTail(40)}`,
      );
    }
    await sleep(20);
  }
}

async function masterPid(): Promise<number> {
  const pid = await srv.haproxyPid();
  expect(pid, 'no HAProxy master runs').not.toBeNull();
  return pid!;
}

/** kill -9 of `pid`; resolves once it is gone. */
async function kill9(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  expect(await waitForExit(pid, 5000)).toBe(true);
}

describe('the router killed', () => {
  it('comes back with every route and the current release of every app', async () => {
    // alpha: two releases, so its current one is on the second (green) slot.
    const alphaRepo = await AppRepo.create(nodeApp('alpha one'));
    repos.push(alphaRepo);
    await push(alpha, alphaRepo);
    await alphaRepo.commit(nodeApp('alpha two'), 'two');
    await push(alpha, alphaRepo);
    // beta: a build, then a config change (a release without a build).
    const betaRepo = await AppRepo.create(nodeApp('beta one'));
    repos.push(betaRepo);
    await push(beta, betaRepo);
    const patched = await srv.api('PATCH', `/apps/${beta}/config`, { GREETING: 'from-config' });
    expect(patched.status, patched.text).toBe(200);
    for (const app of [alpha, beta]) {
      const res = await srv.api('GET', `/apps/${app}`);
      expect(res.json.release).toBe(2);
      ports[app] = res.json.port as number;
    }
    await allServe('before any fault', 5000);

    // 1. kill -9 of the master, which this server started (it hears the exit at once).
    const master1 = await masterPid();
    const workers1 = await childPids(master1);
    expect(workers1.length).toBeGreaterThan(0);
    await kill9(master1);
    const back1 = await allServe('after kill -9 of the master');
    const master2 = await masterPid();
    expect(master2).not.toBe(master1);
    // The workers of the killed master must not linger with the old config.
    for (const w of workers1) expect(await waitForExit(w, 10_000), `worker ${w} of the killed master still runs`).toBe(true);
    console.log(`[router] kill -9 master ${master1}: every route back in ${back1} ms (new master ${master2})`);

    // 2. kill -9 of the worker.
    const workers2 = await childPids(master2);
    expect(workers2.length).toBeGreaterThan(0);
    await kill9(workers2[0]!);
    const back2 = await allServe('after kill -9 of the worker');
    const master3 = await masterPid();
    console.log(
      `[router] kill -9 worker ${workers2[0]}: every route back in ${back2} ms ` +
        `(master ${master3 === master2 ? 'kept' : `replaced: ${master3}`}, workers now ${(await childPids(master3)).join(',')})`,
    );

    // 3. A master this server did not start (it outlived a restart of the control plane):
    //    only the watchdog's poll can notice that it died.
    await srv.restart();
    const master4 = await masterPid();
    expect(master4, 'a running router was replaced by a restart of the control plane').toBe(master3);
    await kill9(master4);
    const back3 = await allServe('after kill -9 of a master started before the control plane');
    console.log(`[router] kill -9 of a master the server did not start: every route back in ${back3} ms`);

    // 4. Control plane stopped AND router killed: the next start brings every route back.
    await srv.stop();
    const master5 = await masterPid();
    const workers5 = await childPids(master5);
    await kill9(master5);
    for (const w of workers5) expect(await waitForExit(w, 10_000)).toBe(true);
    for (const app of [alpha, beta]) expect(await httpGet(ports[app]!, '/', 1000), `${app} still answers with the router down`).toBeNull();
    const startMs = await srv.start();
    const back4 = await allServe('after a start with the router down', 5000);
    console.log(`[router] server and router both down: server up in ${startMs} ms, every route back ${back4} ms later`);

    // 5. The router's runtime state matches the store: the next release switches slots as usual.
    const change = await srv.api('PATCH', `/apps/${alpha}/config`, { GREETING: 'after-faults' });
    expect(change.status, `${change.text}\n--- server log ---\n${await srv.logTail(40)}`).toBe(200);
    expected[alpha] = /^alpha two .*greeting=after-faults/;
    await allServe('after a config change', 5000);
    expect(await isAlive(await masterPid())).toBe(true);
  });
});
