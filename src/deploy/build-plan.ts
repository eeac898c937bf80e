import { APP_DOCKERFILE, DEFAULT_DOCKERFILE_PORT, dockerfileCmd, exposedPorts } from '../build/dockerfile-builder.js';
import type { AppRow, BuilderName, ProcessTypes, RuntimeName } from '../domain/types.js';
import { MinPaasError } from '../errors.js';
import { detectRuntime, resolveRuntime, runtimeByName, type Runtime, type SourceFiles } from '../runtimes/index.js';
import { parseProcfile } from '../runtimes/procfile.js';
import { pythonWarnings } from '../runtimes/python.js';

/** What the platform runs as `web` when the Procfile names none. */
export const DEFAULT_WEB: Record<RuntimeName, string> = {
  node: 'npm start',
  python: 'python app.py',
};

/** What a build will do, decided from the source before Docker is asked. */
export interface BuildPlan {
  builder: BuilderName;
  /** The app's language: the platform runtime that builds it, or (Dockerfile apps) what its files look like. */
  runtime: Runtime;
  /** $PORT inside the container. */
  listenPort: number;
  /** The Procfile's process types; `web` always present. */
  processTypes: ProcessTypes;
  /** The Procfile's own `web:` command, if it has one. */
  procfileWeb: string | undefined;
  /** The app's Dockerfile text (Dockerfile builds only). */
  dockerfile: string | undefined;
  /** Things the build ignores, for the push output. */
  warnings: string[];
  /** The push output's "Detected …" line. */
  detected: string;
}

async function readProcfile(files: SourceFiles): Promise<ProcessTypes> {
  return (await files.has('Procfile')) ? parseProcfile(await files.read('Procfile')) : {};
}

async function platformPlan(files: SourceFiles, declared: RuntimeName | undefined, procfile: ProcessTypes): Promise<BuildPlan> {
  const runtime = await resolveRuntime(files, declared);
  const warnings: string[] = [];
  if (await files.has(APP_DOCKERFILE)) {
    warnings.push('the Dockerfile in the repository is ignored: the platform builds this app (to build it instead: minpaas builder:set APP dockerfile)');
  }
  if (runtime.name === 'python') warnings.push(...(await pythonWarnings(files)));
  return {
    builder: 'platform',
    runtime,
    listenPort: runtime.appPort,
    processTypes: { ...procfile, web: procfile.web ?? DEFAULT_WEB[runtime.name] },
    procfileWeb: procfile.web,
    dockerfile: undefined,
    warnings,
    detected: `Detected ${runtime.name} app`,
  };
}

async function dockerfilePlan(files: SourceFiles, app: AppRow, declared: RuntimeName | undefined, procfile: ProcessTypes): Promise<BuildPlan> {
  if (!(await files.has(APP_DOCKERFILE))) {
    throw new MinPaasError(
      'CONTRACT_VIOLATED',
      `${app.name} builds its own Dockerfile, but the repository has no Dockerfile at its top level; add one, or switch back with: minpaas builder:set ${app.name} platform`,
    );
  }
  const dockerfile = await files.read(APP_DOCKERFILE);
  const ports = exposedPorts(dockerfile);
  const warnings = ports.length > 1 ? [`the Dockerfile exposes ${ports.join(', ')}: $PORT is ${ports[0]}, the first one, and only it is served`] : [];
  const runtime = declared ? runtimeByName(declared) : ((await detectRuntime(files)) ?? runtimeByName(app.runtime));
  return {
    builder: 'dockerfile',
    runtime,
    listenPort: ports[0] ?? DEFAULT_DOCKERFILE_PORT,
    processTypes: { ...procfile, web: procfile.web ?? dockerfileCmd(dockerfile) },
    procfileWeb: procfile.web,
    dockerfile,
    warnings,
    detected: `Building the app's own Dockerfile ($PORT=${ports[0] ?? DEFAULT_DOCKERFILE_PORT})`,
  };
}

/** The Procfile is read (and refused when malformed) before anything else, for either builder. */
export async function planBuild(files: SourceFiles, app: AppRow, builder: BuilderName, declared?: RuntimeName): Promise<BuildPlan> {
  const procfile = await readProcfile(files);
  return builder === 'dockerfile' ? dockerfilePlan(files, app, declared, procfile) : platformPlan(files, declared, procfile);
}
