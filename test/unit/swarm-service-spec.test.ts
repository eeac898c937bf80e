import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { avoidNode, constraintsOf, HTTP_PROBE, jobSpec, serviceSpec, withConstraint, withLimits, withReplicas, type ServiceSpecInput } from '../../src/docker/index.js';

/** The Docker ServiceSpec of a process type, and the health probe its web tasks run. */

const S = 1e9;

function input(over: Partial<ServiceSpecInput> = {}): ServiceSpecInput {
  return {
    name: 'shop-web',
    image: '127.0.0.1:5000/minpaas/shop:v3',
    env: { PORT: '5000', DATABASE_URL: 'postgres://db/shop' },
    args: null,
    labels: { 'minpaas.swarm-app': 'shop' },
    containerLabels: { 'minpaas.release': '3' },
    replicas: 2,
    network: 'minpaas-overlay',
    appPort: 5000,
    resources: { memoryBytes: 256 * 1024 * 1024, cpus: 0.5 },
    guards: { pidsLimit: 512, logMaxBytes: 10 * 1024 * 1024, logMaxFiles: 3 },
    healthStartSeconds: 30,
    stopGraceSeconds: 10,
    ...over,
  };
}

type Spec = Record<string, any>;

describe('serviceSpec', () => {
  it('is a replicated service on the overlay with DNS round robin (no VIP, no ingress)', () => {
    const spec = serviceSpec(input()) as Spec;
    expect(spec.Name).toBe('shop-web');
    expect(spec.Labels).toEqual({ 'minpaas.swarm-app': 'shop' });
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(spec.EndpointSpec).toEqual({ Mode: 'dnsrr' });
    expect(spec.TaskTemplate.Networks).toEqual([{ Target: 'minpaas-overlay' }]);
    expect(spec.TaskTemplate.RestartPolicy).toEqual({ Condition: 'any', Delay: S, MaxAttempts: 0 });
  });

  it('rolls start-first, one task at a time, and rolls back by itself on failure', () => {
    const spec = serviceSpec(input()) as Spec;
    expect(spec.UpdateConfig).toEqual({ Parallelism: 1, Delay: 0, Monitor: 3 * S, MaxFailureRatio: 0, Order: 'start-first', FailureAction: 'rollback' });
    expect(spec.RollbackConfig).toMatchObject({ Parallelism: 1, Order: 'start-first', FailureAction: 'pause' });
  });

  it('gives the container its image, env, labels, init and hardening', () => {
    const c = (serviceSpec(input()) as Spec).TaskTemplate.ContainerSpec;
    expect(c.Image).toBe('127.0.0.1:5000/minpaas/shop:v3');
    expect(c.Env).toEqual(['PORT=5000', 'DATABASE_URL=postgres://db/shop']);
    expect(c.Labels).toEqual({ 'minpaas.release': '3' });
    expect(c.Init).toBe(true);
    expect(c.StopGracePeriod).toBe(10 * S);
    expect(c.CapabilityDrop).toEqual(['ALL']);
    expect(c.Privileges).toEqual({ NoNewPrivileges: true });
  });

  it('sets Args only when given (else the image CMD runs)', () => {
    expect((serviceSpec(input()) as Spec).TaskTemplate.ContainerSpec).not.toHaveProperty('Args');
    const c = (serviceSpec(input({ args: ['/bin/sh', '-c', 'node worker.js'] })) as Spec).TaskTemplate.ContainerSpec;
    expect(c.Args).toEqual(['/bin/sh', '-c', 'node worker.js']);
  });

  it('a web service gets the HTTP health check, its start period from the health timeout', () => {
    const health = (serviceSpec(input({ healthStartSeconds: 45 })) as Spec).TaskTemplate.ContainerSpec.HealthCheck;
    expect(health).toEqual({ Test: ['CMD-SHELL', HTTP_PROBE], Interval: 5 * S, Timeout: 3 * S, Retries: 2, StartPeriod: 45 * S, StartInterval: S / 2 });
  });

  it('a worker (no app port) gets no health check', () => {
    expect((serviceSpec(input({ appPort: null })) as Spec).TaskTemplate.ContainerSpec).not.toHaveProperty('HealthCheck');
  });

  it('limits memory and CPUs when set, processes always', () => {
    expect((serviceSpec(input()) as Spec).TaskTemplate.Resources).toEqual({ Limits: { Pids: 512, MemoryBytes: 256 * 1024 * 1024, NanoCPUs: 500_000_000 } });
    const unlimited = serviceSpec(input({ resources: { memoryBytes: null, cpus: null } })) as Spec;
    expect(unlimited.TaskTemplate.Resources).toEqual({ Limits: { Pids: 512 } });
    const cpusOnly = serviceSpec(input({ resources: { memoryBytes: null, cpus: 1.25 } })) as Spec;
    expect(cpusOnly.TaskTemplate.Resources).toEqual({ Limits: { Pids: 512, NanoCPUs: 1_250_000_000 } });
  });

  it('rotates the json-file log at the platform guards', () => {
    expect((serviceSpec(input()) as Spec).TaskTemplate.LogDriver).toEqual({ Name: 'json-file', Options: { 'max-size': String(10 * 1024 * 1024), 'max-file': '3' } });
  });
});

