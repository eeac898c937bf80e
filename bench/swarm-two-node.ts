/**
 * Two-node Docker Swarm on this one machine (issue 14's proof).
 *
 * Part 1, the infrastructure: a registry (Debian's docker-registry) on 127.0.0.1:PORT, a
 * host bridge (10.213.0.1/24), a second dockerd in the network namespace
 * minpaas-bench-n2 (10.213.0.2, its own data root, exec root and containerd, hostname
 * minpaas-bench-n2) joined as a worker to the manager, and an overlay (VXLAN) check: a
 * 2-replica dnsrr service, one task per node, both reached by `tasks.SERVICE` from a plain
 * container on the manager.
 *
 * Part 2, MinPaas on it (bench/lib/swarm-app-proof.ts): a server with
 * MINPAAS_DEFAULT_SCHEDULER=swarm and MINPAAS_REGISTRY=127.0.0.1:PORT, an app scaled to 4
 * (PATCH /apps/APP/formation) with tasks on both nodes serving through the router, a
 * rolling deploy and a drain of the worker (POST /nodes/ID/drain, then /activate), both
 * under load with 0 failed requests. --infra-only stops after part 1.
 *
 *   sudo npx tsx bench/swarm-two-node.ts [--infra-only]
 *
 * The manager is the machine's main engine: if it is not in a swarm it is initialised
 * (advertising 10.213.0.1) and left at the end; if it already manages one, it is used and
 * left as found (only the worker node the bench added is removed). For development without
 * touching the main engine, BENCH_MANAGER_SOCKET=netns makes the manager a third dockerd in
 * its own namespace (minpaas-bench-n1, 10.213.0.3); BENCH_MANAGER_SOCKET=unix:///… uses
 * another engine of the host network. Part 2 needs the main engine.
 *
 * Everything is undone at the end, on failure and on Ctrl-C; a run that was killed is
 * cleaned up by the next one (state in $TMPDIR/minpaas-bench-swarm). Exit codes: 0 all
 * proven, 1 a step failed (the failing command and its stderr are printed), 3 Part 2
 * could not run because this build has no Swarm scheduler.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LOCAL_BASE_IMAGES } from '../src/build/base-images.js';
import { freeLoopbackPort } from '../test/helpers/http.js';
import { CleanupStack, exec, Steps } from './lib/bench-exec.js';
import { BenchRegistry, ensureRegistryInstalled, sweepRegistry } from './lib/bench-registry.js';
import { buildEchoImage, checkOverlay, ECHO_SERVICE, type OverlayResult } from './lib/overlay-check.js';
import { allowBridgeForwarding, bridgeUp, bridgeDown, DEV_MANAGER, HOST_ADDR, NamespaceNode, removeBridgeForwarding, sweepLeftovers, WORKER } from './lib/second-node.js';
import { SchedulerMissing, proveMinPaasOnSwarm } from './lib/swarm-app-proof.js';
import { docker, ensureManager, joinWorker, leaveIfOurs, listNodes, MAIN_ENGINE, removeWorker, swarmInfo, type Engine, type ManagerState } from './lib/swarm-pair.js';

const STATE_DIR = path.join(os.tmpdir(), 'minpaas-bench-swarm');
const STATE_FILE = path.join(STATE_DIR, 'swarm.json');
const REGISTRY_DIR = path.join(STATE_DIR, 'registry');

interface RecordedSwarm {
  managerHost: string;
  nodeId: string;
  initialized: boolean;
  workerNodeId?: string;
}

/** A swarm a killed run initialised on an engine that is still around: leave it; a worker node it added to someone's swarm: remove it. */
async function sweepRecordedSwarm(): Promise<string[]> {
  let rec: RecordedSwarm;
  try {
    rec = JSON.parse(await fs.readFile(STATE_FILE, 'utf8')) as RecordedSwarm;
  } catch {
    return [];
  }
  const engine: Engine = { name: 'recorded manager', host: rec.managerHost };
  const found: string[] = [];
  const info = await swarmInfo(engine).catch(() => null);
  if (!info || info.NodeID !== rec.nodeId) return found;
  if (rec.initialized) {
    await leaveIfOurs(engine, { nodeId: rec.nodeId, initialized: true });
    found.push(`swarm ${rec.nodeId} on ${rec.managerHost}`);
  } else {
    await exec('docker', ['-H', engine.host, 'service', 'rm', ECHO_SERVICE]);
    if (rec.workerNodeId && (await exec('docker', ['-H', engine.host, 'node', 'rm', '--force', rec.workerNodeId])).code === 0) found.push(`worker node ${rec.workerNodeId}`);
  }
  return found;
}

