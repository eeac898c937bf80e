/**
 * Deploy benchmark: for the same tiny Node app on the same base image, times
 *   (a) raw `docker build` + `docker run` + first HTTP 200, and
 *   (b) `git push` of a code change to MinPaas → the new release serving,
 * interleaved, RUNS times each, and prints the medians and the ratio b/a (target ≤ 1.3).
 *
 *   npx tsx bench/deploy.ts [runs]
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { nodeApp } from '../test/fixtures/apps.js';
import { AppRepo } from '../test/helpers/git.js';
import { httpGet } from '../test/helpers/http.js';
import { startTestServer, uniqueName } from '../test/helpers/server.js';
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

/** (a): what a person would do by hand with the same Dockerfile and context. */
async function rawDeploy(dir: string, base: string, i: number): Promise<number> {
  const message = `raw ${i}`;
  for (const [name, text] of Object.entries(nodeApp(message))) await fs.writeFile(path.join(dir, name), text);
  const tag = `minpaas-bench/raw:${i}`;
  const started = performance.now();
  await run('docker', ['build', '-q', '-t', tag, '--build-arg', `BASE_IMAGE=${base}`, '-f', 'Dockerfile.bench', '.'], {
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

async function main(): Promise<void> {
  const base = await baseImage();
  const t = await startTestServer({ MINPAAS_LOG_LEVEL: 'silent' });
  const app = uniqueName('bench');
  const repo = await AppRepo.create(nodeApp('push 0'));
  const rawDir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-bench-raw-'));
  await fs.copyFile(path.join(process.cwd(), 'runtimes/node/Dockerfile'), path.join(rawDir, 'Dockerfile.bench'));
  try {
    // Warm both paths once (base image layers, dependency layer), then measure.
    const first = await repo.push(t.remote(app));
    if (first.code !== 0) throw new Error(`first push failed:\n${first.output}`);
    const port = t.server.store.getApp(app)!.port;
    await rawDeploy(rawDir, base, 0);

    const raw: number[] = [];
    const push: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      raw.push(await rawDeploy(rawDir, base, i));
      await repo.commit(nodeApp(`push ${i}`), `change ${i}`);
      const started = performance.now();
      const res = await repo.push(t.remote(app));
      if (res.code !== 0) throw new Error(`push ${i} failed:\n${res.output}`);
      await waitFor200(port, `push ${i}`);
      push.push(performance.now() - started);
      console.log(`run ${i}: raw ${(raw[i - 1]! / 1000).toFixed(2)} s, git push ${(push[i - 1]! / 1000).toFixed(2)} s`);
    }
    const a = median(raw);
    const b = median(push);
    console.log(`\nbase image: ${base}; ${RUNS} runs each, interleaved`);
    console.log(`(a) docker build + run + first 200: median ${(a / 1000).toFixed(2)} s`);
    console.log(`(b) git push → new release serving: median ${(b / 1000).toFixed(2)} s`);
    console.log(`ratio b/a: ${(b / a).toFixed(2)} (target ≤ 1.30)`);
  } finally {
    await t.cleanup();
    await repo.remove();
    await fs.rm(rawDir, { recursive: true, force: true });
  }
}

await main();
