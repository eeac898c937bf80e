import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { errorMessage, isMinPaasError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QuarantineEnv } from './archive.js';
import { parseRefUpdates, type RefUpdate } from './push-policy.js';

/** A push as the pre-receive hook reports it, before git accepts it. */
export interface ReceivedPush {
  app: string;
  gitDir: string;
  updates: RefUpdate[];
  quarantine: QuarantineEnv;
}

/** Lines written here reach the pusher as `remote:` lines while the push runs. */
export type PushOutput = (line: string) => void;

/** Decides a push: true accepts it, false (or a throw) rejects it and git keeps the old refs. */
export type PushHandler = (push: ReceivedPush, out: PushOutput) => Promise<boolean>;

/** The hook's last line: the verdict, which it turns into its exit code. */
export const VERDICT_PREFIX = '\u0000minpaas-verdict ';

interface HookRequest {
  gitDir?: unknown;
  stdin?: unknown;
  env?: Record<string, unknown>;
}

/**
 * The server end of hooks/pre-receive: an HTTP server on a unix socket in the data dir
 * (mode 0600, so only the server's user can talk to it). The hook sends its stdin and
 * git's quarantine variables; the answer streams the build log back and ends with the
 * verdict.
 */
export class HookBridge {
  private server: http.Server | undefined;

  constructor(
    readonly socketPath: string,
    private readonly handler: PushHandler,
    private readonly log: Logger,
  ) {}

  async listen(): Promise<void> {
    await fs.mkdir(path.dirname(this.socketPath), { recursive: true });
    await fs.rm(this.socketPath, { force: true });
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, resolve);
    });
    await fs.chmod(this.socketPath, 0o600);
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await fs.rm(this.socketPath, { force: true });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += chunk;
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    const out: PushOutput = (line) => {
      if (!res.writableEnded) res.write(`${line.replace(/\u0000/g, '')}\n`);
    };
    let ok = false;
    try {
      const push = parseHookRequest(body);
      ok = await this.handler(push, out);
    } catch (err) {
      if (!isMinPaasError(err)) this.log.error({ err }, 'push handling failed');
      out(` !     ${isMinPaasError(err) ? err.message : `internal error: ${errorMessage(err)}`}`);
    }
    res.end(`${VERDICT_PREFIX}${ok ? 'accept' : 'reject'}\n`);
  }
}

function parseHookRequest(body: string): ReceivedPush {
  const req = JSON.parse(body) as HookRequest;
  if (typeof req.gitDir !== 'string' || typeof req.stdin !== 'string') throw new Error('malformed hook request');
  const env = req.env ?? {};
  const pick = (name: keyof QuarantineEnv): Partial<QuarantineEnv> =>
    typeof env[name] === 'string' ? { [name]: env[name] as string } : {};
  const gitDir = path.resolve(req.gitDir);
  return {
    app: path.basename(gitDir).replace(/\.git$/, ''),
    gitDir,
    updates: parseRefUpdates(req.stdin),
    quarantine: {
      ...pick('GIT_OBJECT_DIRECTORY'),
      ...pick('GIT_ALTERNATE_OBJECT_DIRECTORIES'),
      ...pick('GIT_QUARANTINE_PATH'),
    },
  };
}
