import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCpus, parseMemory, parseSize } from './domain/resources.js';
import { SCHEDULERS, type SchedulerName } from './domain/types.js';
import { parsePipIndexUrl } from './build/pip-index.js';
import { MinPaasError } from './errors.js';
import { loadForgeSettings, type ForgeSettings } from './forges/settings.js';
import { defaultControlBind, loadTlsSettings, type TlsSettings } from './tls/settings.js';

/** Everything MinPaas reads from its environment, validated once at start. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Admin token from MINPAAS_TOKEN; undefined means "load or generate <data>/token". */
  token: string | undefined;
  /** MINPAAS_METRICS_TOKEN: a token that may read /metrics only (the admin token always may). */
  metricsToken: string | undefined;
  nodeBaseImage: string;
  pythonBaseImage: string;
  /** True when the base image settings were left at their defaults (fallback allowed). */
  baseImagesDefaulted: boolean;
  publicHost: string;
  appBind: string;
  healthTimeoutMs: number;
  /** Processes (issue 10): a worker counts as started once up this long. */
  workerStartupSeconds: number;
  /** Most a Procfile `release:` command may take. */
  releaseTimeoutMs: number;
  /** Most a one-off run (`minpaas run`) may take when the request sets no timeout. */
  runTimeoutMs: number;
  drainTimeoutMs: number;
  /** How many releases keep their image (older images are removed after a deploy). */
  keepReleases: number;
  buildTimeoutMs: number;
  /** Largest pack a push may send, in bytes (git's receive.maxInputSize). */
  maxPushBytes: number;
  /** Default container limits; apps can override them. null = no limit. */
  defaultMemoryBytes: number | null;
  defaultCpus: number | null;
  /** Guards of every app container and build (issue 7: fork bombs, log floods, greedy builds). */
  limits: PlatformLimits;
  /** Where the platform's own files live (runtimes/, hooks/). */
  projectRoot: string;
  /** Webhooks, commit statuses, preview apps. */
  forges: ForgeSettings;
  /** MINPAAS_PIP_INDEX_URL: the package index of python builds; undefined = pip's default. */
  pipIndexUrl: string | undefined;
  /** MINPAAS_SECRET_KEY_FILE: the key that encrypts secrets in the store (default <data>/secret.key). */
  secretKeyFile: string;
  /** MINPAAS_AUTH_FAILURES_PER_MINUTE: failed logins per client address before 429s. */
  authFailuresPerMinute: number;
  /** Host routing and TLS (MINPAAS_DOMAIN and friends). */
  tls: TlsSettings;
  /** More machines (issue 14). */
  swarm: SwarmSettings;
}

export interface SwarmSettings {
  /** MINPAAS_DEFAULT_SCHEDULER: where new apps run (docker-local unless set). */
  defaultScheduler: SchedulerName;
  /** MINPAAS_REGISTRY: `HOST[:PORT][/PATH]` every swarm node pulls app images from; null = this node's images only. */
  registry: string | null;
  /** MINPAAS_EDGE_IMAGE: the HAProxy image of the edges into Swarm tasks. */
  edgeImage: string;
}

export const DEFAULT_EDGE_IMAGE = 'minpaas-base/haproxy:bookworm';

function loadSwarmSettings(env: Env): SwarmSettings {
  const scheduler = env.MINPAAS_DEFAULT_SCHEDULER || 'docker-local';
  if (!(SCHEDULERS as readonly string[]).includes(scheduler)) {
    throw new MinPaasError('INVALID_INPUT', `MINPAAS_DEFAULT_SCHEDULER must be ${SCHEDULERS.map((s) => `"${s}"`).join(' or ')}, got "${scheduler}"`);
  }
  return { defaultScheduler: scheduler as SchedulerName, registry: parseRegistry(env.MINPAAS_REGISTRY), edgeImage: env.MINPAAS_EDGE_IMAGE || DEFAULT_EDGE_IMAGE };
}

/** A registry address as Docker image references start: no scheme, no trailing slash. */
export function parseRegistry(raw: string | undefined): string | null {
  if (!raw) return null;
  const value = raw.replace(/\/+$/, '');
  const port = /:(\d+)/.exec(value)?.[1];
  if (!/^[a-z0-9.-]+(:\d{1,5})?(\/[a-z0-9._-]+)*$/i.test(value) || /\/.*[A-Z]/.test(value) || (port !== undefined && Number(port) > 65535)) {
    throw new MinPaasError('INVALID_INPUT', `MINPAAS_REGISTRY must be a registry address like "127.0.0.1:5000" or "registry.example.com/team" (no scheme, no credentials, a lower-case path)`);
  }
  return value;
}

