import type { ChildProcess } from 'node:child_process';
import type http from 'node:http';
import { Git } from 'node-git-server';
import { basicPassword, tokenMatches } from '../auth/token.js';
import { isValidAppName } from '../domain/names.js';
import type { Logger } from '../log.js';
import type { RepoStore } from './repos.js';

/** `/APP.git` and everything below it is the git remote; the rest of the URL space is the API. */
const GIT_PATH = /^\/([^/?]*)\.git(?:\/|\?|$)/;

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
    // A git process that exits early (a pack over receive.maxInputSize, a client that
    // left) makes node-git-server's pipe into its stdin fail with EPIPE; unhandled, that
    // would take the whole server down. Each service gets handlers before it is accepted.
    for (const event of ['push', 'tag', 'fetch'] as const) {
      this.git.on(event as 'push', (service) => {
        this.recognised.add((service as unknown as { req: http.IncomingMessage }).req);
        service.on('error', (err: Error) => this.log.info({ err: err.message }, 'git service error'));
        service.on('service', (ps: ChildProcess) => {
          ps.stdin?.on('error', (err) => this.log.info({ err: err.message }, 'git process closed its input early'));
          // A pusher that goes away mid-deploy: end receive-pack, so its hook's connection
          // to the server closes and the build it started stops (see HookBridge).
          const res = (service as unknown as { res: http.ServerResponse }).res;
          res.on('close', () => {
            if (!res.writableFinished && ps.exitCode === null) ps.kill('SIGTERM');
          });
        });
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
    this.git.handle(req, res);
    if (req.method === 'POST' && pushing) this.refuseUnrecognised(req, res);
  }

  /**
   * node-git-server only recognises pushes of refs/heads and refs/tags; for anything else
   * (refs/notes, …) it never starts git and the push would hang forever. Once the whole
   * request arrived without being recognised, answer instead.
   */
  private refuseUnrecognised(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.once('end', () => {
      setTimeout(() => {
        if (this.recognised.has(req) || res.headersSent) return;
        // Side-band channel 3 is git's "fatal error from the remote": the pusher sees it.
        const message = Buffer.from('\u0003MinPaas: only branches (refs/heads/...) and tags (refs/tags/...) can be pushed\n');
        const length = (message.length + 4).toString(16).padStart(4, '0');
        res.writeHead(200, { 'Content-Type': 'application/x-git-receive-pack-result' });
        res.end(Buffer.concat([Buffer.from(length), message, Buffer.from('0000')]));
      }, 1000).unref();
    });
  }
}