/** Echo image tags a killed run left on the main engine (the tag carries that run's registry port). */
async function sweepEchoTags(): Promise<string[]> {
  const tags = (await exec('docker', ['-H', MAIN_ENGINE.host, 'images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout
    .split('\n')
    .filter((t) => /^127\.0\.0\.1:\d+\/minpaas-bench\/echo:/.test(t));
  for (const tag of tags) await exec('docker', ['-H', MAIN_ENGINE.host, 'rmi', tag]);
  return tags.map((t) => `image tag ${t}`);
}

function managerChoice(): { kind: 'main' | 'netns' | 'socket'; engine?: Engine } {
  const v = process.env.BENCH_MANAGER_SOCKET;
  if (!v) return { kind: 'main', engine: MAIN_ENGINE };
  if (v === 'netns') return { kind: 'netns' };
  return { kind: 'socket', engine: { name: `engine at ${v}`, host: v.includes('://') ? v : `unix://${v}` } };
}

interface Figures {
  secondNodeUpMs?: number;
  dockerdAnswerMs?: number;
  joinMs?: number;
  workerPull?: { ms: number; bytes: number };
  overlay?: OverlayResult;
}

async function partOne(steps: Steps, cleanup: CleanupStack, figures: Figures): Promise<{ manager: Engine; registry: BenchRegistry; worker: NamespaceNode; swarm: ManagerState }> {
  const choice = managerChoice();
  console.log(`manager: ${choice.kind === 'netns' ? `a dockerd in ${`minpaas-bench-${DEV_MANAGER.id}`} (development)` : choice.engine!.name}; state in ${STATE_DIR}\n`);

  await steps.run('clean what an earlier run left', async () => [...(await sweepRecordedSwarm()), ...(await sweepLeftovers(STATE_DIR)), ...(await sweepRegistry(REGISTRY_DIR)), ...(await sweepEchoTags())], (f) => (f.length ? f.join(', ') : 'nothing left'));
  await fs.rm(STATE_DIR, { recursive: true, force: true });
  await fs.mkdir(STATE_DIR, { recursive: true, mode: 0o700 });
  cleanup.push('state dir', () => fs.rm(STATE_DIR, { recursive: true, force: true }));

  await steps.run('docker-registry package', ensureRegistryInstalled, (s) => s);
  const registry = new BenchRegistry(REGISTRY_DIR, await freeLoopbackPort());
  cleanup.push('registry', () => registry.stop());
  await steps.run('registry answers', () => registry.start(), () => `http://${registry.address}/v2/`);

  await steps.run(`host bridge ${HOST_ADDR}/24`, bridgeUp, () => 'mpbench0');
  cleanup.push('host bridge', bridgeDown);
  await steps.run('registry reachable on the bridge', () => registry.forwardFrom(HOST_ADDR), () => `${HOST_ADDR}:${registry.port} → ${registry.address}`);

  const worker = new NamespaceNode(WORKER, STATE_DIR);
  cleanup.push(`node ${worker.ns}`, () => worker.destroy());
  const upStarted = performance.now();
  await steps.run(`namespace ${worker.ns} + veth`, () => worker.createNetwork(), () => `${WORKER.addr}, default via ${HOST_ADDR}`);
  await steps.run(`forwarder in ${worker.ns}`, () => worker.startForwarder(registry.port), () => `127.0.0.1:${registry.port} → ${HOST_ADDR}:${registry.port}`);
  const dockerdStarted = performance.now();
  await steps.run(`dockerd in ${worker.ns} answers`, () => worker.startDockerd(registry.address), (v) => `Docker ${v} on ${worker.host}`);
  figures.dockerdAnswerMs = performance.now() - dockerdStarted;
  figures.secondNodeUpMs = performance.now() - upStarted;

  let manager: Engine;
  let managerAddr: string;
  if (choice.kind === 'netns') {
    const node = new NamespaceNode(DEV_MANAGER, STATE_DIR);
    cleanup.push(`node ${node.ns}`, () => node.destroy());
    await steps.run('FORWARD accept on the bridge (node ↔ node)', allowBridgeForwarding);
    cleanup.push('FORWARD rule', removeBridgeForwarding);
    await steps.run(`development manager ${node.ns}`, async () => {
      await node.createNetwork();
      await node.startForwarder(registry.port);
      await node.startDockerd(registry.address);
    }, () => node.host);
    manager = { name: node.ns, host: node.host };
    managerAddr = DEV_MANAGER.addr;
  } else {
    manager = choice.engine!;
    managerAddr = HOST_ADDR;
  }

  const state: ManagerState = await steps.run(`swarm manager (${manager.name})`, () => ensureManager(manager, managerAddr), (s) => (s.initialized ? `swarm init --advertise-addr ${managerAddr}` : 'already a manager: used as found'));
  const record: RecordedSwarm = { managerHost: manager.host, nodeId: state.nodeId, initialized: state.initialized };
  await fs.writeFile(STATE_FILE, JSON.stringify(record));
  cleanup.push('swarm on the manager', () => leaveIfOurs(manager, state));

  const workerEngine: Engine = { name: worker.ns, host: worker.host };
  const joinStarted = performance.now();
  const workerId = await steps.run(`${worker.ns} joins as a worker`, () => joinWorker(manager, managerAddr, workerEngine, WORKER.addr), (id) => `node ${id} ready`);
  figures.joinMs = performance.now() - joinStarted;
  await fs.writeFile(STATE_FILE, JSON.stringify({ ...record, workerNodeId: workerId }));
  cleanup.push('worker node', () => removeWorker(manager, workerEngine, workerId));

  const nodes = await listNodes(manager);
  for (const n of nodes) console.log(`       node ${n.hostname.padEnd(20)} ${n.role.padEnd(8)} ${n.availability.padEnd(7)} ${n.state.padEnd(6)} ${n.addr}`);

  const image = `${registry.address}/minpaas-bench/echo:1`;
  await steps.run('echo image pushed to the registry', () => buildEchoImage(MAIN_ENGINE, image, LOCAL_BASE_IMAGES.node), () => `${image} FROM ${LOCAL_BASE_IMAGES.node}`);
  cleanup.push('echo image tag', async () => {
    await exec('docker', ['-H', MAIN_ENGINE.host, 'rmi', image]);
  });
  // Pulled up front, so the overlay figure is scheduling and start only (and the base layers are warm for part 2's app image).
  const pullNodes: Engine[] = [workerEngine, ...(manager === MAIN_ENGINE ? [] : [manager])];
  for (const engine of pullNodes) {
    const started = performance.now();
    const size = await steps.run(`${engine.name} pulls the image through the registry`, async () => {
      await docker(engine, ['pull', '-q', image], { timeoutMs: 600_000 });
      return Number(await docker(engine, ['image', 'inspect', image, '--format', '{{.Size}}']));
    }, (bytes) => `${(bytes / 1e6).toFixed(0)} MB`);
    if (engine === workerEngine) figures.workerPull = { ms: performance.now() - started, bytes: size };
  }
  figures.overlay = await steps.run('overlay: tasks.SERVICE reaches both nodes', () => checkOverlay(manager, image, nodes.map((n) => n.hostname), cleanup), (r) =>
    r.tasks.map((t) => `${t.node}=${t.ip} (${t.ms.toFixed(1)} ms)`).join(', '),
  );
  return { manager, registry, worker, swarm: state };
}

function printFigures(f: Figures): void {
  const s = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
  console.log('\nfigures');
  console.log(`  second node up (namespace, forwarder, dockerd answers)  ${s(f.secondNodeUpMs)}  (dockerd alone ${s(f.dockerdAnswerMs)})`);
  console.log(`  join as worker until the manager sees it ready          ${s(f.joinMs)}`);
  if (f.workerPull) console.log(`  worker's first pull of the Node image via the registry  ${s(f.workerPull.ms)}  (${(f.workerPull.bytes / 1e6).toFixed(0)} MB)`);
  if (f.overlay) {
    console.log(`  overlay service: 2 tasks running, one per node          ${s(f.overlay.serviceRunningMs)}`);
    console.log(`  overlay probe container (lookup + both answers)         ${s(f.overlay.probeMs)}`);
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('this bench creates network namespaces and a dockerd: run it as root');
    return 1;
  }
  const infraOnly = process.argv.includes('--infra-only');
  const steps = new Steps();
  const cleanup = new CleanupStack();
  const figures: Figures = {};
  let interrupted = false;
  const onSignal = (sig: string): void => {
    if (interrupted) return;
    interrupted = true;
    console.log(`\n${sig}: cleaning up`);
    void cleanup.run().then((problems) => {
      for (const p of problems) console.error(`  clean-up: ${p}`);
      process.exit(130);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  if (!infraOnly && managerChoice().kind !== 'main') {
    console.error('part 2 runs MinPaas on the main engine: unset BENCH_MANAGER_SOCKET, or pass --infra-only');
    return 1;
  }
  let code = 0;
  let infra: Awaited<ReturnType<typeof partOne>> | undefined;
  try {
    console.log('part 1: two engines, one swarm, one overlay');
    infra = await partOne(steps, cleanup, figures);
    if (!infraOnly) {
      console.log('\npart 2: MinPaas on the two-node swarm');
      const managerHostname = (await listNodes(infra.manager)).find((n) => n.role === 'manager')!.hostname;
      const engines = new Map<string, Engine>([
        [managerHostname, infra.manager],
        [infra.worker.hostname, { name: infra.worker.ns, host: infra.worker.host }],
      ]);
      await proveMinPaasOnSwarm({ steps, cleanup, manager: infra.manager, registry: infra.registry.address, workerHostname: infra.worker.hostname, engines });
    }
  } catch (err) {
    if (err instanceof SchedulerMissing) {
      console.error(`\npart 2 cannot run: ${err.message}`);
      code = 3;
    } else {
      if (!steps.records.some((r) => !r.ok)) console.error(`\nfailed: ${err instanceof Error ? err.message : String(err)}`);
      code = 1;
    }
  } finally {
    if (infra && !interrupted) {
      // The main engine is shared: someone leaving or re-creating its swarm mid-run explains later failures.
      const now = await swarmInfo(infra.manager).catch(() => null);
      if (now?.NodeID !== infra.swarm.nodeId) {
        console.error(`\nthe manager's swarm changed during the run (node ${infra.swarm.nodeId} → ${now ? `${now.LocalNodeState} ${now.NodeID || ''} ${now.NodeAddr || ''}` : 'unknown'}): someone else left or re-created it; failures after that are not the scheduler's`);
        if (code === 0) code = 1;
      }
    }
    if (!interrupted) {
      const started = performance.now();
      const problems = await cleanup.run();
      console.log(`\nclean-up ${problems.length ? 'with problems' : 'done'} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      for (const p of problems) console.error(`  clean-up: ${p}`);
      if (problems.length && code === 0) code = 1;
    }
  }
  printFigures(figures);
  const failed = steps.records.filter((r) => !r.ok);
  if (failed.length) console.log(`\nwhat failed: ${failed.map((r) => r.name).join('; ')} (command and stderr above)`);
  return code;
}

process.exitCode = await main();
