import type { Config } from './config.js';
import type { DockerEngine } from './docker/index.js';
import type { Logger } from './log.js';
import { SwarmEdges } from './router/swarm-edge.js';
import { SwarmRunner } from './runner/swarm-runner.js';

/** The installation's overlay network: every Swarm app's tasks and edges join it. */
export function overlayName(instance: string): string {
  return `minpaas-swarm-${instance.slice(0, 12)}`;
}

/**
 * The Swarm scheduler's parts: the runner of services and the edges into their tasks.
 * Always made: whether the engine is a swarm manager is asked at each use, so a swarm
 * joined after start-up is used without a restart.
 */
export function createSwarm(config: Config, docker: DockerEngine, hostConfig: Record<string, unknown>, onNetwork: (subnets: string[]) => void, log: Logger): { runner: SwarmRunner; edges: SwarmEdges } {
  const overlay = overlayName(docker.instance);
  const runner = new SwarmRunner(docker.swarm, {
    overlay,
    registry: config.swarm.registry,
    guards: config.limits,
    stopGraceSeconds: 10,
    healthStartSeconds: Math.ceil(config.healthTimeoutMs / 1000),
    onNetwork,
    log,
  });
  const edges = new SwarmEdges(docker, { image: config.swarm.edgeImage, overlay, hostConfig, onNetwork });
  return { runner, edges };
}

/** Says at start-up what the Swarm scheduler can do here. */
export async function reportSwarm(runner: SwarmRunner, config: Config, log: Logger): Promise<void> {
  const manager = await runner.isManager().catch(() => false);
  if (manager) log.info({ registry: config.swarm.registry }, 'this Docker engine is a swarm manager: apps may run on the swarm');
  else if (config.swarm.defaultScheduler === 'swarm') log.warn('MINPAAS_DEFAULT_SCHEDULER is swarm, but this Docker engine is not a swarm manager: swarm apps are refused until it is (docker swarm init)');
}
