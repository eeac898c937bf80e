/**
 * Proof that the two nodes share an overlay (VXLAN) network: a 2-replica `dnsrr` service,
 * one task per node, each answering with the hostname of the node it runs on; then a
 * plain container attached to the overlay on the manager looks up `tasks.SERVICE` and asks
 * each address. Both node hostnames must come back.
 */
import { CleanupStack, exec, sleep, waitFor } from './bench-exec.js';
import { docker, type Engine } from './swarm-pair.js';

export const OVERLAY_NETWORK = 'minpaas-bench-overlay';
export const ECHO_SERVICE = 'minpaas-bench-echo';

/** Answers "NODE_HOSTNAME CONTAINER_HOSTNAME" on :8080. */
const ECHO_SERVER = `require('http').createServer((q, s) => s.end(process.env.NODE_HOSTNAME + ' ' + require('os').hostname() + '\\n')).listen(8080)`;

/** Resolves tasks.SERVICE until `want` addresses appear, asks each, prints one JSON line. */
const PROBE = `
const dns = require('dns').promises, http = require('http');
const name = process.argv[1], want = Number(process.argv[2]);
const get = (ip) => new Promise((ok) => {
  const t0 = process.hrtime.bigint();
  const r = http.get({ host: ip, port: 8080, timeout: 5000 }, (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => ok({ ip, body: b.trim(), ms: Number(process.hrtime.bigint() - t0) / 1e6 })); });
  r.on('timeout', () => r.destroy(new Error('timeout')));
  r.on('error', (e) => ok({ ip, error: e.message }));
});
(async () => {
  const deadline = Date.now() + 30000;
  let ips = [];
  while (Date.now() < deadline) {
    try { ips = (await dns.lookup(name, { all: true, family: 4 })).map((a) => a.address); } catch { ips = []; }
    if (ips.length >= want) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const answers = [];
  for (const ip of ips) answers.push(await get(ip));
  console.log(JSON.stringify({ ips, answers }));
})();
`;

export interface OverlayResult {
  /** Node hostname → task address. */
  tasks: { node: string; ip: string; ms: number }[];
  serviceRunningMs: number;
  probeMs: number;
}

/** An image with the echo server, built on the builder engine from the local Node base image and pushed as `ref`. */
export async function buildEchoImage(builder: Engine, ref: string, baseImage: string): Promise<void> {
  const dockerfile = `FROM ${baseImage}\nCMD ["node", "-e", ${JSON.stringify(ECHO_SERVER)}]\n`;
  const build = await exec('docker', ['-H', builder.host, 'build', '-q', '-t', ref, '-'], { input: dockerfile, env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  if (build.code !== 0) throw new Error(`command failed (exit ${build.code}): docker build -t ${ref} - (FROM ${baseImage})\n${build.stderr.trim()}`);
  await docker(builder, ['push', ref], { timeoutMs: 600_000 });
}

async function runningTasks(manager: Engine): Promise<{ node: string; state: string; error: string }[]> {
  const out = await docker(manager, ['service', 'ps', ECHO_SERVICE, '--no-trunc', '--format', '{{.Node}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|'))
    .filter(([, desired]) => desired === 'Running')
    .map(([node, , state, error]) => ({ node: node!, state: state!, error: error ?? '' }));
}

export async function checkOverlay(manager: Engine, image: string, nodes: string[], cleanup: CleanupStack): Promise<OverlayResult> {
  await docker(manager, ['network', 'create', '--driver', 'overlay', '--attachable', OVERLAY_NETWORK]);
  cleanup.push(`network rm ${OVERLAY_NETWORK}`, async () => {
    // The service's tasks hold the network until they are gone.
    await waitFor(`network ${OVERLAY_NETWORK} to be removable`, 30_000, async () =>
      (await exec('docker', ['-H', manager.host, 'network', 'rm', OVERLAY_NETWORK])).code === 0 ? true : undefined, 500);
  });
  const started = performance.now();
  await docker(manager, [
    'service', 'create', '--detach', '--name', ECHO_SERVICE,
    '--mode', 'replicated', '--replicas', String(nodes.length), '--replicas-max-per-node', '1',
    '--endpoint-mode', 'dnsrr', '--network', OVERLAY_NETWORK,
    '--env', 'NODE_HOSTNAME={{.Node.Hostname}}',
    image,
  ]);
  const removeService = async (): Promise<void> => {
    if ((await exec('docker', ['-H', manager.host, 'service', 'inspect', ECHO_SERVICE])).code === 0) await docker(manager, ['service', 'rm', ECHO_SERVICE]);
  };
  cleanup.push(`service rm ${ECHO_SERVICE}`, removeService);
  await waitFor(`${nodes.length} tasks of ${ECHO_SERVICE} running, one per node`, 180_000, async () => {
    const tasks = await runningTasks(manager);
    const running = tasks.filter((t) => t.state.startsWith('Running'));
    if (new Set(running.map((t) => t.node)).size === nodes.length) return true;
    const errors = tasks.filter((t) => t.error).map((t) => `${t.node}: ${t.error}`);
    if (errors.length) throw new Error(`task errors: ${errors.join('; ')}`);
    return undefined;
  }, 500);
  const serviceRunningMs = performance.now() - started;
  // A container may start before its DNS entry spreads to the other node: the probe retries for 30 s.
  await sleep(200);
  const probeStarted = performance.now();
  const out = await docker(manager, ['run', '--rm', '--network', OVERLAY_NETWORK, image, 'node', '-e', PROBE, `tasks.${ECHO_SERVICE}`, String(nodes.length)], { timeoutMs: 120_000 });
  const probeMs = performance.now() - probeStarted;
  const report = JSON.parse(out.split('\n').at(-1)!) as { ips: string[]; answers: { ip: string; body?: string; ms?: number; error?: string }[] };
  const tasks = report.answers.filter((a) => a.body).map((a) => ({ node: a.body!.split(' ')[0]!, ip: a.ip, ms: a.ms ?? 0 }));
  const seen = new Set(tasks.map((t) => t.node));
  const missing = nodes.filter((n) => !seen.has(n));
  if (missing.length) {
    throw new Error(`from an overlay container on the manager, tasks.${ECHO_SERVICE} did not reach every node: missing ${missing.join(', ')}; lookup gave ${JSON.stringify(report.ips)}, answers ${JSON.stringify(report.answers)}`);
  }
  // Its job is done: later figures (tasks per node, a drain) are MinPaas's tasks only.
  await removeService();
  return { tasks, serviceRunningMs, probeMs };
}
