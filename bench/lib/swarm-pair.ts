/**
 * A manager engine and a worker engine made into one swarm, and undone again. The manager
 * is left as found: a swarm the bench initialised is left at the end; a swarm that was
 * already there only loses the worker node the bench added.
 */
import { exec, must, waitFor } from './bench-exec.js';

export interface Engine {
  /** For messages: "main engine", "minpaas-bench-n2". */
  name: string;
  /** docker -H value. */
  host: string;
}

export const MAIN_ENGINE: Engine = { name: 'main engine', host: 'unix:///var/run/docker.sock' };

export function docker(engine: Engine, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  return must('docker', ['-H', engine.host, ...args], opts);
}

interface SwarmInfo {
  LocalNodeState: string;
  NodeID: string;
  NodeAddr: string;
  ControlAvailable: boolean;
  Error: string;
}

export async function swarmInfo(engine: Engine): Promise<SwarmInfo> {
  return JSON.parse(await docker(engine, ['info', '--format', '{{json .Swarm}}'])) as SwarmInfo;
}

export interface ManagerState {
  nodeId: string;
  /** The bench ran `swarm init` (and so leaves the swarm at the end). */
  initialized: boolean;
}

/**
 * Makes `engine` a manager advertising `addr`, or uses the manager it already is. A manager
 * that advertises a loopback address cannot have a worker in another namespace (the worker
 * would dial its own loopback), so that is refused with the reason.
 */
export async function ensureManager(engine: Engine, addr: string): Promise<ManagerState> {
  const info = await swarmInfo(engine);
  if (info.LocalNodeState === 'inactive') {
    await docker(engine, ['swarm', 'init', '--advertise-addr', addr]);
    return { nodeId: (await swarmInfo(engine)).NodeID, initialized: true };
  }
  if (info.LocalNodeState !== 'active' || !info.ControlAvailable) {
    throw new Error(`the ${engine.name} is in a swarm but not as a usable manager (state ${info.LocalNodeState}${info.Error ? `, ${info.Error}` : ''}); leave it or run elsewhere`);
  }
  if (info.NodeAddr.startsWith('127.')) {
    throw new Error(
      `the ${engine.name} is already a swarm manager advertising ${info.NodeAddr}: a worker in another network namespace cannot reach that ` +
        `(it is the worker's own loopback). Someone else's swarm (tests run \`docker swarm init --advertise-addr 127.0.0.1\`) is on it; run the bench when it is gone.`,
    );
  }
  return { nodeId: info.NodeID, initialized: false };
}

/** Leaves the swarm the bench initialised, and only that one (same node id). */
export async function leaveIfOurs(engine: Engine, state: ManagerState): Promise<void> {
  if (!state.initialized) return;
  const info = await swarmInfo(engine);
  if (info.LocalNodeState !== 'inactive' && info.NodeID === state.nodeId) await docker(engine, ['swarm', 'leave', '--force']);
}

interface NodeStatus {
  State: string;
  Addr: string;
}

export async function nodeStatus(manager: Engine, nodeId: string): Promise<NodeStatus> {
  return JSON.parse(await docker(manager, ['node', 'inspect', nodeId, '--format', '{{json .Status}}'])) as NodeStatus;
}

/** Joins `worker` to the manager's swarm; resolves once the manager lists it as ready. */
export async function joinWorker(manager: Engine, managerAddr: string, worker: Engine, workerAddr: string): Promise<string> {
  const token = await docker(manager, ['swarm', 'join-token', '-q', 'worker']);
  // The token is a secret of the swarm: keep it out of any error text.
  const res = await exec('docker', ['-H', worker.host, 'swarm', 'join', '--token', token, '--advertise-addr', workerAddr, `${managerAddr}:2377`], { timeoutMs: 120_000 });
  if (res.code !== 0) {
    throw new Error(`command failed (exit ${res.code}): docker -H ${worker.host} swarm join --token *** --advertise-addr ${workerAddr} ${managerAddr}:2377\n${res.stderr.trim()}`);
  }
  const nodeId = (await swarmInfo(worker)).NodeID;
  await waitFor(`the manager to see worker ${nodeId} ready`, 60_000, async () => ((await nodeStatus(manager, nodeId)).State === 'ready' ? true : undefined));
  return nodeId;
}

/** The worker leaves; the manager forgets its node. */
export async function removeWorker(manager: Engine, worker: Engine, nodeId: string): Promise<void> {
  const problems: string[] = [];
  const left = await exec('docker', ['-H', worker.host, 'swarm', 'leave', '--force'], { timeoutMs: 60_000 });
  if (left.code !== 0 && !/not part of a swarm/.test(left.stderr)) problems.push(`worker swarm leave: ${left.stderr.trim()}`);
  const inManager = await exec('docker', ['-H', manager.host, 'node', 'inspect', nodeId]);
  if (inManager.code === 0) {
    const rm = await exec('docker', ['-H', manager.host, 'node', 'rm', '--force', nodeId]);
    if (rm.code !== 0) problems.push(`manager node rm: ${rm.stderr.trim()}`);
  }
  if (problems.length) throw new Error(problems.join('; '));
}

export interface NodeRow {
  id: string;
  hostname: string;
  role: string;
  availability: string;
  state: string;
  addr: string;
}

export async function listNodes(manager: Engine): Promise<NodeRow[]> {
  const ids = (await docker(manager, ['node', 'ls', '-q'])).split('\n').filter(Boolean);
  const rows: NodeRow[] = [];
  for (const id of ids) {
    const n = JSON.parse(await docker(manager, ['node', 'inspect', id, '--format', '{{json .}}'])) as {
      ID: string;
      Description: { Hostname: string };
      Spec: { Role: string; Availability: string };
      Status: { State: string; Addr: string };
    };
    rows.push({ id: n.ID, hostname: n.Description.Hostname, role: n.Spec.Role, availability: n.Spec.Availability, state: n.Status.State, addr: n.Status.Addr });
  }
  return rows;
}
