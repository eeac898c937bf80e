import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { errorMessage, MinPaasError } from '../errors.js';

const run = promisify(execFile);

/**
 * The npm that ships with the Node running MinPaas (a service's PATH may not have one),
 * else whichever npm is on PATH.
 */
function npmCommand(): string {
  const beside = path.join(path.dirname(process.execPath), 'npm');
  return existsSync(beside) ? beside : 'npm';
}

/** Version lists change when something is published; an hour old is fresh enough. */
const VERSIONS_TTL_MS = 60 * 60 * 1000;

/**
 * The npm registry through the host's own npm (its registry, proxy and CA settings are the
 * user's): version lists and package tarballs. Tarballs land in `cacheDir` once per
 * version; nothing is fetched again while the file is there.
 */
export class NpmRegistry {
  private readonly lists = new Map<string, { at: number; versions: Promise<string[]> }>();
  private readonly packs = new Map<string, Promise<string>>();

  constructor(private readonly cacheDir: string) {}

  versions(pkg: string): Promise<string[]> {
    const hit = this.lists.get(pkg);
    if (hit && Date.now() - hit.at < VERSIONS_TTL_MS) return hit.versions;
    const versions = this.view<string[] | string>([pkg, 'versions']).then((v) => (Array.isArray(v) ? v : [v]));
    this.lists.set(pkg, { at: Date.now(), versions });
    versions.catch(() => this.lists.delete(pkg));
    return versions;
  }

  /** A field of one published version, e.g. engines.node of npm@11.6.0. */
  async field(pkg: string, version: string, field: string): Promise<unknown> {
    return this.view([`${pkg}@${version}`, field]);
  }

  /** The path of `pkg@version`'s tarball in the cache, fetched the first time. */
  tarball(pkg: string, version: string): Promise<string> {
    const key = `${pkg}@${version}`;
    let pending = this.packs.get(key);
    if (!pending) {
      pending = this.fetchTarball(pkg, version);
      this.packs.set(key, pending);
      pending.catch(() => this.packs.delete(key));
    }
    return pending;
  }

  private async fetchTarball(pkg: string, version: string): Promise<string> {
    const file = path.join(this.cacheDir, `${pkg.replace(/^@/, '').replace(/\//g, '-')}-${version}.tgz`);
    if (await fs.stat(file).then(() => true, () => false)) return file;
    await fs.mkdir(this.cacheDir, { recursive: true });
    // Packed into a temp dir and renamed: a crash mid-download never leaves a half file
    // under the cached name.
    const tmp = await fs.mkdtemp(path.join(this.cacheDir, '.pack-'));
    try {
      const { stdout } = await this.npm(['pack', `${pkg}@${version}`, '--pack-destination', tmp, '--json'], 10 * 60_000);
      const [packed] = JSON.parse(stdout) as { filename: string }[];
      if (!packed) throw new Error('npm pack reported no file');
      await fs.rename(path.join(tmp, path.basename(packed.filename)), file);
      return file;
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  private async view<T>(args: string[]): Promise<T> {
    const { stdout } = await this.npm(['view', ...args, '--json'], 60_000);
    if (stdout.trim() === '') throw new MinPaasError('BUILD_FAILED', `the npm registry has no ${args.join(' ')}`);
    return JSON.parse(stdout) as T;
  }

  private async npm(args: string[], timeout: number): Promise<{ stdout: string }> {
    try {
      return await run(npmCommand(), args, { timeout, maxBuffer: 32 << 20, env: { ...process.env, NPM_CONFIG_UPDATE_NOTIFIER: 'false' } });
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim().split('\n').slice(-3).join(' ');
      throw new MinPaasError('BUILD_FAILED', `npm ${args.slice(0, 2).join(' ')} failed: ${stderr || errorMessage(err)}`);
    }
  }
}
