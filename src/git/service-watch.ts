import type { ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import type http from 'node:http';
import { createRequire } from 'node:module';

/**
 * node-git-server's per-request Service (the object behind its push/fetch events). It
 * re-emits the request's and the response's 'error' events on itself; with no listener,
 * an aborted upload would throw and take the whole server down.
 */
export interface GitService extends EventEmitter {
  on(event: 'error', fn: (err: Error) => void): this;
  on(event: 'service', fn: (ps: ChildProcess) => void): this;
  on(event: 'header', fn: () => void): this;
  on(event: string, fn: (...args: any[]) => void): this;
}

type CreateAction = (opts: unknown, req: http.IncomingMessage, res: http.ServerResponse) => GitService;

const watchers = new WeakMap<http.IncomingMessage, (service: GitService) => void>();
let installed = false;

/**
 * Calls `watch` with the Service node-git-server makes for `req` (POSTs to
 * git-upload-pack / git-receive-pack), the moment it is made, before any event can fire.
 * node-git-server has no hook for this: its module's `createAction` is wrapped once
 * (git.js looks it up on each call), and every Service gets an 'error' listener.
 */
export function watchGitService(req: http.IncomingMessage, watch: (service: GitService) => void): void {
  install();
  watchers.set(req, watch);
}

function install(): void {
  if (installed) return;
  const util = createRequire(import.meta.url)('node-git-server/dist/util.js') as { createAction: CreateAction };
  const original = util.createAction;
  util.createAction = (opts, req, res) => {
    const service = original(opts, req, res);
    const watch = watchers.get(req);
    if (watch) watch(service);
    else service.on('error', () => undefined);
    return service;
  };
  installed = true;
}
