import type { ChildProcess } from 'node:child_process';
import type http from 'node:http';
import { Git } from 'node-git-server';
import type { GitAccess } from './git-access.js';
import { isValidAppName } from '../domain/names.js';
import type { Logger } from '../log.js';
import { sendEmptyReceivePackAdvertisement } from './empty-advertisement.js';
import type { RepoStore } from './repos.js';
import { guardGitRequest } from './request-guard.js';

/** `/APP.git` and everything below it is the git remote; the rest of the URL space is the API. */
const GIT_PATH = /^\/([^/?]*)\.git(?:\/|\?|$)/;

/** What the smart HTTP protocol uses; node-git-server's dumb-protocol HEAD route is not served. */
const GIT_ENDPOINT = /^\/[^/]+\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;

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
  /** First pushes (to a name without a repo before) still in flight, per app name. */
  private readonly firstPushes = new Map<string, number>();

  constructor(
    private readonly repos: RepoStore,
    /** Tokens and roles: push needs deploy, fetch read. */
    private readonly access: GitAccess,
    private readonly log: Logger,
    /** Whether an app record exists: a first push that left none leaves no repo either. */
    private readonly hasApp: (name: string) => boolean = () => true,
  ) {
    this.git = new Git(repos.root, { autoCreate: false });
    for (const event of ['push', 'tag', 'fetch'] as const) {
      this.git.on(event as 'push', (service) => {
        this.recognised.add((service as unknown as { req: http.IncomingMessage }).req);
        // (Service errors are watched by request-guard.ts.)
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
    const caller = await this.access.authenticate(req);
    if ('refusal' in caller) return refuse(res, caller.refusal.status, caller.refusal.message, caller.refusal.headers);
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
    const denied = this.access.authorize(caller.principal, name, pushing, req, res);
    if (denied) return refuse(res, denied.status, denied.message, denied.headers);
    if (!(await this.repos.exists(name))) {
      // A first push sees an empty repo and creates it with its pack; the push hook then
      // creates the app record. info/refs alone creates nothing; fetching is a 404.
      if (pushing && req.method === 'GET' && url.pathname.endsWith('/info/refs')) {
        await sendEmptyReceivePackAdvertisement(res);
        return;
      }
      if (!(pushing && req.method === 'POST')) {
        refuse(res, 404, `MinPaas: there is no git repository for ${name} yet; push to it to create the app`);
        return;
      }
      await this.repos.ensure(name);
      this.log.info({ app: name }, 'created git repo');
      if (!this.firstPushes.has(name)) this.firstPushes.set(name, 0);
    }
    // Every push to a repo that a first push still in flight created (that one included).
    if (req.method === 'POST' && pushing && this.firstPushes.has(name)) this.removeIfNoAppAfter(name, res);
    const guarded = guardGitRequest(req, res, this.log.child({ app: name }), (r) => this.recognised.has(r));
    this.git.handle(guarded, res);
  }

  /**
   * A first push whose pack never reached the hook (refused, too large, not a branch or
   * tag, aborted) made no app record: its new repo goes too, once no other first push to
   * the same name is still sending.
   */
  private removeIfNoAppAfter(name: string, res: http.ServerResponse): void {
    this.firstPushes.set(name, (this.firstPushes.get(name) ?? 0) + 1);
    res.once('close', () => {
      const left = (this.firstPushes.get(name) ?? 1) - 1;
      if (left > 0) return void this.firstPushes.set(name, left);
      this.firstPushes.delete(name);
      if (!this.hasApp(name)) void this.repos.remove(name).catch(() => undefined);
    });
  }
}
