import type { ChildProcess } from 'node:child_process';
import type http from 'node:http';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import type { Logger } from '../log.js';
import { watchGitService } from './service-watch.js';

/** A body node-git-server has not recognised this long after its first chunk never will be. */
const UNRECOGNISED_AFTER_MS = 1000;
/** How much of a refused body is read and dropped before the connection is cut. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;

function answer(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
  res.end(`${message}\n`);
}

/**
 * Makes one git request safe to hand to node-git-server, and returns the request object
 * to hand it. No input may crash the server or hang: errors of the request, the
 * response, the gzip decoder and node-git-server's Service are caught and logged; a
 * client that leaves mid-upload ends git's input (git exits on the short pack); a body
 * node-git-server never recognises is answered. `recognised(r)` tells whether
 * node-git-server emitted push/tag/fetch for `r`.
 */
export function guardGitRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  log: Logger,
  recognised: (r: http.IncomingMessage) => boolean,
): http.IncomingMessage {
  let gitProcess: ChildProcess | undefined;
  req.on('error', (err) => log.info({ err: err.message }, 'git request failed'));
  res.on('error', (err) => log.info({ err: err.message }, 'git response failed'));
  req.on('close', () => {
    if (req.complete) return;
    log.info('git client left before its request was complete');
    gitProcess?.stdin?.end();
    if (!res.writableEnded) res.destroy();
  });
  if (req.method !== 'POST') return req;
  const body = decodedBody(req, res, log);
  watchGitService(body, (service) => {
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
    setTimeout(() => {
      if (!recognised(body)) refuseUnrecognised(req, res, first);
    }, UNRECOGNISED_AFTER_MS).unref();
  };
  body.once('data', (chunk: Buffer) => {
    first = chunk;
    decide();
  });
  body.once('end', () => {
    if (first === null) decide();
  });
  return body;
}

/**
 * A gzip body is decoded here rather than by node-git-server, whose decoder has no error
 * listener (a corrupt body would crash the server). What node-git-server then gets is a
 * stream of the plain body that looks like the request (url, method, headers).
 */
function decodedBody(req: http.IncomingMessage, res: http.ServerResponse, log: Logger): http.IncomingMessage {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return req;
  const plain = new PassThrough();
  if (encoding !== 'gzip') {
    answer(res, 400, `MinPaas: Content-Encoding ${encoding.slice(0, 40)} is not supported (git sends gzip or nothing)`);
    req.resume();
  } else {
    const gunzip = zlib.createGunzip();
    gunzip.on('error', (err) => {
      log.info({ err: err.message }, 'git request body is not valid gzip');
      answer(res, 400, 'MinPaas: the request body is not valid gzip');
      plain.end();
      req.unpipe(gunzip);
      req.resume();
    });
    req.pipe(gunzip).pipe(plain);
  }
  const headers = { ...req.headers };
  delete headers['content-encoding'];
  delete headers['content-length'];
  return Object.assign(plain, { headers, url: req.url, method: req.method, httpVersion: req.httpVersion, socket: req.socket }) as unknown as http.IncomingMessage;
}

/**
 * node-git-server decides from the body's first chunk whether it is a push or fetch it
 * knows (refs/heads, refs/tags); otherwise it never starts git and, holding the body
 * paused, would leave the request hanging forever. A pkt-line body it did not take
 * (refs/notes, …) gets git's own "fatal" side-band message; anything else a 400.
 */
function refuseUnrecognised(req: http.IncomingMessage, res: http.ServerResponse, first: Buffer | null): void {
  if (res.headersSent || res.destroyed) return;
  if (first !== null && /^[0-9a-f]{4}/.test(first.subarray(0, 4).toString('latin1'))) {
    // Side-band channel 3 is git's "fatal error from the remote": the pusher sees it.
    const message = Buffer.from('\u0003MinPaas: only branches (refs/heads/...) and tags (refs/tags/...) can be pushed\n');
    const length = (message.length + 4).toString(16).padStart(4, '0');
    res.writeHead(200, { 'Content-Type': 'application/x-git-receive-pack-result' });
    res.end(Buffer.concat([Buffer.from(length), message, Buffer.from('0000')]));
  } else {
    answer(res, 400, 'MinPaas: the request body is not git pkt-line data');
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
