import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { run } from './git.js';
import { freeLoopbackPort } from './http.js';

/**
 * Let's Encrypt's test ACME server (Debian's `pebble`) and its DNS (`pebble-challtestsrv`),
 * on free loopback ports. Pebble validates HTTP-01 for real, against `httpPort` (the
 * router's HTTP port) of whatever address challtestsrv answers: names get an A record
 * only when a test adds one (`addA`), so a name without one fails validation.
 */
export interface Pebble {
  directoryUrl: string;
  /** Pebble's own TLS certificate (its API), to trust with NODE_EXTRA_CA_CERTS. */
  apiCertFile: string;
  /** Pebble's issuing root, PEM (changes every Pebble start). */
  root(): Promise<string>;
  addA(host: string): Promise<void>;
  clearA(host: string): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitForPort(url: string, ca: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = https.get(url, { ca, timeout: 1000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`pebble did not answer at ${url}`);
    await sleep(100);
  }
}

function httpsText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

async function challtestPost(port: number, pathname: string, body: object): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${pathname}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`challtestsrv ${pathname}: ${res.status}`);
}

export async function startPebble(opts: { httpPort: number; validitySeconds?: number }): Promise<Pebble> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-pebble-'));
  const [apiPort, mgmtPort, dnsPort, challMgmtPort, tlsPort] = (await Promise.all([1, 2, 3, 4, 5].map(() => freeLoopbackPort()))) as [number, number, number, number, number];
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  if (made.code !== 0) throw new Error(`openssl: ${made.output}`);
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${apiPort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: cert,
      privateKey: key,
      httpPort: opts.httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
      ...(opts.validitySeconds ? { certificateValidityPeriod: opts.validitySeconds } : {}),
    },
  };
  await fs.writeFile(path.join(dir, 'pebble.json'), JSON.stringify(config));
  const log = await fs.open(path.join(dir, 'pebble.log'), 'a');
  const children: ChildProcess[] = [];
  const spawnLogged = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess => {
    const child = spawn(cmd, args, { stdio: ['ignore', log.fd, log.fd], env: { ...process.env, ...env } });
    children.push(child);
    return child;
  };
  // No default address: a name resolves only once a test adds its A record.
  spawnLogged('pebble-challtestsrv', ['-defaultIPv4', '', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challMgmtPort}`]);
  // Validation without Pebble's random sleeps, and no random nonce rejections.
  spawnLogged('pebble', ['-config', path.join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' });
  const ca = await fs.readFile(cert, 'utf8');
  const stop = async (): Promise<void> => {
    for (const child of children) child.kill('SIGTERM');
    await sleep(200);
    await log.close();
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(`https://127.0.0.1:${apiPort}/dir`, ca, 15_000);
    for (let i = 0; ; i++) {
      try {
        await challtestPost(challMgmtPort, '/clear-a', { host: 'probe.invalid.' });
        break;
      } catch (err) {
        if (i > 100) throw err;
        await sleep(100);
      }
    }
  } catch (err) {
    const text = await fs.readFile(path.join(dir, 'pebble.log'), 'utf8').catch(() => '');
    await stop();
    throw new Error(`${(err as Error).message}\n${text.slice(-2000)}`);
  }
  return {
    directoryUrl: `https://127.0.0.1:${apiPort}/dir`,
    apiCertFile: cert,
    root: () => httpsText(`https://127.0.0.1:${mgmtPort}/roots/0`, ca),
    addA: (host) => challtestPost(challMgmtPort, '/add-a', { host: `${host}.`, addresses: ['127.0.0.1'] }),
    clearA: (host) => challtestPost(challMgmtPort, '/clear-a', { host: `${host}.` }),
    stop,
  };
}
