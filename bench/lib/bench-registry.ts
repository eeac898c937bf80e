/**
 * An image registry every node can pull from: Debian's `docker-registry` with its own
 * config, storage in the bench's state dir, on 127.0.0.1:PORT (loopback registries are
 * trusted by Docker, so the main engine needs no daemon setting). The nodes in namespaces
 * reach it as 127.0.0.1:PORT too, through their forwarders to HOST_ADDR:PORT and the
 * host-side forwarder started here.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { logTail, startBackground, stopPid, stopRecorded, type Background } from './background.js';
import { exec, must, waitFor } from './bench-exec.js';
import { forwardTcp, type Forwarder } from './tcp-forward.js';

const REGISTRY_BIN = '/usr/bin/docker-registry';

/** Installs Debian's docker-registry when it is missing; resolves to what was done. */
export async function ensureRegistryInstalled(): Promise<string> {
  if (existsSync(REGISTRY_BIN)) return 'already installed';
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const first = await exec('apt-get', ['install', '-y', '--no-install-recommends', 'docker-registry'], { timeoutMs: 300_000, env });
  if (first.code !== 0) {
    await must('apt-get', ['update']);
    await must('apt-get', ['install', '-y', '--no-install-recommends', 'docker-registry']);
  }
  return 'installed with apt-get';
}

export function registryConfig(storage: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
}

export class BenchRegistry {
  private process: Background | null = null;
  private hostForwarder: Forwarder | null = null;

  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** The name every node uses: `127.0.0.1:PORT`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await fs.mkdir(path.join(this.dir, 'storage'), { recursive: true });
    const config = path.join(this.dir, 'config.yml');
    await fs.writeFile(config, registryConfig(path.join(this.dir, 'storage'), this.port));
    const logFile = path.join(this.dir, 'registry.log');
    this.process = await startBackground('docker-registry', REGISTRY_BIN, ['serve', config], { logFile, pidFile: path.join(this.dir, 'registry.pid') }, {
      env: { ...process.env, REGISTRY_STORAGE_DELETE_ENABLED: 'true' },
    });
    const p = this.process;
    await waitFor(`the registry to answer on http://${this.address}/v2/`, 30_000, async () => {
      if (p.gone) throw new Error(`docker-registry exited (${await p.exited}):\n${await logTail(logFile)}`);
      const res = await fetch(`http://${this.address}/v2/`, { signal: AbortSignal.timeout(2000) });
      await res.text();
      return res.status === 200 ? true : undefined;
    });
  }

  /** HOST_ADDR:PORT → 127.0.0.1:PORT, for the namespaces' forwarders (the registry itself stays on loopback). */
  async forwardFrom(hostAddr: string): Promise<void> {
    this.hostForwarder = await forwardTcp(hostAddr, this.port, '127.0.0.1', this.port);
  }

  async stop(): Promise<void> {
    if (this.hostForwarder) {
      this.hostForwarder.close();
      this.hostForwarder = null;
    }
    if (this.process && !this.process.gone) await stopPid(this.process.pid, 10_000);
  }
}

/** The registry a killed earlier run left in `dir`, if it still runs. */
export async function sweepRegistry(dir: string): Promise<string[]> {
  const pid = await stopRecorded(path.join(dir, 'registry.pid'), 'docker-registry', 10_000);
  return pid ? [`registry ${pid}`] : [];
}
