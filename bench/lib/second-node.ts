/**
 * A second Docker engine on this one machine: a network namespace joined to a host bridge
 * by a veth pair, with its own dockerd (data root, exec root with dockerd's own containerd,
 * pidfile, socket, bridge subnet) and its own hostname, so Swarm sees a separate node.
 *
 * Layout: host bridge BRIDGE = HOST_ADDR/24; node n2 (the worker) = 10.213.0.2; a
 * development manager node n1 = 10.213.0.3. Nothing needs NAT: every peer is on the bridge.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../../test/helpers/server-process.js';
import { logTail, startBackground, stopPid, stopRecorded, type Background } from './background.js';
import { CommandError, exec, must, sleep, waitFor } from './bench-exec.js';

export const BRIDGE = 'mpbench0';
export const HOST_ADDR = '10.213.0.1';
const PREFIX = 24;
/** Marks the one firewall rule the bench may add, so it can always find and remove it. */
const RULE_COMMENT = 'minpaas-bench-swarm';

export interface NodeSpec {
  /** n1, n2: names the namespace (minpaas-bench-n2), the veth (mpbench-n2) and the hostname. */
  id: string;
  addr: string;
  /** dockerd's own bridge subnet (--bip). */
  bip: string;
}

export const WORKER: NodeSpec = { id: 'n2', addr: '10.213.0.2', bip: '172.29.2.1/24' };
export const DEV_MANAGER: NodeSpec = { id: 'n1', addr: '10.213.0.3', bip: '172.29.1.1/24' };

export const nsName = (spec: NodeSpec): string => `minpaas-bench-${spec.id}`;
const vethName = (spec: NodeSpec): string => `mpbench-${spec.id}`;

async function linkExists(name: string): Promise<boolean> {
  return (await exec('ip', ['link', 'show', name])).code === 0;
}

async function nsExists(name: string): Promise<boolean> {
  return existsSync(`/run/netns/${name}`);
}

/** The host side: a bridge holding HOST_ADDR, which the nodes route through. */
export async function bridgeUp(): Promise<void> {
  await must('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  await must('ip', ['addr', 'add', `${HOST_ADDR}/${PREFIX}`, 'dev', BRIDGE]);
  await must('ip', ['link', 'set', BRIDGE, 'up']);
}

export async function bridgeDown(): Promise<void> {
  if (await linkExists(BRIDGE)) await must('ip', ['link', 'del', BRIDGE]);
}

/**
 * Node-to-node traffic crosses the bridge, and with br_netfilter on (bridge-nf-call-iptables=1)
 * the host's FORWARD chain sees it, whose policy Docker sets to DROP. Only needed when two
 * nodes live in namespaces (the development manager); host ↔ node traffic is INPUT/OUTPUT.
 */
export async function allowBridgeForwarding(): Promise<void> {
  await must('iptables', ['-I', 'FORWARD', '1', '-i', BRIDGE, '-o', BRIDGE, '-m', 'comment', '--comment', RULE_COMMENT, '-j', 'ACCEPT']);
}

export async function removeBridgeForwarding(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const res = await exec('iptables', ['-D', 'FORWARD', '-i', BRIDGE, '-o', BRIDGE, '-m', 'comment', '--comment', RULE_COMMENT, '-j', 'ACCEPT']);
    if (res.code !== 0) return;
  }
}

/** Remounts the host's cgroup hierarchies: `ip netns exec` gives a fresh /sys without them, and dockerd needs them. */
async function cgroupMountScript(): Promise<string> {
  const mounts = (await fs.readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 4 && (f[1] === '/sys/fs/cgroup' || f[1]!.startsWith('/sys/fs/cgroup/')));
  return mounts.map(([source, target, type, options]) => `mkdir -p ${target} && mount -t ${type} -o ${options} ${source} ${target}`).join('\n');
}

export interface NodeFiles {
  dir: string;
  socket: string;
  dockerPid: string;
  forwarderPid: string;
}

export function nodeFiles(stateDir: string, spec: NodeSpec): NodeFiles {
  const dir = path.join(stateDir, spec.id);
  return { dir, socket: path.join(dir, 'docker.sock'), dockerPid: path.join(dir, 'docker.pid'), forwarderPid: path.join(dir, 'forwarder.pid') };
}

/** One engine in its own network namespace. */
export class NamespaceNode {
  private dockerd: Background | null = null;
  private forwarder: Background | null = null;
  readonly files: NodeFiles;

  constructor(
    readonly spec: NodeSpec,
    stateDir: string,
  ) {
    this.files = nodeFiles(stateDir, spec);
  }

  get ns(): string {
    return nsName(this.spec);
  }

  get host(): string {
    return `unix://${this.files.socket}`;
  }

  get hostname(): string {
    return `minpaas-bench-${this.spec.id}`;
  }

  /** Namespace, veth pair (host end on the bridge, `eth0` inside), loopback, address, default route via the host. */
  async createNetwork(): Promise<void> {
    await fs.mkdir(this.files.dir, { recursive: true });
    await must('ip', ['netns', 'add', this.ns]);
    await must('ip', ['link', 'add', vethName(this.spec), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns]);
    await must('ip', ['link', 'set', vethName(this.spec), 'master', BRIDGE, 'up']);
    const inNs = (...args: string[]): Promise<string> => must('ip', ['netns', 'exec', this.ns, 'ip', ...args]);
    await inNs('link', 'set', 'lo', 'up');
    await inNs('addr', 'add', `${this.spec.addr}/${PREFIX}`, 'dev', 'eth0');
    await inNs('link', 'set', 'eth0', 'up');
    await inNs('route', 'add', 'default', 'via', HOST_ADDR);
  }

