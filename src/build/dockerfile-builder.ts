import type { DockerEngine } from '../docker/index.js';
import { imageTag } from '../docker/index.js';
import { buildContext, PLATFORM_DOCKERFILE } from './context.js';
import { runBuild, type BuiltImage } from './run-build.js';
import { withLabels } from './image-builder.js';

/** The app's own Dockerfile, at the top of its repository. */
export const APP_DOCKERFILE = 'Dockerfile';
/** $PORT of a Dockerfile app whose Dockerfile exposes no port (Dokku's default). */
export const DEFAULT_DOCKERFILE_PORT = 5000;

/** Instructions with their continuation lines joined; comments and blank lines dropped. */
function instructions(dockerfile: string): string[] {
  const joined = dockerfile.replace(/\\\r?\n/g, ' ');
  return joined
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The TCP ports the Dockerfile's EXPOSE lines name, in order (`EXPOSE 8080 9000/tcp`). */
export function exposedPorts(dockerfile: string): number[] {
  const ports: number[] = [];
  for (const line of instructions(dockerfile)) {
    const m = /^EXPOSE\s+(.+)$/i.exec(line);
    if (!m) continue;
    for (const word of m[1]!.split(/\s+/)) {
      const pm = /^(\d{1,5})(?:\/tcp)?$/i.exec(word);
      const port = pm ? Number(pm[1]) : NaN;
      if (Number.isInteger(port) && port > 0 && port < 65536 && !ports.includes(port)) ports.push(port);
    }
  }
  return ports;
}

/** The Dockerfile's last CMD as a command line (exec form joined by spaces), or '' if it has none. */
export function dockerfileCmd(dockerfile: string): string {
  const cmds = instructions(dockerfile).filter((l) => /^CMD\s/i.test(l));
  const last = cmds.at(-1)?.replace(/^CMD\s+/i, '') ?? '';
  if (last.startsWith('[')) {
    try {
      const parts = JSON.parse(last) as unknown;
      if (Array.isArray(parts)) return parts.map(String).join(' ');
    } catch {
      // Not JSON: Docker runs it in shell form too.
    }
  }
  return last;
}

/**
 * The app's Dockerfile as MinPaas builds it: every stage's first layer carries the
 * build-layer label (so a failed build's layers can be found and removed), a Procfile
 * `web:` becomes the CMD, and the ownership labels come last.
 */
export function platformView(dockerfile: string, labels: Record<string, string>, web?: string): string {
  const lines = dockerfile.replace(/\\\r?\n/g, '\\\n').split(/\r?\n/);
  const out: string[] = [];
  let continued = false;
  let inFrom = false;
  for (const line of lines) {
    out.push(line);
    if (!continued && /^\s*FROM\s/i.test(line)) inFrom = true;
    continued = line.endsWith('\\');
    if (inFrom && !continued) {
      out.push('LABEL minpaas.build-layer="true"');
      inFrom = false;
    }
  }
  let text = out.join('\n');
  if (web) text = `${text.trimEnd()}\nCMD ${web}\n`;
  return withLabels(text, labels);
}

export interface DockerfileBuildJob {
  app: string;
  release: number;
  sourceDir: string;
  /** The app's Dockerfile text. */
  dockerfile: string;
  /** A Procfile `web:` command: runs instead of the Dockerfile's CMD. */
  web?: string | undefined;
  onLine: (line: string) => void;
  /** Aborts the build (its client went away). */
  signal?: AbortSignal;
}

/**
 * Build stage for apps that opted into their own Dockerfile: the same context,
 * labels, tag and timeout as the platform's build; the Dockerfile is theirs.
 */
export class DockerfileBuilder {
  constructor(
    private readonly docker: DockerEngine,
    private readonly timeoutMs: number,
    /** Memory and CPUs of each build (MINPAAS_BUILD_MEMORY, MINPAAS_BUILD_CPUS), as for platform builds. */
    private readonly limits: { memoryBytes: number | null; cpus: number | null } = { memoryBytes: null, cpus: null },
  ) {}

  async build(job: DockerfileBuildJob): Promise<BuiltImage> {
    const dockerfile = platformView(job.dockerfile, this.docker.labels(job.app, job.release), job.web);
    return runBuild(
      this.docker,
      { context: buildContext(job.sourceDir, dockerfile), tag: imageTag(job.app, job.release), dockerfile: PLATFORM_DOCKERFILE, buildArgs: {}, limits: this.limits },
      { timeoutMs: this.timeoutMs, signal: job.signal, onLine: job.onLine },
    );
  }
}
