/**
 * Deploy benchmark: for the same Node app on the same runtime image, times
 *   (a) raw `docker build` + `docker run` + first HTTP 200 of the same Dockerfile, build
 *       args and context MinPaas uses, and
 *   (b) `git push` of a code change to MinPaas → the new release serving,
 * interleaved, RUNS times each, and prints the medians and the ratio b/a (target ≤ 1.3).
 * Two apps: a tiny one (no dependencies), and a TypeScript one with a build step
 * (typescript from devDependencies, `npm run build`, devDependencies pruned).
 *
 *   npx tsx bench/deploy.ts [runs]
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BUILD_ENV_FILE } from '../src/build/build-env.js';
import { nodeBuildPlanner } from '../src/build/node-build.js';
import { nodeApp } from '../test/fixtures/apps.js';
import { generateLockfile, typescriptApp } from '../test/fixtures/node-apps.js';
import { AppRepo } from '../test/helpers/git.js';
import { httpGet } from '../test/helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../test/helpers/server.js';
import { LOCAL_BASE_IMAGES } from '../src/build/base-images.js';

const run = promisify(execFile);
const RUNS = Number(process.argv[2] ?? 5);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function waitFor200(port: number, expect: string): Promise<void> {
  for (;;) {
    const res = await httpGet(port, '/', 1000);
    if (res?.status === 200 && res.body.startsWith(expect)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function baseImage(): Promise<string> {
  const configured = process.env.MINPAAS_NODE_BASE_IMAGE ?? 'node:20-bookworm-slim';
  try {
    await run('docker', ['image', 'inspect', configured]);
    return configured;
  } catch {
    return LOCAL_BASE_IMAGES.node;
  }
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), text);
  }
}

interface Case {
  name: string;
  files: (message: string) => Record<string, string>;
}

/** (a): what a person would do by hand with the same Dockerfile, build args and context. */
async function rawDeploy(dir: string, c: Case, extra: Record<string, string>, buildArgs: string[], i: number): Promise<number> {
  const message = `raw ${i}`;
  await writeFiles(dir, { ...c.files(message), ...extra });
  const tag = `minpaas-bench/raw:${i}`;
  const started = performance.now();
  await run('docker', ['build', '-q', '-t', tag, ...buildArgs, '-f', 'Dockerfile.bench', '.'], {
    cwd: dir,
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
  });
  const { stdout } = await run('docker', ['run', '-d', '--init', '-e', 'PORT=3000', '-p', '127.0.0.1::3000', tag]);
  const id = stdout.trim();
  const port = Number((await run('docker', ['port', id, '3000/tcp'])).stdout.trim().split(':').pop());
  await waitFor200(port, message);
  const elapsed = performance.now() - started;
  await run('docker', ['rm', '-f', id]);
  await run('docker', ['rmi', '-f', tag]).catch(() => undefined);
  return elapsed;
}

async function measure(t: TestServer, base: string, c: Case): Promise<number> {
  const app = uniqueName('bench');
  // A lockfile made by npm itself, so both paths run `npm ci` on the same tree.
  const lockfile: Record<string, string> = c.name === 'tiny' ? {} : { 'package-lock.json': await generateLockfile(c.files('lock'), 'npm', ['install', '--package-lock-only', '--ignore-scripts'], 'package-lock.json') };
  const repo = await AppRepo.create({ ...c.files('push 0'), ...lockfile });
  const rawDir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-bench-raw-'));
  try {
    await fs.copyFile(path.join(process.cwd(), 'runtimes/node/Dockerfile'), path.join(rawDir, 'Dockerfile.bench'));
    await writeFiles(rawDir, { ...c.files('raw 0'), ...lockfile, [BUILD_ENV_FILE]: '' });
    // The runtime image and build args MinPaas picks for this app (Node version, commands).
    const setup = await nodeBuildPlanner(t.docker, t.dataDir).prepare(rawDir, base, () => undefined);
    const buildArgs = Object.entries({ BASE_IMAGE: setup.base, ...setup.buildArgs }).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
    // Warm both paths once (base image layers, dependency layer), then measure.
    const first = await repo.push(t.remote(app));
    if (first.code !== 0) throw new Error(`first push failed:\n${first.output}`);
    const port = t.server.store.getApp(app)!.port;
    await rawDeploy(rawDir, c, lockfile, buildArgs, 0);

    const raw: number[] = [];
    const push: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      raw.push(await rawDeploy(rawDir, c, lockfile, buildArgs, i));
      await repo.commit(c.files(`push ${i}`), `change ${i}`);
      const started = performance.now();
      const res = await repo.push(t.remote(app));
      if (res.code !== 0) throw new Error(`push ${i} failed:\n${res.output}`);
      await waitFor200(port, `push ${i}`);
      push.push(performance.now() - started);
      console.log(`${c.name} run ${i}: raw ${(raw[i - 1]! / 1000).toFixed(2)} s, git push ${(push[i - 1]! / 1000).toFixed(2)} s`);
    }
    const a = median(raw);
    const b = median(push);
    console.log(`\n${c.name} app on ${setup.base}; ${RUNS} runs each, interleaved`);
    console.log(`(a) docker build + run + first 200: median ${(a / 1000).toFixed(2)} s`);
    console.log(`(b) git push → new release serving: median ${(b / 1000).toFixed(2)} s`);
    console.log(`ratio b/a: ${(b / a).toFixed(2)} (target ≤ 1.30)\n`);
    return b / a;
  } finally {
    await repo.remove();
    await fs.rm(rawDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const base = await baseImage();
  const t = await startTestServer({ MINPAAS_LOG_LEVEL: 'silent' });
  try {
    await measure(t, base, { name: 'tiny', files: (m) => nodeApp(m) });
    await measure(t, base, { name: 'typescript (build step)', files: (m) => typescriptApp(m) });
  } finally {
    await t.cleanup();
  }
}

await main();
