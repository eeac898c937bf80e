import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually, freeLoopbackPort } from './http.js';

export interface LocalRegistry {
  /** `127.0.0.1:PORT`, as MINPAAS_REGISTRY takes it. */
  address: string;
  /** Tags of a repository (`minpaas/APP`), [] when it has none. */
  tags(repo: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** Debian's docker-registry on a free loopback port with its own storage, deletes enabled. */
export async function startRegistry(): Promise<LocalRegistry> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-registry-'));
  const port = await freeLoopbackPort();
  const address = `127.0.0.1:${port}`;
  const config = path.join(dir, 'config.yml');
  await fs.writeFile(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/storage\n  delete:\n    enabled: true\nhttp:\n  addr: ${address}\n`);
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await eventually(async () => {
      const res = await fetch(`http://${address}/v2/`);
      if (res.status !== 200) throw new Error(`registry answered ${res.status}`);
    }, 10_000, 100);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    async tags(repo) {
      const res = await fetch(`http://${address}/v2/${repo}/tags/list`);
      if (res.status === 404) return [];
      const body = (await res.json()) as { tags: string[] | null };
      return (body.tags ?? []).sort();
    },
    stop,
  };
}
