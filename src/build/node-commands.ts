import type { PackageManagerChoice } from './package-manager.js';

/**
 * The shell commands of a Node build, handed to runtimes/node/Dockerfile as build args.
 *
 * Why two halves: the dependency layer (`deps`) is cached by package.json + lockfile, so
 * it runs before the app's source is copied. Installing there with lifecycle scripts would
 * run the app's own postinstall/prepare without its source (they fail), so it installs
 * with scripts disabled. `build` runs after the source is copied, in the same RUN as the
 * build script and the prune: it runs what the install skipped (dependencies' install
 * scripts via rebuild, the app's own install/prepare scripts), then the build, then
 * removes devDependencies. A code-only push reuses `deps` and runs only `build`.
 */
export interface NodeBuildCommands {
  deps: string;
  build: string;
}

export interface NodeBuildInput {
  pm: PackageManagerChoice;
  /** The resolved version of yarn/pnpm (berry's prune needs yarn 4). */
  pmVersion: string | null;
  scripts: Record<string, string>;
  /** package.json has any dependencies, and devDependencies. */
  hasDependencies: boolean;
  hasDevDependencies: boolean;
  /** npm lockfile says no package has an install script (npm records `hasInstallScript`). */
  lockfileHasNoInstallScripts: boolean;
  /** npm/yarn workspaces or pnpm-workspace.yaml: their manifests are not in the dependency layer. */
  workspaces: boolean;
}

/** Heroku's order: heroku-postbuild replaces build; minpaas-postbuild is our name for it. */
export const BUILD_SCRIPTS = ['heroku-postbuild', 'minpaas-postbuild', 'build'] as const;

const stage = (text: string): string => `echo '-----> ${text.replace(/'/g, '')}'`;

function installCommand({ pm }: NodeBuildInput, scripts: boolean): string {
  const frozen = pm.lockfile !== null;
  const noScripts = scripts ? '' : ' --ignore-scripts';
  switch (pm.name) {
    case 'npm':
      // NODE_ENV=production would leave devDependencies out; the build needs them.
      return `${frozen ? 'npm ci' : 'npm install'} --include=dev${noScripts}`;
    case 'pnpm':
      return `pnpm install ${frozen ? '--frozen-lockfile' : '--no-frozen-lockfile'} --prod=false${noScripts}`;
    case 'yarn':
      if (pm.berry) return `yarn install${frozen ? ' --immutable' : ''}${scripts ? '' : ' --mode=skip-build'}`;
      return `yarn install${frozen ? ' --frozen-lockfile' : ''} --production=false --non-interactive${noScripts}`;
  }
}

/** What an install with scripts would have run: dependencies' build scripts and the app's own. */
function lifecycleCommands(input: NodeBuildInput): string[] {
  const { pm, scripts } = input;
  const own = ['preinstall', 'install', 'postinstall', 'prepare'].filter((s) => scripts[s]);
  if (pm.name === 'npm' || (pm.name === 'yarn' && !pm.berry)) {
    // `npm rebuild` (npm 7-11) runs dependencies' install scripts and the app's own
    // pre/install/postinstall (yarn 1 lays node_modules out as npm does). Skipped when
    // nothing has one.
    const rebuildNeeded = own.some((s) => s !== 'prepare') || (input.hasDependencies && !(pm.name === 'npm' && input.lockfileHasNoInstallScripts));
    const runner = pm.name === 'npm' ? 'npm run' : 'yarn run';
    return [...(rebuildNeeded ? ['npm rebuild --foreground-scripts'] : []), ...(scripts.prepare ? [`${runner} prepare`] : [])];
  }
  const rebuild = pm.name === 'pnpm' ? 'pnpm rebuild' : 'yarn rebuild';
  const runner = pm.name === 'pnpm' ? 'pnpm run' : 'yarn run';
  return [...(input.hasDependencies ? [rebuild] : []), ...own.map((s) => `${runner} ${s}`)];
}

function pruneCommand({ pm, pmVersion }: NodeBuildInput): string | null {
  switch (pm.name) {
    case 'npm':
      return 'npm prune --omit=dev --ignore-scripts';
    case 'pnpm':
      // CI=true: pnpm asks before it rewrites node_modules, and there is no terminal.
      return 'CI=true pnpm prune --prod --ignore-scripts';
    case 'yarn':
      if (!pm.berry) return `yarn install${pm.lockfile ? ' --frozen-lockfile' : ''} --production=true --ignore-scripts --prefer-offline --non-interactive`;
      // `workspaces focus` is built into yarn 4; yarn 2 and 3 need a plugin, so their devDependencies stay.
      return pmVersion && Number(pmVersion.split('.')[0]) >= 4 ? 'yarn workspaces focus --all --production' : null;
  }
}

function runner(input: NodeBuildInput): string {
  return input.pm.name === 'npm' ? 'npm run' : `${input.pm.name} run`;
}

export function nodeBuildCommands(input: NodeBuildInput): NodeBuildCommands {
  const install = [stage(`Installing dependencies (${input.pm.name})`), installCommand(input, input.workspaces)];
  const build: string[] = input.workspaces ? install : lifecycleCommands(input);
  const script = BUILD_SCRIPTS.find((s) => input.scripts[s]);
  if (script) build.push(stage(`Running build (${runner(input)} ${script})`), `${runner(input)} ${script}`);
  const prune = input.hasDevDependencies ? pruneCommand(input) : null;
  if (prune) build.push(stage('Pruning devDependencies'), prune);
  else if (input.hasDevDependencies) build.push(`echo 'devDependencies are kept: yarn ${input.pmVersion ?? ''} cannot prune them (yarn 4 can)'`);
  return { deps: input.workspaces ? 'true' : install.join(' && '), build: build.length ? build.join(' && ') : 'true' };
}
