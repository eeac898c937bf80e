import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterCommand, parseShowProc, type ProcInfo } from '../../src/router/sockets.js';
import { AppRepo, run } from '../helpers/git.js';
import { eventually, freeLoopbackPort } from '../helpers/http.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { ServerProcess } from '../helpers/server-process.js';
import { uniqueName } from '../helpers/server.js';

/**
 * Domains and TLS end to end: a MinPaas server process, its HAProxy on high HTTP/HTTPS
 * ports, and Pebble validating HTTP-01 challenges through that router. Pebble issues
 * 1-hour certificates and the server renews 3580 s before expiry, so every certificate
 * is renewed about 20 s after it was issued: renewals happen while the tests run.
 */

const execFileAsync = promisify(execFile);
const DOMAIN = 'apps.test';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The app: echoes its release and the request headers; `Upgrade: websocket` gets a raw echo tunnel that says its release. */
function echoApp(release: string): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'echo', version: '1.0.0', scripts: { start: 'node server.js' } }),
    'server.js': `const http = require('http');
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ release: ${JSON.stringify(release)}, url: req.url, headers: req.headers }));
});
server.on('upgrade', (req, socket) => {
  const accept = require('crypto').createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: ' + accept + '\\r\\n\\r\\n');
  socket.on('data', (d) => socket.write(${JSON.stringify(release)} + ':' + d.toString()));
});
server.listen(Number(process.env.PORT));
`,
  };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  cert?: X509Certificate;
  authorized?: boolean;
}

let srv: ServerProcess;
let pebble: Pebble;
let repo: AppRepo;
let httpPort: number;
let httpsPort: number;
let tmp: string;
let root: string;
const app = uniqueName('tls');
const appHost = `${app}.${DOMAIN}`;
const controlHost = `minpaas.${DOMAIN}`;

