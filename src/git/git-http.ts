import type { ChildProcess } from 'node:child_process';
import type http from 'node:http';
import { Git } from 'node-git-server';
import { basicPassword, tokenMatches } from '../auth/token.js';
import { isValidAppName } from '../domain/names.js';
import type { Logger } from '../log.js';
import type { RepoStore } from './repos.js';
import { watchGitService } from './service-watch.js';

/** `/APP.git` and everything below it is the git remote; the rest of the URL space is the API. */
const GIT_PATH = /^\/([^/?]*)\.git(?:\/|\?|$)/;

/** What the smart HTTP protocol uses; node-git-server's dumb-protocol HEAD route is not served. */
const GIT_ENDPOINT = /^\/[^/]+\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;
/** A body node-git-server has not recognised this long after its first chunk never will be. */
const UNRECOGNISED_AFTER_MS = 1000;
/** How much of a refused body is read and dropped before the connection is cut. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;

export function isGitRequest(url: string | undefined): boolean {
  return GIT_PATH.test(url ?? '');
}

function refuse(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${message}\n`);
}

/**
 * The git remote over HTTP. node-git-server runs git's smart protocol, but its own
 * `authenticate` guards only `info/refs` (an unauthenticated receive-pack POST was seen
 * deleting a branch), and it creates repos for any name. So every request is checked
 * here, token and app name, before node-git-server sees it.
 */
export class GitHttp {
  private readonly git: Git;
  /** Requests node-git-server understood (it emitted push/tag/fetch for them). */
  private readonly recognised = new WeakSet<http.IncomingMessage>();

  constructor(
    private readonly repos: RepoStore,
    private readonly token: string,
    private readonly log: Logger,
  ) {
    this.git = new Git(repos.root, { autoCreate: false });
    for (const event of ['push', 'tag', 'fetch'] as const) {
      this.git.on(event as 'push', (service) => {
        this.recognised.add((service as unknown as { req: http.IncomingMessage }).req);
        service.accept();
      });
    }
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!tokenMatches(basicPassword(req.headers.authorization), this.token)) {
      refuse(res, 401, 'MinPaas: authentication required; use the admin token as the password', {
        'WWW-Authenticate': 'Basic realm="MinPaas", charset="UTF-8"',
      });
      return;
    }
    let name: string;
    try {
      name = decodeURIComponent(GIT_PATH.exec(req.url ?? '')?.[1] ?? '');
    } catch {
      name = '';
    }
    if (!isValidAppName(name)) {
      refuse(res, 400, `MinPaas: invalid app name ${JSON.stringify(name)}: use 1-30 lowercase letters, digits and dashes, starting with a letter`);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!GIT_ENDPOINT.test(url.pathname)) {
      refuse(res, 404, 'MinPaas: not a git endpoint (only the smart HTTP protocol is served)');
      return;
    }
    const pushing =
      url.searchParams.get('service') === 'git-receive-pack' || url.pathname.endsWith('/git-receive-pack');
    if (!(await this.repos.exists(name))) {
      // The first push creates the app's repo; fetching an unknown app is a 404.
      if (!(pushing && req.method === 'GET' && url.pathname.endsWith('/info/refs'))) {
        refuse(res, 404, `MinPaas: there is no git repository for ${name} yet; push to it to create the app`);
        return;
      }
      await this.repos.ensure(name);
      this.log.info({ app: name }, 'created git repo');
    }
    this.guard(req, res, name);
    this.git.handle(req, res);
  }

  /**
   * No request may crash the server or hang: errors of the request, the response and
   * node-git-server's Service are logged; a client that leaves mid-upload ends git's
   * input (git exits on the short pack); a body git never recognises is answered.
   */
  private guard(req: http.IncomingMessage, res: http.ServerResponse, app: string): void {
    const log = this.log.child({ app });
    let gitProcess: ChildProcess | undefined;
    req.on('error', (err) => log.info({ err: err.message }, 'git request failed'));
    res.on('error', (err) => log.info({ err: err.message }, 'git response failed'));
    req.on('close', () => {
      if (req.complete) return;
      log.info('git client left before its request was complete');
      gitProcess?.stdin?.end();
      if (!res.writableEnded) res.destroy();
    });
    if (req.method !== 'POST') return;
    watchGitService(req, (service) => {
      service.on('error', (err: Error) => log.info({ err: err.message }, 'git service error'));
      // A git process that exits early (a pack over receive.maxInputSize, a client that
      // left) makes node-git-server's pipe into its stdin fail with EPIPE.
      service.on('service', (ps: ChildProcess) => {
        gitProcess = ps;
        ps.stdin?.on('error', (err) => log.info({ err: err.message }, 'git process closed its input early'));
      });
    });
    let first: Buffer | null = null;
    const decide = (): void => {
      setTimeout(() => this.refuseUnrecognised(req, res, first), UNRECOGNISED_AFTER_MS).unref();
    };
    req.once('data', (chunk: Buffer) => {
      first = chunk;
      decide();
    });
    req.once('end', () => {
      if (first === null) decide();
    });
  }

  /**
   * node-git-server decides from the body's first chunk whether it is a push or fetch it
   * knows (refs/heads, refs/tags); otherwise it never starts git and, holding the body
   * paused, would leave the request hanging forever. A pkt-line body it did not take
   * (refs/notes, …) gets git's own "fatal" side-band message; anything else a 400.
   */
  private refuseUnrecognised(req: http.IncomingMessage, res: http.ServerResponse, first: Buffer | null): void {
    if (this.recognised.has(req) || res.headersSent || res.destroyed) return;
    if (first !== null && /^[0-9a-f]{4}/.test(first.subarray(0, 4).toString('latin1'))) {
      // Side-band channel 3 is git's "fatal error from the remote": the pusher sees it.
      const message = Buffer.from('\u0003MinPaas: only branches (refs/heads/...) and tags (refs/tags/...) can be pushed\n');
      const length = (message.length + 4).toString(16).padStart(4, '0');
      res.writeHead(200, { 'Content-Type': 'application/x-git-receive-pack-result' });
      res.end(Buffer.concat([Buffer.from(length), message, Buffer.from('0000')]));
    } else {
      refuse(res, 400, 'MinPaas: the request body is not git pkt-line data');
    }
    // Read and drop whatever the client still sends, up to a bound, so it sees the answer.
    req.unpipe();
    let drained = 0;
    req.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_LIMIT_BYTES) req.destroy();
    });
    req.resume();
  }
}

