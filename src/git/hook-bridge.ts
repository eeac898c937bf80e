import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { errorMessage, internalError, isMinPaasError } from '../errors.js';
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
/** `gone` aborts when the pusher goes away (git killed, connection lost): its build stops. */
export type PushHandler = (push: ReceivedPush, out: PushOutput, gone: AbortSignal) => Promise<boolean>;

/**
 * The hook's last line: the verdict, which it turns into its exit code. Every other line
 * the server sends is indented or arrow-prefixed, and any that would start like this
 * is indented, so no build output can forge it.
 */
export const VERDICT_PREFIX = 'minpaas-verdict: ';

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
      if (res.writableEnded) return;
      for (const part of line.split('\n')) res.write(`${part.startsWith(VERDICT_PREFIX) ? ` ${part}` : part}\n`);
    };
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    let ok = false;
    try {
      const push = parseHookRequest(req.headers, body);
      ok = await this.handler(push, out, gone.signal);
    } catch (err) {
      // An internal failure reaches the pusher as a reference into the log, never its message.
      const reference = isMinPaasError(err) ? '' : randomUUID();
      if (!isMinPaasError(err)) this.log.error({ requestId: reference, err: errorMessage(err), stack: (err as Error)?.stack }, 'push handling failed');
      out(` !     ${isMinPaasError(err) ? err.message : internalError(`request ${reference}`).message}`);
    }
    res.end(`${VERDICT_PREFIX}${ok ? 'accept' : 'reject'}\n`);
  }
}

function parseHookRequest(headers: http.IncomingHttpHeaders, stdin: string): ReceivedPush {
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const dir = header('x-git-dir');
  if (!dir) throw new Error('malformed hook request: no X-Git-Dir');
  const gitDir = path.resolve(dir);
  // git may hand the hook paths relative to the repo.
  const quarantine: QuarantineEnv = {};
  const objects = header('x-git-object-directory');
  const alternates = header('x-git-alternate-object-directories');
  const quarantinePath = header('x-git-quarantine-path');
  if (objects) quarantine.GIT_OBJECT_DIRECTORY = path.resolve(gitDir, objects);
  if (alternates) quarantine.GIT_ALTERNATE_OBJECT_DIRECTORIES = alternates.split(':').map((p) => path.resolve(gitDir, p)).join(':');
  if (quarantinePath) quarantine.GIT_QUARANTINE_PATH = path.resolve(gitDir, quarantinePath);
  return {
    app: path.basename(gitDir).replace(/\.git$/, ''),
    gitDir,
    updates: parseRefUpdates(stdin),
    quarantine,
  };
}