function httpsGet(host: string, pathname: string, opts: { ca?: string; agent?: https.Agent | false; token?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port: httpsPort,
        path: pathname,
        servername: host,
        headers: { host: `${host}:${httpsPort}`, ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
        ca: opts.ca ?? root,
        agent: opts.agent ?? false,
        timeout: 10_000,
      },
      (res) => {
        // Read now: a keep-alive socket goes back to the pool (res.socket = null) at the end.
        const socket = res.socket as tls.TLSSocket;
        const raw = socket.getPeerCertificate().raw;
        const authorized = socket.authorized;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ...(raw ? { cert: new X509Certificate(raw) } : {}), authorized }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function httpGet(host: string, pathname: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: httpPort, path: pathname, headers: { host: `${host}:${httpPort}` }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

async function domains(name = app): Promise<{ host: string; certificate: { status: string; source: string | null; expiresAt: string | null; error: string | null; nextRetryAt: string | null } }[]> {
  const res = await srv.api('GET', `/apps/${name}/domains`);
  expect(res.status, res.text).toBe(200);
  return res.json.domains;
}

async function issued(host: string, after?: string | null): Promise<{ expiresAt: string }> {
  return eventually(
    async () => {
      const d = (await domains()).find((x) => x.host === host);
      if (d?.certificate.status !== 'issued' || (after && d.certificate.expiresAt === after)) throw new Error(`${host}: ${JSON.stringify(d)}`);
      return { expiresAt: d.certificate.expiresAt! };
    },
    90_000,
    300,
  );
}

function masterInfo(): Promise<ProcInfo> {
  return masterCommand(path.join(srv.dataDir, 'router', 'master.sock'), 'show proc').then(parseShowProc);
}

async function openssl(args: string[]): Promise<void> {
  await execFileAsync('openssl', args, { cwd: tmp });
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-tls-'));
  [httpPort, httpsPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  pebble = await startPebble({ httpPort, validitySeconds: 3600 });
  // The server trusts Pebble's API certificate as well as what the host already trusts.
  const bundle = path.join(tmp, 'ca-bundle.pem');
  const extra = process.env.NODE_EXTRA_CA_CERTS ? await fs.readFile(process.env.NODE_EXTRA_CA_CERTS, 'utf8').catch(() => '') : '';
  await fs.writeFile(bundle, `${extra}\n${await fs.readFile(pebble.apiCertFile, 'utf8')}`);
  for (const host of [appHost, controlHost]) await pebble.addA(host);
  srv = await ServerProcess.create({
    env: {
      MINPAAS_DOMAIN: DOMAIN,
      MINPAAS_HTTP_PORT: String(httpPort),
      MINPAAS_HTTPS_PORT: String(httpsPort),
      MINPAAS_ACME_DIRECTORY: pebble.directoryUrl,
      MINPAAS_ACME_EMAIL: 'ops@example.test',
      MINPAAS_RENEW_BEFORE_DAYS: String(3580 / 86400),
      MINPAAS_ACME_RETRY_SECONDS: '2',
      NODE_EXTRA_CA_CERTS: bundle,
    },
  });
  await srv.start();
  root = await pebble.root();
  repo = await AppRepo.create(echoApp('r1'));
  const push = await repo.push(srv.remote(app));
  expect(push.code, push.output).toBe(0);
  expect(push.output).toMatch(new RegExp(`Released v1: https?://${app}\\.${DOMAIN.replace('.', '\\.')}:\\d+`));
}, 600_000);

afterAll(async () => {
  await srv?.cleanup();
  await pebble?.stop();
  await repo?.remove();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('host routing and automatic TLS', () => {
  it('serves APP.DOMAIN over HTTPS with a certificate Pebble issued through the router', async () => {
    await issued(appHost);
    const res = await httpsGet(appHost, '/hello?x=1');
    expect(res.status).toBe(200);
    expect(res.authorized).toBe(true);
    expect(res.cert?.checkHost(appHost)).toBe(appHost);
    const body = JSON.parse(res.body);
    expect(body.release).toBe('r1');
    expect(body.headers['x-forwarded-proto']).toBe('https');
    expect(body.headers['x-forwarded-host']).toBe(`${appHost}:${httpsPort}`);
    expect(body.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(body.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    // The app record shows the HTTPS URL now.
    const record = await srv.api('GET', `/apps/${app}`);
    expect(record.json.url).toBe(`https://${appHost}:${httpsPort}`);
  });

  it('negotiates HTTP/2 by ALPN', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername: appHost, ca: root, ALPNProtocols: ['h2', 'http/1.1'] });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    expect(socket.alpnProtocol).toBe('h2');
    socket.destroy();
  });

  it('answers unknown hosts with a plain 404 from the router', async () => {
    const res = await httpGet(`nobody.${DOMAIN}`, '/');
    expect(res.status).toBe(404);
    expect(res.body).toContain('no app is served at this host name');
  });

  it('redirects HTTP to HTTPS once a certificate serves, except the challenge path, unless the app opts out', async () => {
    await issued(appHost);
    const res = await httpGet(appHost, '/a/b?c=d');
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe(`https://${appHost}:${httpsPort}/a/b?c=d`);
    const challenge = await httpGet(appHost, '/.well-known/acme-challenge/unknown-token');
    expect(challenge.status).toBe(404);
    expect(challenge.body).toBe('no such challenge');
    expect((await srv.api('PUT', `/apps/${app}/https-redirect`, { enabled: false })).status).toBe(200);
    const plain = await httpGet(appHost, '/a');
    expect(plain.status).toBe(200);
    expect(JSON.parse(plain.body).headers['x-forwarded-proto']).toBe('http');
    expect((await srv.api('PUT', `/apps/${app}/https-redirect`, { enabled: true })).status).toBe(200);
    expect((await httpGet(appHost, '/a')).status).toBe(308);
  });

  it('serves the API at the control host over HTTPS', async () => {
    // Its certificate is requested at start (it is no app's domain: seen by serving).
    const res = await eventually(async () => {
      const answer = await httpsGet(controlHost, '/apps', { token: 'test-token-0123456789' });
      if (!answer.authorized) throw new Error('not yet the issued certificate');
      return answer;
    }, 90_000, 300);
    expect(res.status).toBe(200);
    expect(res.authorized).toBe(true);
    expect((await httpsGet(controlHost, '/apps')).status).toBe(401);
    const all = await srv.api('GET', '/domains');
    expect(all.json.domains.find((d: { host: string }) => d.host === controlHost)).toMatchObject({ app: null, kind: 'control', certificate: { status: 'issued', source: 'acme' } });
  });
});

describe('custom domains', () => {
  const custom = `www-${app}.example.test`;

  it('issues a certificate on domains:add and serves the app at the new name', async () => {
    await pebble.addA(custom);
    const added = await srv.api('POST', `/apps/${app}/domains`, { host: custom.toUpperCase() });
    expect(added.status, added.text).toBe(201);
    expect(added.json.host).toBe(custom);
    expect(added.json.certificate.status).toBe('pending');
    await issued(custom);
    const res = await httpsGet(custom, '/');
    expect(res.authorized).toBe(true);
    expect(res.cert?.checkHost(custom)).toBe(custom);
    expect(JSON.parse(res.body).release).toBe('r1');
  });

  it('keeps host names unique across apps (409 naming the owner) and validates them', async () => {
    const other = uniqueName('tls-other');
    expect((await srv.api('POST', '/apps', { name: other })).status).toBe(201);
    const taken = await srv.api('POST', `/apps/${other}/domains`, { host: custom });
    expect(taken.status).toBe(409);
    expect(taken.json.error).toContain(`app ${app}`);
    expect((await srv.api('POST', `/apps/${other}/domains`, { host: appHost })).status).toBe(409);
    expect((await srv.api('POST', `/apps/${other}/domains`, { host: controlHost })).status).toBe(409);
    for (const bad of ['*.example.test', 'under_score.example.test', '-dash.example.test', 'localhost', '10.0.0.1', `${'a'.repeat(64)}.example.test`]) {
      const res = await srv.api('POST', `/apps/${other}/domains`, { host: bad });
      expect(res.status, bad).toBe(400);
    }
    expect((await srv.api('DELETE', `/apps/${other}`)).status).toBeLessThan(300);
  });

  it('reports a failing challenge with the ACME error and the next retry, and retries until it succeeds', async () => {
    const failing = `late-${app}.example.test`;
    expect((await srv.api('POST', `/apps/${app}/domains`, { host: failing })).status).toBe(201);
    const failed = await eventually(
      async () => {
        const d = (await domains()).find((x) => x.host === failing);
        if (d?.certificate.status !== 'failed') throw new Error(JSON.stringify(d));
        return d.certificate;
      },
      60_000,
      300,
    );
    expect(failed.error).toMatch(/DNS|NXDOMAIN|A record|no valid|resolv/i);
    expect(Date.parse(failed.nextRetryAt!)).toBeGreaterThan(0);
    const log = await fs.readFile(srv.logFile, 'utf8');
    expect(log).toMatch(new RegExp(`"level":50[^\\n]*"host":"${failing}"[^\\n]*certificate issuance failed`));
    // The DNS record appears: a retry succeeds without anyone asking.
    await pebble.addA(failing);
    await issued(failing);
    const res = await httpsGet(failing, '/');
    expect(res.authorized).toBe(true);
  });

  it('accepts a user certificate that is checked (key, chain order, names) and serves it', async () => {
    const host = `own-${app}.example.test`;
    expect((await srv.api('POST', `/apps/${app}/domains`, { host })).status).toBe(201);
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '5', '-subj', '/CN=Test Root']);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=Test Intermediate']);
    await fs.writeFile(path.join(tmp, 'int.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n');
    await openssl(['x509', '-req', '-in', 'int.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'int.pem', '-days', '5', '-extfile', 'int.ext']);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${host}`]);
    await fs.writeFile(path.join(tmp, 'leaf.ext'), `subjectAltName=DNS:${host}\n`);
    await openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '5', '-extfile', 'leaf.ext']);
    const read = (f: string): Promise<string> => fs.readFile(path.join(tmp, f), 'utf8');
    const [leaf, int, leafKey, intKey, ca] = (await Promise.all(['leaf.pem', 'int.pem', 'leaf.key', 'int.key', 'ca.pem'].map(read))) as [string, string, string, string, string];
    const wrongKey = await srv.api('POST', `/apps/${app}/certs`, { cert: leaf + int, key: intKey });
    expect(wrongKey.status).toBe(400);
    expect(wrongKey.json.error).toContain('does not match');
    const wrongOrder = await srv.api('POST', `/apps/${app}/certs`, { cert: int + leaf, key: leafKey });
    expect(wrongOrder.status).toBe(400);
    const otherNames = await srv.api('POST', `/apps/${app}/certs`, { cert: int, key: intKey });
    expect(otherNames.status).toBe(400);
    expect(otherNames.json.error).toContain('cover none');
    const ok = await srv.api('POST', `/apps/${app}/certs`, { cert: leaf + int, key: leafKey });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.json.hosts).toEqual([host]);
    const d = (await domains()).find((x) => x.host === host)!;
    expect(d.certificate).toMatchObject({ status: 'issued', source: 'user' });
    const res = await httpsGet(host, '/', { ca });
    expect(res.authorized).toBe(true);
    expect(JSON.parse(res.body).release).toBe('r1');
  });

  it('removes a domain: the host is no longer routed', async () => {
    const host = `own-${app}.example.test`;
    expect((await srv.api('DELETE', `/apps/${app}/domains/${host}`)).status).toBe(200);
    expect((await httpGet(host, '/')).status).toBe(404);
    expect((await domains()).some((x) => x.host === host)).toBe(false);
  });
});

describe('renewal, restart, swaps', () => {
  it('renews under HTTPS load with 0 failed requests; new connections get the new certificate', async () => {
    const first = await issued(appHost);
    const serials = new Set<string>();
    let ok = 0;
    let failed = 0;
    const errors: string[] = [];
    let stop = false;
    const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 4 });
    const worker = async (agent: https.Agent | false): Promise<void> => {
      while (!stop) {
        try {
          const res = await httpsGet(appHost, '/', { agent });
          if (res.status === 200 && res.authorized) ok++;
          else {
            failed++;
            errors.push(`status ${res.status}`);
          }
          if (agent === false && res.cert) serials.add(res.cert.serialNumber);
        } catch (err) {
          failed++;
          errors.push((err as Error).message);
        }
      }
    };
    const reloadsBefore = (await masterInfo()).master.reloads;
    const workers = [worker(keepAlive), worker(keepAlive), worker(keepAlive), worker(false), worker(false)];
    // Domain changes during the same load: map edits at runtime, never a reload.
    for (let i = 0; i < 5; i++) {
      const host = `churn${i}-${app}.example.test`;
      expect((await srv.api('POST', `/apps/${app}/domains`, { host })).status).toBe(201);
      expect((await srv.api('DELETE', `/apps/${app}/domains/${host}`)).status).toBe(200);
    }
    const renewed = await issued(appHost, first.expiresAt);
    await sleep(1000);
    stop = true;
    await Promise.all(workers);
    keepAlive.destroy();
    const reloadsAfter = (await masterInfo()).master.reloads;
    console.log(`renewal under load: ${ok} ok, ${failed} failed, ${serials.size} certificates seen; expiry ${first.expiresAt} -> ${renewed.expiresAt}; haproxy reloads ${reloadsBefore} -> ${reloadsAfter}`);
    expect(reloadsAfter).toBe(reloadsBefore);
    expect(errors.slice(0, 5)).toEqual([]);
    expect(failed).toBe(0);
    expect(ok).toBeGreaterThan(20);
    expect(serials.size).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('restores the certificates from disk when the server and HAProxy restart', async () => {
    // Right after a renewal, so the next one is not due while the server restarts.
    const before = await issued(appHost);
    await issued(appHost, before.expiresAt);
    const onDisk = new X509Certificate(await fs.readFile(path.join(srv.dataDir, 'router', 'certs', `${appHost}.pem`), 'utf8'));
    await srv.stop();
    await srv.stopHaproxy();
    await srv.start();
    const res = await eventually(() => httpsGet(appHost, '/'), 20_000, 100);
    expect(res.authorized).toBe(true);
    expect(res.cert?.serialNumber).toBe(onDisk.serialNumber);
    const stat = await fs.stat(path.join(srv.dataDir, 'router', 'certs', `${appHost}.pem`));
    expect(stat.mode & 0o077).toBe(0);
  }, 120_000);

  it('keeps a WebSocket on the old release during a swap until the drain timeout ends it', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername: appHost, ca: root, ALPNProtocols: ['http/1.1'] });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    const key = Buffer.from('0123456789abcdef').toString('base64');
    socket.write(`GET /ws HTTP/1.1\r\nHost: ${appHost}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await eventually(async () => (received.includes('101 Switching Protocols') ? true : Promise.reject(new Error(received))), 5000, 50);
    received = '';
    socket.write('ping1');
    await eventually(async () => (received.includes('r1:ping1') ? true : Promise.reject(new Error(received))), 5000, 50);
    await repo.commit(echoApp('r2'), 'r2');
    // This push goes over HTTPS through the router, to the control plane's own host name.
    await fs.writeFile(path.join(tmp, 'root.pem'), root);
    const httpsRemote = `https://x:test-token-0123456789@${controlHost}:${httpsPort}/${app}.git`;
    // GIT_SSL_CAINFO (not http.sslCAInfo, which that variable overrides when the host sets it).
    const pushing = run('git', ['-c', `http.curloptResolve=${controlHost}:${httpsPort}:127.0.0.1`, 'push', httpsRemote, 'main'], {
      cwd: repo.dir,
      env: { ...process.env, GIT_SSL_CAINFO: path.join(tmp, 'root.pem') },
    });
    // New requests reach r2 once the swap happened; the open tunnel still answers from r1.
    let pushDone: { code: number; output: string } | null = null;
    void pushing.then((r) => (pushDone = r));
    await eventually(async () => {
      if (pushDone !== null && pushDone.code !== 0) return 'push failed';
      const res = await httpsGet(appHost, '/');
      if (JSON.parse(res.body).release !== 'r2') throw new Error(res.body);
      return 'r2';
    }, 300_000, 200);
    received = '';
    socket.write('ping2');
    await eventually(async () => (received.includes('r1:ping2') ? true : Promise.reject(new Error(received))), 5000, 50);
    const push = await pushing;
    expect(push.code, push.output).toBe(0);
    expect(push.output).toContain('old release still busy after');
    // The drain timeout (10 s) ended it: the old container was retired.
    const closedAt = await Promise.race([closed, sleep(30_000).then(() => 0)]);
    expect(closedAt).toBeGreaterThan(0);
  }, 400_000);
});
