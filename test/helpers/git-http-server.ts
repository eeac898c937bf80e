import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { run } from './git.js';

/**
 * A read-only git server for tests: `git http-backend` run as CGI under node:http, serving
 * every bare repository below `root` at `/NAME.git`. It speaks git's smart HTTP protocol,
 * which the server's shallow clone (`git clone --depth 1`) needs; dumb HTTP can not serve
 * one. Pushes are not enabled (http-backend refuses receive-pack without auth).
 *
 * Listen on it yourself (`server.listen(0, '127.0.0.1')`), or use `serveGitRepos()`.
 */
export function gitHttpBackend(root: string): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const header = (name: string): string => String(req.headers[name] ?? '');
    const child = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        GATEWAY_INTERFACE: 'CGI/1.1',
        SERVER_PROTOCOL: 'HTTP/1.1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: header('content-type'),
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: header('content-length') } : {}),
        HTTP_CONTENT_ENCODING: header('content-encoding'),
        HTTP_GIT_PROTOCOL: header('git-protocol'),
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    child.stdin.on('error', () => undefined);
    req.pipe(child.stdin);
    // The CGI answer is headers (with an optional `Status:`), a blank line, then the body.
    let head: Buffer | null = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => {
      if (head === null) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let end = head.indexOf('\r\n\r\n');
      let sep = 4;
      if (end < 0) [end, sep] = [head.indexOf('\n\n'), 2];
      if (end < 0) return;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      const rest = head.subarray(end + sep);
      head = null;
      if (rest.length) res.write(rest);
    });
    child.stdout.on('end', () => res.end());
    child.on('error', () => res.destroy());
  });
}

export interface GitRepoServer {
  /** The folder holding the bare repos. */
  root: string;
  /** Base URL, `http://127.0.0.1:PORT`. */
  url: string;
  /** Creates (if needed) the bare repo `NAME.git`; returns its path on disk and its clone URL. */
  bare(name: string): Promise<{ dir: string; url: string }>;
  /** Stops the server and removes `root`. */
  close(): Promise<void>;
}

/**
 * Starts `gitHttpBackend` on an ephemeral 127.0.0.1 port over a fresh temp folder. Fill a
 * repo by pushing into its path: `appRepo.push(dir, 'main')` (test/helpers/git.ts).
 */
export async function serveGitRepos(): Promise<GitRepoServer> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-gitsrv-'));
  const server = gitHttpBackend(root);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    root,
    url,
    async bare(name) {
      const dir = path.join(root, `${name}.git`);
      const exists = await fs.stat(path.join(dir, 'HEAD')).then(() => true, () => false);
      if (!exists) {
        const init = await run('git', ['init', '-q', '--bare', '--initial-branch=main', dir]);
        if (init.code !== 0) throw new Error(`git init --bare ${dir} failed: ${init.output}`);
      }
      return { dir, url: `${url}/${name}.git` };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}
