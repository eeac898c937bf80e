import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MinPaasError } from '../errors.js';
import { SERVER_ENV, serverNodeArgs } from './server-launch.js';

export interface InstallOptions {
  unitDir: string;
  envFile: string;
  dataDir: string;
  /** The project (holds dist/cli.js, runtimes/, hooks/). */
  projectRoot: string;
  nodeBinary: string;
  /** The MINPAAS_* (and Docker/CA) settings the service runs with. */
  env: Record<string, string>;
  force: boolean;
  /** Seconds the control plane may take to stop (MINPAAS_DRAIN_TIMEOUT plus a margin). */
  stopTimeoutSeconds: number;
}

export const UNIT_NAME = 'minpaas.service';

/** Settings passed on to the service: MinPaas's own, and what Docker and Node TLS read. */
export function serviceEnvironment(env: NodeJS.ProcessEnv, dataDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (key.startsWith('MINPAAS_') || ['DOCKER_HOST', 'NODE_EXTRA_CA_CERTS'].includes(key)) out[key] = value;
  }
  out.MINPAAS_DATA_DIR = dataDir;
  // Settings the CLI itself reads to reach a server: not the server's.
  delete out.MINPAAS_URL;
  return out;
}

/**
 * The unit: after Docker, restarted on failure, the router left running when it stops;
 * node started as every entry point starts it (server-launch.ts). The environment file
 * overrides Environment= (systemd reads it after), so an operator can change those there.
 */
export function unitFile(o: Pick<InstallOptions, 'envFile' | 'dataDir' | 'projectRoot' | 'nodeBinary' | 'stopTimeoutSeconds'>): string {
  return `[Unit]
Description=MinPaas control plane (git push deploys, admin API, dashboard)
Documentation=file://${o.projectRoot}/README.md
After=network-online.target docker.service
Wants=network-online.target docker.service

[Service]
Type=simple
${Object.entries(SERVER_ENV).map(([k, v]) => `Environment=${k}=${v}\n`).join('')}EnvironmentFile=${o.envFile}
WorkingDirectory=${o.dataDir}
ExecStart=${[o.nodeBinary, ...serverNodeArgs(path.join(o.projectRoot, 'dist', 'cli.js'), 'server')].join(' ')}
Restart=on-failure
RestartSec=2s
# Stop and restart signal the control plane only: the router (HAProxy) it started keeps
# serving the apps while MinPaas restarts, and the next start adopts it.
KillMode=process
TimeoutStopSec=${o.stopTimeoutSeconds}
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}

/** KEY="value" lines; systemd reads backslash escapes inside double quotes. */
export function environmentFile(env: Record<string, string>): string {
  const lines = Object.keys(env)
    .sort()
    .map((key) => {
      const value = env[key]!;
      if (/[\r\n]/.test(value)) throw new MinPaasError('INVALID_INPUT', `${key} holds a newline; an environment file cannot carry it`);
      return `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    });
  return `# MinPaas settings for ${UNIT_NAME} (see the README's settings tables). Owner-only: it may hold the token.\n${lines.join('\n')}\n`;
}

export interface Installed {
  unitFile: string;
  envFile: string;
}

/** Writes the unit and its environment file; refuses to replace either without `force`. */
export async function installService(o: InstallOptions): Promise<Installed> {
  const unitPath = path.join(o.unitDir, UNIT_NAME);
  for (const file of [unitPath, o.envFile]) {
    if (fs.existsSync(file) && !o.force) throw new MinPaasError('CONFLICT', `${file} exists already; pass --force to replace it`);
  }
  await fsp.mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  await fsp.mkdir(o.unitDir, { recursive: true });
  await fsp.mkdir(path.dirname(o.envFile), { recursive: true, mode: 0o700 });
  await writeAtomically(o.envFile, environmentFile(o.env), 0o600);
  await writeAtomically(unitPath, unitFile(o), 0o644);
  return { unitFile: unitPath, envFile: o.envFile };
}

async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fsp.writeFile(tmp, text, { mode, flag: 'w' });
  await fsp.chmod(tmp, mode);
  await fsp.rename(tmp, file);
}
