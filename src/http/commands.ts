import { parseConfigChanges, parseEnv, type ConfigChanges } from '../apps/config-changes.js';
import { parseResourceChanges, type Limits } from '../apps/resource-changes.js';
import { optionalBuilder, parseBuilder } from '../domain/builders.js';
import { assertAppName } from '../domain/names.js';
import { parseReleaseNumber } from '../domain/releases.js';
import { assertBranch, parseRepoSource, type RepoSource } from '../domain/repo-url.js';
import { SCHEDULERS, type BuilderName, type EnvVars, type RuntimeName, type SchedulerName } from '../domain/types.js';
import { invalid } from '../errors.js';
import { isRuntimeName } from '../runtimes/index.js';

/**
 * Request bodies decoded into typed commands at the HTTP edge: the app service takes only
 * these, never `unknown`. Every decoder throws a 400 naming the rule it checks.
 */

/** POST /deploy: clone a repo and deploy it as the app. */
export interface DeployCommand {
  app: string;
  /** Needed for the platform's build; a Dockerfile build needs none. */
  runtime?: RuntimeName;
  builder?: BuilderName;
  /** The URL without user-info, how it is shown, and the credentials apart. */
  repo: RepoSource;
  branch: string | null;
  env: EnvVars;
}

export function decodeDeploy(body: Record<string, unknown>): DeployCommand {
  const app = assertAppName(body.app);
  const builder = optionalBuilder(body.builder);
  const runtimeGiven = body.runtime !== undefined && body.runtime !== null;
  if ((runtimeGiven || builder !== 'dockerfile') && !isRuntimeName(body.runtime)) throw invalid('runtime must be "node" or "python"');
  const repo = parseRepoSource(body.repo);
  const branch = body.branch === undefined || body.branch === null ? null : assertBranch(body.branch);
  return {
    app,
    ...(runtimeGiven ? { runtime: body.runtime as RuntimeName } : {}),
    ...(builder ? { builder } : {}),
    repo,
    branch,
    env: parseEnv(body.env),
  };
}

/** POST /apps: an app before its first deploy. */
export interface CreateAppCommand {
  name: string;
  runtime?: RuntimeName;
  builder?: BuilderName;
  scheduler?: SchedulerName;
}

export const SCHEDULER_ERROR = 'scheduler must be "docker-local" (this engine\'s containers) or "swarm" (services on the Docker Swarm)';

/** `{"scheduler": "swarm"}` (scheduler:set, and on POST /apps). */
export function decodeScheduler(value: unknown): SchedulerName {
  if (typeof value !== 'string' || !(SCHEDULERS as readonly string[]).includes(value)) throw invalid(SCHEDULER_ERROR);
  return value as SchedulerName;
}

export function decodeCreateApp(body: Record<string, unknown>): CreateAppCommand {
  const name = assertAppName(body.name);
  const cmd: CreateAppCommand = { name };
  if (body.runtime !== undefined && body.runtime !== null) {
    if (!isRuntimeName(body.runtime)) throw invalid('runtime must be "node" or "python" (or left out: the first push detects it)');
    cmd.runtime = body.runtime;
  }
  const builder = optionalBuilder(body.builder);
  if (builder) cmd.builder = builder;
  if (body.scheduler !== undefined && body.scheduler !== null) cmd.scheduler = decodeScheduler(body.scheduler);
  return cmd;
}

/** PUT /apps/APP/builder {"builder": "dockerfile" | "platform"}. */
export function decodeBuilder(body: Record<string, unknown>): BuilderName {
  return parseBuilder(body.builder);
}

/** POST /apps/APP/rollback {"release": N} (or "vN"). */
export function decodeRollback(body: Record<string, unknown>): number {
  const raw = body.release;
  const number = typeof raw === 'string' ? parseReleaseNumber(raw) : raw;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) {
    throw invalid('rollback needs {"release": N} with N a release number, e.g. 2');
  }
  return number;
}

/** PATCH /apps/APP/config. */
export function decodeConfigChanges(body: unknown): ConfigChanges {
  return parseConfigChanges(body);
}

/** PATCH /apps/APP/resources: only the limits given change. */
export function decodeLimits(body: Record<string, unknown>): Partial<Limits> {
  return parseResourceChanges(body);
}

/** An app name from the URL. */
export function decodeAppName(param: string | undefined): string {
  return assertAppName(param);
}

/** A deploy number from the URL; anything else is a deploy that does not exist. */
export function decodeDeployId(param: string | undefined): number | null {
  const id = Number(param);
  return Number.isInteger(id) && id > 0 ? id : null;
}
