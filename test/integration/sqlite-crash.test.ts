import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvVars } from '../../src/domain/types.js';
import { Store } from '../../src/store/store.js';
import { REPO_ROOT } from '../helpers/server-process.js';

/**
 * The store survives kill -9 at any point: a child process (test/fixtures/store-writer.ts)
 * writes through `Store` the way the server does and is SIGKILLed at random moments; after
 * every kill the db must open, pass `integrity_check`, and hold what the transactions
 * promise. Everything the child reported as committed must be there.
 */

const ROUNDS = 25;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string;
let dbFile: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-sqlite-crash-'));
  dbFile = path.join(dir, 'minpaas.db');
});

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** The same hash as the writer's. */
function envHash(env: EnvVars): string {
  const sorted = Object.keys(env)
    .sort()
    .map((k) => [k, env[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

interface Round {
  seed: number;
  lines: string[];
  killAfterMs: number;
  signal: string | null;
}

/** Starts the writer, waits until it has opened the db, lets it write for `killAfterMs`, SIGKILLs it. */
async function writeAndKill(seed: number, killAfterMs: number): Promise<Round> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/store-writer.ts', dbFile, String(seed)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  let exited: { code: number | null; signal: string | null } | null = null;
  void closed.then((e) => (exited = e));
  const deadline = Date.now() + 60_000;
  while (!out.startsWith('ready\n')) {
    if (exited !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the writer did not start (${JSON.stringify(exited)}):\n${err}`);
    }
    await sleep(5);
  }
  await sleep(killAfterMs);
  child.kill('SIGKILL');
  const end = await closed;
  if (end.signal !== 'SIGKILL') throw new Error(`the writer stopped by itself (${JSON.stringify(end)}) before the kill:\n${err}`);
  // Everything after the last newline was cut mid-write: not reported, so not promised.
  const lines = out.split('\n').slice(1, -1);
  return { seed, lines, killAfterMs, signal: end.signal };
}

/** What the writer reported as committed, across every round so far. */
class Promises {
  readonly apps = new Set<string>();
  readonly releases = new Map<string, { app: string; number: number; hash: string }>();
  readonly failedDeploys = new Map<number, string>();
  readonly logs = new Map<number, { app: string; bytes: number }>();
  writes = 0;

  add(lines: string[]): void {
    for (const line of lines) {
      const [kind, app, a, b] = line.split(' ') as [string, string, string?, string?];
      this.writes += 1;
      if (kind === 'created') this.apps.add(app);
      else if (kind === 'release') this.releases.set(`${app}/${a}`, { app, number: Number(a), hash: b! });
      else if (kind === 'failed') this.failedDeploys.set(Number(a), app);
      else if (kind === 'log') this.logs.set(Number(a), { app, bytes: Number(b) });
      // Said before the delete commits: from then on the app may be gone (a kill can land between the two lines).
      else if (kind === 'deleting' || kind === 'deleted') {
        this.apps.delete(app);
        for (const [key, r] of this.releases) if (r.app === app) this.releases.delete(key);
        for (const [id, owner] of this.failedDeploys) if (owner === app) this.failedDeploys.delete(id);
        for (const [id, l] of this.logs) if (l.app === app) this.logs.delete(id);
      } else if (kind !== 'env' && kind !== 'placement') throw new Error(`unknown writer line: ${line}`);
    }
  }
}

/** Reopens the db the way the server does and checks it; returns a short summary. */
function verify(promised: Promises, round: number): string {
  const where = `round ${round}`;
  const store = new Store(dbFile);
  try {
    expect(store.integrityCheck(), where).toBe('ok');
    const apps = store.listApps();
    const names = new Set(apps.map((a) => a.name));
    for (const app of promised.apps) expect(names.has(app), `${where}: app ${app} was committed but is gone`).toBe(true);
    let releases = 0;
    for (const app of apps) {
      const list = store.listReleases(app.name);
      releases += list.length;
      if (app.release === null) {
        expect(list, `${where}: ${app.name} has releases but no current one`).toEqual([]);
        expect(app.container).toBeNull();
        continue;
      }
      // commitRelease writes the release row, the env and the placement together.
      const current = store.getRelease(app.name, app.release);
      expect(current, `${where}: ${app.name} points at v${app.release}, which has no row`).toBeDefined();
      expect(list[0]!.number, `${where}: ${app.name}'s current release is not its newest`).toBe(app.release);
      expect(store.getEnv(app.name), `${where}: ${app.name}'s env differs from v${app.release}'s snapshot`).toEqual(current!.env);
      expect(app.container, where).toBe(`minpaas-${app.name}-v${app.release}-web-1`);
      expect(app.address, `${where}: ${app.name} has a release but no address`).not.toBeNull();
      expect(app.branch, `${where}: updateSource of the release's transaction is missing`).toBe('main');
      // Every succeeded deploy names a release that exists (finishDeploy is in the same transaction).
      for (const d of store.listDeploys(app.name, 1_000_000)) {
        if (d.status === 'succeeded') expect(store.getRelease(app.name, d.release!), `${where}: deploy ${d.id}`).toBeDefined();
      }
    }
    for (const r of promised.releases.values()) {
      const row = store.getRelease(r.app, r.number);
      expect(row, `${where}: committed release ${r.app} v${r.number} is gone`).toBeDefined();
      expect(envHash(row!.env), `${where}: env snapshot of ${r.app} v${r.number}`).toBe(r.hash);
    }
    for (const [id, app] of promised.failedDeploys) expect(store.getDeploy(app, id)?.status, `${where}: deploy ${id}`).toBe('failed');
    for (const [id, l] of promised.logs) expect(store.getDeployLog(l.app, id)?.length, `${where}: log of deploy ${id}`).toBe(l.bytes);

    const raw = new Database(dbFile, { readonly: true });
    let running: Array<{ id: number }>;
    try {
      expect(raw.pragma('foreign_key_check'), where).toEqual([]);
      running = raw.prepare(`SELECT id FROM deploys WHERE status = 'running'`).all() as Array<{ id: number }>;
      // The writer runs one deploy at a time: only the one the kill interrupted can be left.
      expect(running.length, `${where}: deploys left running: ${JSON.stringify(running)}`).toBeLessThanOrEqual(1);
      if (running.length === 1) {
        const newest = raw.prepare('SELECT MAX(id) AS id FROM deploys').get() as { id: number };
        expect(running[0]!.id, `${where}: a deploy other than the newest is still running`).toBe(newest.id);
      }
    } finally {
      raw.close();
    }
    // As the server does at start-up.
    const interrupted = store.failInterruptedDeploys('interrupted: the writer was killed');
    return `${apps.length} apps, ${releases} releases, ${interrupted} interrupted deploy(s) marked failed`;
  } finally {
    store.close();
  }
}

describe('the SQLite store under kill -9', () => {
  it(`stays consistent over ${ROUNDS} SIGKILLs at random moments`, async () => {
    const promised = new Promises();
    for (let round = 1; round <= ROUNDS; round++) {
      const seed = Math.floor(Math.random() * 2 ** 31);
      const killAfterMs = 20 + Math.floor(Math.random() * 281);
      const result = await writeAndKill(seed, killAfterMs);
      promised.add(result.lines);
      const { size: walBytes } = await fs.stat(`${dbFile}-wal`).catch(() => ({ size: 0 }));
      let summary: string;
      try {
        summary = verify(promised, round);
      } catch (err) {
        const copy = path.join(os.tmpdir(), `minpaas-sqlite-crash-${Date.now()}.db`);
        await fs.copyFile(dbFile, copy).catch(() => undefined);
        await fs.copyFile(`${dbFile}-wal`, `${copy}-wal`).catch(() => undefined);
        throw new Error(`round ${round} (writer seed ${seed}, killed after ${killAfterMs} ms; db copied to ${copy}): ${String(err)}`);
      }
      console.log(
        `[sqlite] round ${round}: killed after ${killAfterMs} ms, ${result.lines.length} writes committed ` +
          `(last: ${result.lines.at(-1) ?? 'none'}), WAL ${Math.round(walBytes / 1024)} KB at the kill; ${summary}`,
      );
    }
    console.log(`[sqlite] ${promised.writes} writes completed over ${ROUNDS} kill -9 rounds; every check passed`);
    expect(promised.writes).toBeGreaterThan(ROUNDS);
  });
});