describe('jobSpec', () => {
  const { replicas: _r, appPort: _p, healthStartSeconds: _h, ...rest } = input({ name: 'shop-run-1a2b3c4d', args: ['/bin/sh', '-c', 'npm run migrate'] });
  const spec = jobSpec(rest) as Spec;

  it('runs one replica once, never restarted', () => {
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(spec.TaskTemplate.RestartPolicy).toEqual({ Condition: 'none', MaxAttempts: 0 });
    expect(spec.TaskTemplate.ContainerSpec.Args).toEqual(['/bin/sh', '-c', 'npm run migrate']);
  });
  it('has no update or rollback config and no health check', () => {
    expect(spec.UpdateConfig).toBeUndefined();
    expect(spec.RollbackConfig).toBeUndefined();
    expect(spec.TaskTemplate.ContainerSpec).not.toHaveProperty('HealthCheck');
  });
  it('keeps the limits and hardening of a service', () => {
    expect(spec.TaskTemplate.Resources).toEqual({ Limits: { Pids: 512, MemoryBytes: 256 * 1024 * 1024, NanoCPUs: 500_000_000 } });
    expect(spec.TaskTemplate.ContainerSpec).toMatchObject({ Init: true, CapabilityDrop: ['ALL'], Privileges: { NoNewPrivileges: true } });
  });
});

