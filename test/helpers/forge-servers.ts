import fs from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gitHttpBackend } from './git-http-server.js';
import { run } from './git.js';

export interface PrivateGitServer {
  url: string;
  /** Creates the bare repo NAME.git; returns its folder and URL. */
  bare(name: string): Promise<{ dir: string; url: string }>;
  /** While closed, fetches wait (a deploy stays in its fetch step). */
  closeGate(): void;
  openGate(): void;
  /** Opens the gate, but the requests that waited at it are cut off (their git fails). */
  dropWaiting(): void;
  /** Requests that reached the gate since the last reset. */
  requests: number;
  /** The Authorization headers git sent. */
  authorizations: Set<string>;
  /** False: anyone may fetch (a public repo). */
  authRequired: boolean;
  close(): Promise<void>;
}

/**
 * `git http-backend` behind HTTP Basic auth (`user:password`, as a private repo on a forge),
 * with a gate the test opens and closes. `protocolV0` strips git's protocol header, so the
 * server speaks v0 and refuses to serve commits by id.
 */
export async function privateGitServer(opts: { user: string; password: string; protocolV0?: boolean }): Promise<PrivateGitServer> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-forge-git-'));
  const backend = gitHttpBackend(root);
  const expected = `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString('base64')}`;
  let gate: Promise<void> | null = null;
  let drop = false;
  let release: () => void = () => undefined;
  const state = { requests: 0, authorizations: new Set<string>(), authRequired: true };
  const server = http.createServer((req, res) => {
    void (async () => {
      state.requests++;
      if (req.headers.authorization) state.authorizations.add(req.headers.authorization);
      if (gate) {
        await gate;
        if (drop) {
          res.destroy();
          return;
        }
      }
      if (state.authRequired && req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
        res.end();
        return;
      }
      if (opts.protocolV0) delete req.headers['git-protocol'];
      backend.emit('request', req, res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    url,
    get requests() {
      return state.requests;
    },
    set requests(n: number) {
      state.requests = n;
    },
    authorizations: state.authorizations,
    get authRequired() {
      return state.authRequired;
    },
    set authRequired(value: boolean) {
      state.authRequired = value;
    },
    async bare(name) {
      const dir = path.join(root, `${name}.git`);
      const init = await run('git', ['init', '-q', '--bare', '--initial-branch=main', dir]);
      if (init.code !== 0) throw new Error(`git init --bare failed: ${init.output}`);
      return { dir, url: `${url}/${name}.git` };
    },
    closeGate() {
      gate ??= new Promise<void>((resolve) => (release = resolve));
    },
    openGate() {
      release();
      gate = null;
    },
    dropWaiting() {
      drop = true;
      release();
      gate = null;
      // Requests that arrive from now on pass; only the ones already waiting were dropped.
      setImmediate(() => (drop = false));
    },
    async close() {
      release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

export interface ReceivedStatus {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** Stands in for GitHub's and GitLab's commit status APIs: records every POST, answers 201. */
export async function statusApiServer(): Promise<{ url: string; received: ReceivedStatus[]; close(): Promise<void> }> {
  const received: ReceivedStatus[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text || '{}') as Record<string, unknown> });
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
