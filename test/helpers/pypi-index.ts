import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { run } from './git.js';

/**
 * A PEP 503 "simple" package index for Python builds, since no public index is reachable
 * here. Wheels are built from fixture packages inside a throwaway container of the local
 * python base image; the index listens on the Docker bridge's gateway address (an
 * address of this machine that build containers reach; 127.0.0.1 in a build container
 * is the container itself).
 */
export interface LocalIndex {
  /** `http://GATEWAY:PORT/<name>/simple/` for each index given. */
  url(index: string): string;
  close(): Promise<void>;
}

/** A fixture package: name, version, and its one module's source. */
export interface FixturePackage {
  name: string;
  version: string;
  module: string;
  source: string;
}

export const PYTHON_BASE = 'minpaas-base/python:bookworm';

/**
 * The Docker bridge's gateway: IPAM's Gateway from `docker network inspect bridge`, else
 * the bridge interface's own address (Docker leaves Gateway out of IPAM at times).
 */
export async function bridgeGateway(): Promise<string> {
  const res = await run('docker', ['network', 'inspect', 'bridge', '--format', '{{range .IPAM.Config}}{{.Gateway}} {{end}}|{{index .Options "com.docker.network.bridge.name"}}']);
  const [gateways = '', bridge = 'docker0'] = res.stdout.trim().split('|');
  const fromIpam = gateways.split(/\s+/).find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
  if (fromIpam) return fromIpam;
  const fromNode = os.networkInterfaces()[bridge]?.find((a) => a.family === 'IPv4')?.address;
  if (fromNode) return fromNode;
  // A bridge without containers is down, and Node lists no address for it.
  const ip = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', bridge]);
  const fromIp = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(ip.stdout)?.[1];
  if (fromIp) return fromIp;
  throw new Error(`no Docker bridge gateway found (docker network inspect bridge, ${bridge})`);
}

/** Builds one wheel per package (setuptools from the base image, no index needed); returns the wheel files. */
export async function buildWheels(packages: FixturePackage[], outDir: string): Promise<string[]> {
  const src = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-wheels-src-'));
  try {
    for (const [i, p] of packages.entries()) {
      const dir = path.join(src, `p${i}`);
      await fs.mkdir(path.join(dir, p.module), { recursive: true });
      await fs.writeFile(path.join(dir, p.module, '__init__.py'), p.source);
      await fs.writeFile(
        path.join(dir, 'pyproject.toml'),
        `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "${p.name}"\nversion = "${p.version}"\n\n[tool.setuptools]\npackages = ["${p.module}"]\n`,
      );
    }
    await fs.mkdir(outDir, { recursive: true });
    const script = packages.map((_p, i) => `pip wheel --no-build-isolation --no-deps --no-index -w /out /src/p${i} && `).join('') + `chown -R ${process.getuid?.() ?? 0} /out`;
    const res = await run('docker', ['run', '--rm', '--label', 'minpaas.test=wheels', '--network', 'none', '-v', `${src}:/src`, '-v', `${outDir}:/out`, PYTHON_BASE, 'sh', '-c', script]);
    if (res.code !== 0) throw new Error(`building fixture wheels failed: ${res.output}`);
    return (await fs.readdir(outDir)).filter((f) => f.endsWith('.whl'));
  } finally {
    await fs.rm(src, { recursive: true, force: true });
  }
}

const normalise = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');

/** Serves `indexes` (index name → directory of wheels) as PEP 503 simple indexes. */
export async function serveIndexes(indexes: Record<string, string>): Promise<LocalIndex> {
  const host = await bridgeGateway();
  const files = new Map<string, Map<string, string[]>>();
  for (const [index, dir] of Object.entries(indexes)) {
    const projects = new Map<string, string[]>();
    for (const wheel of (await fs.readdir(dir)).filter((f) => f.endsWith('.whl'))) {
      const project = normalise(wheel.split('-')[0]!);
      projects.set(project, [...(projects.get(project) ?? []), wheel]);
    }
    files.set(index, projects);
  }
  const server = http.createServer((req, res) => {
    const parts = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean);
    const [index, kind, project, file] = parts;
    const projects = index ? files.get(index) : undefined;
    const html = (body: string): void => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!DOCTYPE html><html><body>${body}</body></html>`);
    };
    if (!projects) return void res.writeHead(404).end();
    if (kind === 'simple' && !project) return html([...projects.keys()].map((p) => `<a href="/${index}/simple/${p}/">${p}</a>`).join('\n'));
    if (kind === 'simple' && project && !file) {
      const wheels = projects.get(normalise(project));
      if (!wheels) return void res.writeHead(404).end();
      return html(wheels.map((w) => `<a href="/${index}/files/${w}">${w}</a>`).join('\n'));
    }
    if (kind === 'files' && project) {
      const wheel = [...projects.values()].flat().find((w) => w === project);
      if (!wheel) return void res.writeHead(404).end();
      void fs.readFile(path.join(indexes[index!]!, wheel)).then((data) => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        res.end(data);
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: (index) => `http://${host}:${port}/${index}/simple/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