/** Limits that hold for every app and build, whatever the app's own memory/CPU settings. */
export interface PlatformLimits {
  /** Most processes (and threads) one app container may run. */
  pidsLimit: number;
  /** Docker's json-file rotation of each container's log: size of one file, files kept. */
  logMaxBytes: number;
  logMaxFiles: number;
  /** Memory and CPUs a build may use; null = no limit. */
  buildMemoryBytes: number | null;
  buildCpus: number | null;
}

export const DEFAULT_NODE_BASE_IMAGE = 'node:20-bookworm-slim';
export const DEFAULT_PYTHON_BASE_IMAGE = 'python:3.12-slim-bookworm';

/** The repository root: src/config.ts and dist/config.js both sit one level below it. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new MinPaasError('INVALID_INPUT', `${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** A setting read by `parse` (sizes, CPU counts); its error names the setting. */
function parsedSetting(env: Env, name: string, fallback: string, parse: (v: string) => number | null): number | null {
  const raw = env[name] || fallback;
  try {
    return parse(raw);
  } catch (err) {
    throw new MinPaasError('INVALID_INPUT', `${name}: ${(err as Error).message}`);
  }
}

export function loadConfig(env: Env = process.env): Config {
  const nodeBase = env.MINPAAS_NODE_BASE_IMAGE || undefined;
  const pythonBase = env.MINPAAS_PYTHON_BASE_IMAGE || undefined;
  return {
    // 0 asks the OS for a free port (tests).
    port: integer(env, 'MINPAAS_PORT', 7000, 0, 65535),
    // With MINPAAS_DOMAIN the control plane is reached through the router: loopback by default.
    host: defaultControlBind(env),
    dataDir: path.resolve(env.MINPAAS_DATA_DIR || './data'),
    token: env.MINPAAS_TOKEN || undefined,
    metricsToken: env.MINPAAS_METRICS_TOKEN || undefined,
    nodeBaseImage: nodeBase ?? DEFAULT_NODE_BASE_IMAGE,
    pythonBaseImage: pythonBase ?? DEFAULT_PYTHON_BASE_IMAGE,
    baseImagesDefaulted: nodeBase === undefined || pythonBase === undefined,
    publicHost: env.MINPAAS_PUBLIC_HOST || '127.0.0.1',
    appBind: env.MINPAAS_APP_BIND || '127.0.0.1',
    healthTimeoutMs: integer(env, 'MINPAAS_HEALTH_TIMEOUT', 30, 1, 3600) * 1000,
    workerStartupSeconds: integer(env, 'MINPAAS_WORKER_STARTUP', 3, 0, 300),
    releaseTimeoutMs: integer(env, 'MINPAAS_RELEASE_TIMEOUT', 300, 1, 86400) * 1000,
    runTimeoutMs: integer(env, 'MINPAAS_RUN_TIMEOUT', 3600, 1, 86400) * 1000,
    drainTimeoutMs: integer(env, 'MINPAAS_DRAIN_TIMEOUT', 30, 0, 3600) * 1000,
    keepReleases: integer(env, 'MINPAAS_KEEP_RELEASES', 5, 1, 1000),
    buildTimeoutMs: integer(env, 'MINPAAS_BUILD_TIMEOUT', 15 * 60, 10, 24 * 3600) * 1000,
    maxPushBytes: parsedSetting(env, 'MINPAAS_MAX_PUSH_SIZE', '512m', parseSize) ?? 512 * 1024 * 1024,
    defaultMemoryBytes: parsedSetting(env, 'MINPAAS_DEFAULT_MEMORY', '512m', parseMemory),
    defaultCpus: parsedSetting(env, 'MINPAAS_DEFAULT_CPUS', '1', parseCpus),
    limits: loadLimits(env),
    projectRoot: PROJECT_ROOT,
    forges: loadForgeSettings(env),
    pipIndexUrl: parsePipIndexUrl(env.MINPAAS_PIP_INDEX_URL),
    secretKeyFile: path.resolve(env.MINPAAS_SECRET_KEY_FILE || path.join(env.MINPAAS_DATA_DIR || './data', 'secret.key')),
    authFailuresPerMinute: integer(env, 'MINPAAS_AUTH_FAILURES_PER_MINUTE', 20, 1, 1_000_000),
    tls: loadTlsSettings(env),
    swarm: loadSwarmSettings(env),
  };
}

function loadLimits(env: Env): PlatformLimits {
  return {
    pidsLimit: integer(env, 'MINPAAS_PIDS_LIMIT', 512, 16, 1_000_000),
    logMaxBytes: parsedSetting(env, 'MINPAAS_LOG_MAX_SIZE', '10m', (v) => parseSize(v, 1024 * 1024)) ?? 10 * 1024 * 1024,
    logMaxFiles: integer(env, 'MINPAAS_LOG_MAX_FILES', 3, 1, 100),
    buildMemoryBytes: parsedSetting(env, 'MINPAAS_BUILD_MEMORY', '2g', parseMemory),
    buildCpus: parsedSetting(env, 'MINPAAS_BUILD_CPUS', '1', parseCpus),
  };
}