describe('spec changes', () => {
  it('withReplicas changes the count only', () => {
    const spec = serviceSpec(input());
    const scaled = withReplicas(spec, 5) as Spec;
    expect(scaled.Mode).toEqual({ Replicated: { Replicas: 5 } });
    expect({ ...scaled, Mode: undefined }).toEqual({ ...spec, Mode: undefined });
    expect((spec as Spec).Mode).toEqual({ Replicated: { Replicas: 2 } });
  });

  it('withLimits replaces the limits and keeps the rest of the task template', () => {
    const spec = withConstraint(serviceSpec(input()), 'node.role==worker', true);
    const changed = withLimits(spec, { memoryBytes: null, cpus: 2 }, 100) as Spec;
    expect(changed.TaskTemplate.Resources).toEqual({ Limits: { Pids: 100, NanoCPUs: 2 * S } });
    expect(changed.TaskTemplate.ContainerSpec).toEqual((spec as Spec).TaskTemplate.ContainerSpec);
    expect(constraintsOf(changed)).toEqual(['node.role==worker']);
  });

  it('avoidNode is the constraint that keeps tasks off a node', () => {
    expect(avoidNode('abc123')).toBe('node.id!=abc123');
  });

  it('withConstraint adds a constraint once, however often it is added', () => {
    const spec = serviceSpec(input());
    expect(constraintsOf(spec)).toEqual([]);
    const once = withConstraint(spec, avoidNode('n1'), true);
    const twice = withConstraint(once, avoidNode('n1'), true);
    expect(constraintsOf(once)).toEqual(['node.id!=n1']);
    expect(constraintsOf(twice)).toEqual(['node.id!=n1']);
  });

  it('removing a constraint keeps the others (and removing an absent one changes nothing)', () => {
    let spec = serviceSpec(input());
    for (const c of ['node.role==worker', avoidNode('n1'), avoidNode('n2')]) spec = withConstraint(spec, c, true);
    const removed = withConstraint(spec, avoidNode('n1'), false);
    expect(constraintsOf(removed)).toEqual(['node.role==worker', 'node.id!=n2']);
    expect(constraintsOf(withConstraint(removed, avoidNode('n9'), false))).toEqual(['node.role==worker', 'node.id!=n2']);
    // The rest of the spec is untouched.
    expect((removed as Spec).TaskTemplate.ContainerSpec).toEqual((spec as Spec).TaskTemplate.ContainerSpec);
  });

  it('keeps other placement settings', () => {
    const spec = { TaskTemplate: { Placement: { Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], Constraints: ['a==b'] } } };
    const changed = withConstraint(spec, 'c==d', true) as Spec;
    expect(changed.TaskTemplate.Placement).toEqual({ Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], Constraints: ['a==b', 'c==d'] });
  });
});

/** Runs the probe as Docker's CMD-SHELL does (`/bin/sh -c`), with $PORT set. */
function probe(port: number, pathEnv = process.env.PATH ?? ''): Promise<number> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', HTTP_PROBE], { env: { PATH: pathEnv, PORT: String(port) }, timeout: 8000 }, (err) => {
      resolve(err ? (typeof err.code === 'number' ? err.code : -1) : 0);
    });
  });
}

/** A port where nothing listens (taken from the OS, then freed). */
async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Where a tool's real executable is (pyenv shims resolved), or null. */
function which(tool: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', `command -v ${tool}`], (err, stdout) => resolve(err ? null : stdout.trim() || null));
  });
}

describe('HTTP_PROBE', () => {
  let server: Server;
  let port: number;
  let closed: number;
  const dirs: string[] = [];
  beforeAll(async () => {
    // Any status counts: a 500 still means the app answers.
    server = createServer((_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    closed = await freePort();
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.concurrent('exits 0 when something answers HTTP on $PORT (even a 500), non-zero when nothing listens', async () => {
    const [answered, nothing] = await Promise.all([probe(port), probe(closed)]);
    expect(answered).toBe(0);
    expect(nothing).not.toBe(0);
  });

  /** A PATH holding only these tools, so the probe falls through to the one under test. */
  async function onlyTools(tools: string[]): Promise<string | null> {
    const dir = mkdtempSync(path.join(tmpdir(), 'minpaas-probe-'));
    dirs.push(dir);
    for (const tool of tools) {
      let found = await which(tool);
      if (!found) return null;
      if (tool === 'python3') found = await new Promise<string>((r) => execFile(found!, ['-c', 'import sys;print(sys.executable)'], (_e, out) => r(out.trim())));
      symlinkSync(found, path.join(dir, tool));
    }
    return dir;
  }

  for (const tools of [['python3'], ['curl'], ['wget', 'grep'], ['bash']]) {
    it.concurrent(`falls back to ${tools[0]} when the image has no node`, async () => {
      const dir = await onlyTools(tools);
      if (dir === null) return expect.soft(dir, `${tools.join(', ')} not installed on this machine`).not.toBeNull();
      const [answered, nothing] = await Promise.all([probe(port, dir), probe(closed, dir)]);
      expect(answered).toBe(0);
      expect(nothing).not.toBe(0);
    });
  }
});
