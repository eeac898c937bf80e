import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient, DockerEngine, networkName } from '../../src/docker/index.js';
import { DockerRunner } from '../../src/runner/docker-runner.js';
import type { RunningContainer } from '../../src/runner/types.js';
import { run } from '../helpers/git.js';
import { eventually } from '../helpers/http.js';
import { uniqueName } from '../helpers/server.js';

/**
 * The Runner's contract against the real Docker engine: containers on the app's own
 * network, reached at their address, health, restart, retire, removal with the network,
 * start events. A test instance id scopes everything it lists and removes.
 */

const instance = `test-${randomBytes(4).toString('hex')}`;
const app = uniqueName('runner');
const image = `minpaas-test/runner-${app}:1`;
const docker = new DockerEngine(createDockerClient(), instance);
const runner = new DockerRunner(docker, { stopTimeoutSeconds: 2, hostConfig: { CapDrop: ['ALL'] } });
const resources = { memoryBytes: 128 * 1024 * 1024, cpus: 0.5 };

const DOCKERFILE = `FROM minpaas-base/node:bookworm
CMD ["node", "-e", "require('http').createServer((q, s) => { if (q.url === '/exit') process.exit(3); s.end('up ' + process.env.PORT + ' ' + process.env.GREETING); }).listen(Number(process.env.PORT))"]
`;

async function get(c: RunningContainer, path = '/'): Promise<string | null> {
  return fetch(`http://${c.address!.host}:${c.address!.port}${path}`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.text(),
    () => null,
  );
}

beforeAll(async () => {
  const built = await new Promise<{ code: number; out: string }>((resolve) => {
    const child = spawn('docker', ['build', '-q', '-t', image, '--label', `minpaas-test=${app}`, '-']);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (out += c));
    child.on('close', (code: number) => resolve({ code, out }));
    child.stdin.end(DOCKERFILE);
  });
  if (built.code !== 0) throw new Error(built.out);
});

afterAll(async () => {
  await runner.removeApp(app).catch(() => undefined);
  await run('docker', ['rmi', '-f', image]);
});

describe('the Docker runner', () => {
  let first: RunningContainer;

  it('starts a release on the app’s own network, reached at its address, no host port published', async () => {
    first = await runner.start({ type: 'web', replica: 1, command: null, app, release: 1, imageId: image, env: { GREETING: 'hi' }, appPort: 3000, resources });
    expect(first.name).toBe(`minpaas-${app}-v1-web-1`);
    expect(first.address!.port).toBe(3000);
    const healthy = await runner.waitHealthy(first, 20_000);
    expect(healthy.status).toBe(200);
    expect(await get(first)).toBe('up 3000 hi');
    const inspect = (await run('docker', ['inspect', '-f', '{{.HostConfig.NetworkMode}} {{json .HostConfig.PortBindings}} {{.HostConfig.NanoCpus}}', first.name])).stdout.trim();
    expect(inspect).toBe(`${networkName(app)} null 500000000`);
    expect(await runner.containersOf(app)).toEqual([first.name]);
    expect(await runner.inspect(first.name)).toMatchObject({ app, running: true, status: 'running', address: first.address });
  });

  it('a container that exits before it answers fails its health check, saying so', async () => {
    // Its default command (bash without a terminal) exits at once: before or after start()
    // has read its address, the failure is the same.
    const failure = { code: 'HEALTH_CHECK_FAILED', message: 'health check failed: the app exited (code 0) before it answered HTTP' };
    const name = `minpaas-${app}-v2-web-1`;
    const started = await runner.start({ type: 'web', replica: 1, command: null, app, release: 2, imageId: 'minpaas-base/debian:bookworm', env: {}, appPort: 3000, resources }).then(
      (broken) => expect(runner.waitHealthy(broken, 10_000)).rejects.toMatchObject(failure),
      (err: unknown) => expect(err).toMatchObject(failure),
    );
    await started;
    await runner.remove(name);
    expect(await runner.inspect(name)).toBeNull();
  });

  it('keepRunning: Docker restarts it after a crash, and the start is reported', async () => {
    const starts: string[] = [];
    const stop = await runner.watchStarts((name) => starts.push(name));
    try {
      await runner.keepRunning(first.name);
      expect(await get(first, '/exit')).toBeNull();
      await eventually(async () => expect(starts).toContain(first.name), 30_000, 100);
      await eventually(async () => expect((await runner.inspect(first.name))?.restartCount).toBeGreaterThanOrEqual(1), 30_000, 100);
      const back = (await runner.inspect(first.name))!;
      await eventually(async () => expect(await get({ name: first.name, address: back.address! })).toBe('up 3000 hi'), 30_000, 100);
    } finally {
      stop();
    }
  });

  it('restart starts a stopped container again; limits change in place', async () => {
    await run('docker', ['stop', '-t', '1', first.name]);
    expect((await runner.inspect(first.name))?.running).toBe(false);
    const state = await runner.restart(first.name);
    expect(state?.running).toBe(true);
    await runner.updateLimits(first.name, { memoryBytes: 256 * 1024 * 1024, cpus: 1 });
    expect((await run('docker', ['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}', first.name])).stdout.trim()).toBe(`${256 * 1024 * 1024} 1000000000`);
  });

  it('retire stops and removes; removeApp takes the network too', async () => {
    const second = await runner.start({ type: 'web', replica: 1, command: null, app, release: 3, imageId: image, env: {}, appPort: 4000, resources });
    await runner.retire([first.name]);
    expect(await runner.containersOf(app)).toEqual([second.name]);
    await runner.removeApp(app);
    expect(await runner.containersOf(app)).toEqual([]);
    expect((await run('docker', ['network', 'ls', '-q', '--filter', `name=^${networkName(app)}$`])).stdout.trim()).toBe('');
  });
});