  /** 127.0.0.1:port inside the namespace → HOST_ADDR:port, so the registry has the same address on every node. */
  async startForwarder(port: number): Promise<void> {
    const script = path.join(REPO_ROOT, 'bench', 'lib', 'tcp-forward.ts');
    const logFile = path.join(this.files.dir, 'forwarder.log');
    this.forwarder = await startBackground(
      `${this.ns} registry forwarder`,
      'ip',
      ['netns', 'exec', this.ns, process.execPath, '--import', 'tsx', script, '127.0.0.1', String(port), HOST_ADDR, String(port)],
      { logFile, pidFile: this.files.forwarderPid },
      { cwd: REPO_ROOT },
    );
    const fwd = this.forwarder;
    await waitFor(`the forwarder in ${this.ns} to listen`, 30_000, async () => {
      if (fwd.gone) throw new Error(`it exited (${await fwd.exited}):\n${await logTail(logFile)}`);
      return (await fs.readFile(logFile, 'utf8')).includes('listening') ? true : undefined;
    });
  }

  /** dockerd inside the namespace, with its own hostname (a new UTS namespace) and everything else its own too. */
  async startDockerd(registry: string): Promise<string> {
    const f = this.files;
    const config = path.join(f.dir, 'daemon.json');
    // An empty config file: the host's /etc/docker/daemon.json is not this engine's.
    await fs.writeFile(config, '{}\n');
    const dockerdArgs = [
      'dockerd',
      `--config-file=${config}`,
      `--data-root=${path.join(f.dir, 'data')}`,
      `--exec-root=${path.join(f.dir, 'exec')}`,
      `--pidfile=${f.dockerPid}`,
      `--host=${this.host}`,
      `--bip=${this.spec.bip}`,
      `--insecure-registry=${registry}`,
    ];
    const script = `set -e\n${await cgroupMountScript()}\nhostname ${this.hostname}\nexec ${dockerdArgs.join(' ')}\n`;
    const logFile = path.join(f.dir, 'dockerd.log');
    this.dockerd = await startBackground(`${this.ns} dockerd`, 'ip', ['netns', 'exec', this.ns, 'unshare', '--uts', 'sh', '-c', script], {
      logFile,
      // dockerd writes the same pid there itself (`exec` keeps the pid through ip, unshare and sh).
      pidFile: `${f.dockerPid}.spawned`,
    });
    const d = this.dockerd;
    return waitFor(`dockerd in ${this.ns} to answer on ${this.host}`, 90_000, async () => {
      if (d.gone) throw new Error(`dockerd exited (${await d.exited}):\n${await logTail(logFile)}`);
      const res = await exec('docker', ['-H', this.host, 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 5000 });
      return res.code === 0 ? res.stdout.trim() : undefined;
    });
  }

  async dockerdLogTail(): Promise<string> {
    return logTail(path.join(this.files.dir, 'dockerd.log'));
  }

  /** dockerd first (it stops its containers and its containerd), then the forwarder, then the namespace. */
  async destroy(): Promise<void> {
    if (this.dockerd && !this.dockerd.gone) await stopPid(this.dockerd.pid, 30_000);
    if (this.forwarder && !this.forwarder.gone) await stopPid(this.forwarder.pid, 5_000);
    await removeNamespace(this.ns);
  }
}

/** Whatever still runs in the namespace (only the bench's own processes live there), then the namespace and its veth. */
async function removeNamespace(ns: string): Promise<void> {
  if (!(await nsExists(ns))) return;
  const pids = async (): Promise<number[]> =>
    (await exec('ip', ['netns', 'pids', ns])).stdout
      .split('\n')
      .map((l) => Number.parseInt(l, 10))
      .filter((n) => Number.isInteger(n) && n > 1);
  for (const pid of await pids()) await stopPid(pid, 10_000);
  await must('ip', ['netns', 'del', ns]);
}

/**
 * What a killed earlier run left: its engines (stopped gracefully first, so their
 * containers go with them), forwarders, namespaces, firewall rule and bridge.
 */
export async function sweepLeftovers(stateDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const spec of [WORKER, DEV_MANAGER]) {
    const f = nodeFiles(stateDir, spec);
    const dockerd = await stopRecorded(f.dockerPid, 'dockerd', 30_000);
    if (dockerd) found.push(`dockerd ${dockerd} of ${nsName(spec)}`);
    const forwarder = await stopRecorded(f.forwarderPid, 'tcp-forward', 5_000);
    if (forwarder) found.push(`forwarder ${forwarder} of ${nsName(spec)}`);
    if (await nsExists(nsName(spec))) {
      found.push(`namespace ${nsName(spec)}`);
      await removeNamespace(nsName(spec));
    }
    // The host end goes with the namespace, a moment later: only one still there after that is removed.
    if (await linkExists(vethName(spec))) await sleep(500);
    const del = await exec('ip', ['link', 'del', vethName(spec)]);
    if (del.code !== 0 && (await linkExists(vethName(spec)))) throw new CommandError(`ip link del ${vethName(spec)}`, del);
  }
  const rules = (await exec('iptables', ['-S', 'FORWARD'])).stdout;
  if (rules.includes(RULE_COMMENT)) {
    found.push('FORWARD rule');
    await removeBridgeForwarding();
  }
  if (await linkExists(BRIDGE)) {
    found.push(`bridge ${BRIDGE}`);
    await bridgeDown();
  }
  return found;
}
