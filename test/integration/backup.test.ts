import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo, run } from '../helpers/git.js';
import { eventually } from '../helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

/**
 * A backup taken by the CLI (its own process) while the server runs, right after a deploy,
 * restored into a fresh data dir: a server started on it has the apps, config, releases
 * and repos, and takes the next push.
 */
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { timeoutMs: 120_000 });

let first: TestServer | undefined;
let second: TestServer | undefined;
let repo: AppRepo | undefined;
let work: string | undefined;
let firstStopped = false;

afterAll(async () => {
  await second?.cleanup();
  if (firstStopped) {
    // The restored server removed the app; if it never started, what the first one left
    // (the app's container and network, its images, by its instance label) goes here.
    if (!second) await removeOwnedBy(first!);
    await fs.rm(first!.dataDir, { recursive: true, force: true });
  } else await first?.cleanup();
  await repo?.remove();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

/** Everything Docker holds that carries the stopped first server's instance label. */
async function removeOwnedBy(t: TestServer): Promise<void> {
  const label = `label=minpaas.instance=${t.docker.instance}`;
  const ids = async (...args: string[]): Promise<string[]> => (await run('docker', [...args, '-q', '--filter', label])).stdout.split('\n').filter(Boolean);
  for (const id of await ids('ps', '-a')) await run('docker', ['rm', '-f', id]);
  for (const id of await ids('network', 'ls')) await run('docker', ['network', 'rm', id]);
  for (const id of await ids('images')) await run('docker', ['rmi', '-f', id]);
}

describe('backup and restore with a running server', () => {
  it('restores apps, config, releases and repos into a new data dir; a push to the restored repo deploys', async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-backup-it-'));
    const app = uniqueName('bak');
    first = await startTestServer();
    repo = await AppRepo.create(nodeApp('before-backup'));
    const push = await repo.push(first.remote(app), 'main');
    expect(push.code, push.output).toBe(0);
    expect((await first.api('PATCH', `/apps/${app}/config`, { GREETING: 'kept' })).status).toBe(200);
    const pushed = (await repo.git('rev-parse', 'HEAD')).stdout.trim();

    const archive = path.join(work, 'minpaas.tar.gz');
    const made = await cli('backup', archive, '--data-dir', first.dataDir);
    expect(made.code, made.output).toBe(0);
    expect((await fs.stat(archive)).mode & 0o777).toBe(0o600);
    // The server was running throughout and still is.
    expect((await first.api('GET', `/apps/${app}`)).status).toBe(200);

    // Restoring over a data dir in use is refused, even with --force.
    expect((await cli('restore', archive, '--data-dir', first.dataDir)).output).toMatch(/not empty/);
    expect((await cli('restore', archive, '--data-dir', first.dataDir, '--force')).output).toMatch(/server is running/);

    // The first server stops (its router too; the app's container stays, as on a real stop).
    await first.server.router.stopProcess();
    await first.server.close();
    firstStopped = true;
    const restoredDir = path.join(work, 'restored');
    const restored = await cli('restore', archive, '--data-dir', restoredDir);
    expect(restored.code, restored.output).toBe(0);

    second = await startTestServer({ MINPAAS_DATA_DIR: restoredDir });
    const record = (await second.api('GET', `/apps/${app}`)).json;
    expect(record.release).toBe(2);
    expect(record.env).toEqual({ GREETING: 'kept' });
    expect((await second.api('GET', `/apps/${app}/releases`)).json.map((r: { number: number }) => r.number)).toEqual([2, 1]);
    await eventually(async () => {
      const body = await (await fetch(record.url)).text();
      expect(body).toContain('before-backup');
      expect(body).toContain('greeting=kept');
    });
    // The bare repo came back with the pushed commit, and takes the next push.
    const remote = second.remote(app);
    expect((await run('git', ['ls-remote', remote, 'refs/heads/main'])).stdout).toContain(pushed);
    await repo.commit(nodeApp('after-restore'), 'after restore');
    const next = await repo.push(remote, 'main');
    expect(next.code, next.output).toBe(0);
    expect(next.output).toContain('Released v3');
    expect(await (await fetch(record.url)).text()).toContain('after-restore');
  });
});
