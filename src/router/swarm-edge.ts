import { edgeName, networkName, type DockerEngine } from '../docker/index.js';
import { MAX_REPLICAS } from '../domain/processes.js';
import { MinPaasError } from '../errors.js';
import { probeHttp } from '../runner/health.js';
import type { RunningContainer } from '../runner/types.js';
import { sleep } from '../sleep.js';

/** The port the edge listens on inside its container (the host's router's target). */
export const EDGE_PORT = 8080;
/** Answers 200 once the edge knows a task to send requests to, 503 before: asked by MinPaas only. */
export const EDGE_READY_PORT = 8081;
const READY_POLL_MS = 100;

/**
 * Swarm's routing mesh does not work on every kernel (no IPVS), and the host's router
 * cannot reach an overlay network. So each Swarm app gets an edge: a small HAProxy
 * container on the app's bridge network (the host router reaches it there) and on the
 * installation's overlay (where the tasks are, on any node). It resolves `tasks.SERVICE`
 * through Docker's DNS, which lists a task only once its health check passed and drops
 * it before it stops; a request that meets a task going away is retried on another.
 * Its config depends only on the service name and port, so deploys never touch it.
 */
export function edgeConfig(service: string, appPort: number): string {
  return [
    'global',
    '    maxconn 4096',
    'resolvers docker',
    '    nameserver dns 127.0.0.11:53',
    '    accepted_payload_size 8192',
    '    resolve_retries 2',
    '    timeout resolve 250ms',
    '    timeout retry 250ms',
    '    hold valid 500ms',
    '    hold other 1s',
    '    hold refused 1s',
    '    hold nx 1s',
    '    hold timeout 1s',
    '    hold obsolete 1s',
    'defaults',
    '    mode http',
    '    timeout connect 2s',
    '    timeout client 120s',
    '    timeout server 120s',
    '    timeout http-keep-alive 10s',
    '    retries 3',
    '    option redispatch 1',
    '    retry-on conn-failure empty-response response-timeout',
    '    option idle-close-on-response',
    'frontend in',
    `    bind :${EDGE_PORT}`,
    '    default_backend tasks',
    'frontend ready',
    `    bind :${EDGE_READY_PORT}`,
    '    http-request return status 200 content-type text/plain string ready if { nbsrv(tasks) gt 0 }',
    '    http-request return status 503 content-type text/plain string waiting',
    'backend tasks',
    '    balance roundrobin',
    // Twice the most replicas: a rolling update runs one extra task at a time. No health
    // checks of its own: Docker's DNS lists only tasks whose health check passed, and a
    // check here would keep each new task out for its first interval.
    `    server-template task ${2 * MAX_REPLICAS} tasks.${service}:${appPort} resolvers docker init-addr none resolve-prefer ipv4`,
    '',
  ].join('\n');
}

export interface EdgeOptions {
  image: string;
  /** The installation's overlay network. */
  overlay: string;
  hostConfig: Record<string, unknown>;
  /** Told the app network's subnets before the edge starts (the control plane's guard). */
  onNetwork?: (subnets: string[]) => void;
}

/** Runs, finds and removes edges. HAProxy's config is this module's; Docker calls go through DockerEngine. */
export class SwarmEdges {
  constructor(
    private readonly docker: DockerEngine,
    private readonly options: EdgeOptions,
  ) {}

  /**
   * The app's edge for `appPort`, started when it is not running, once it knows a task to
   * send requests to; its bridge address is the route's target.
   */
  async ensure(app: string, release: number, service: string, appPort: number, timeoutMs: number): Promise<RunningContainer> {
    const edge = await this.running(app, release, service, appPort);
    await this.waitReady(edge, timeoutMs);
    return edge;
  }

  /** 0: no wait (an app scaled to web=0 has no task to find). */
  private async waitReady(edge: RunningContainer, timeoutMs: number): Promise<void> {
    if (timeoutMs <= 0) return;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await probeHttp(edge.address!.host, EDGE_READY_PORT, 1000)) === 200) return;
      if (Date.now() >= deadline) throw new Error(`the edge ${edge.name} found no task of the service within ${Math.round(timeoutMs / 1000)} s`);
      await sleep(READY_POLL_MS);
    }
  }

  private async running(app: string, release: number, service: string, appPort: number): Promise<RunningContainer> {
    const name = edgeName(app, appPort);
    const found = await this.docker.inspect(name);
    if (found?.running && found.ip) return { name, address: { host: found.ip, port: EDGE_PORT } };
    await this.docker.remove(name);
    if (!(await this.docker.imageId(this.options.image))) {
      throw new MinPaasError('SWARM_UNAVAILABLE', `the edge image ${this.options.image} is missing: run scripts/setup.sh (or scripts/edge-image.sh), or set MINPAAS_EDGE_IMAGE`);
    }
    const network = await this.docker.networks.ensure(networkName(app), app);
    this.options.onNetwork?.(network.subnets);
    try {
      await this.start(name, app, release, service, appPort, network.name);
      const state = await this.docker.inspect(name);
      if (!state?.running || !state.ip) throw new Error(`the edge ${name} did not start`);
      return { name, address: { host: state.ip, port: EDGE_PORT } };
    } catch (err) {
      await this.docker.remove(name);
      throw err;
    }
  }

  private async start(name: string, app: string, release: number, service: string, appPort: number, network: string): Promise<void> {
    // Created on the bridge, joined to the overlay before it starts, so it resolves tasks from its first second.
    await this.docker.create({
      name,
      image: this.options.image,
      env: { MINPAAS_EDGE_CONFIG: edgeConfig(service, appPort) },
      appPort: EDGE_PORT,
      cmd: ['sh', '-c', 'printf "%s" "$MINPAAS_EDGE_CONFIG" > /tmp/haproxy.cfg && exec haproxy -W -db -f /tmp/haproxy.cfg'],
      network,
      labels: this.docker.labels(app, release),
      hostConfig: this.options.hostConfig,
    });
    await this.docker.networks.connect(this.options.overlay, name);
    await this.docker.startContainer(name);
    await this.docker.keepRunning(name);
  }
}
