import { run } from './git.js';

/** The engine's swarm state as `docker info` says it: inactive, active… */
export async function swarmState(): Promise<string> {
  const r = await run('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}']);
  return r.stdout.trim();
}

/**
 * Makes the engine a single-node swarm manager for a test, and returns how to leave it
 * as it was found: a swarm the test made is left (`docker swarm leave --force`); one that
 * was there already is kept.
 */
export async function singleNodeSwarm(): Promise<{ created: boolean; restore: () => Promise<void> }> {
  if ((await swarmState()) === 'active') return { created: false, restore: async () => undefined };
  const init = await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1']);
  if (init.code !== 0) throw new Error(`docker swarm init failed: ${init.stderr}`);
  return {
    created: true,
    restore: async () => {
      await run('docker', ['swarm', 'leave', '--force']);
    },
  };
}

/** Names of the swarm's services whose name starts with `prefix`. */
export async function servicesNamed(prefix: string): Promise<string[]> {
  const r = await run('docker', ['service', 'ls', '--format', '{{.Name}}']);
  return r.stdout.split('\n').filter((n) => n.startsWith(prefix)).sort();
}
