import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppNetworkGuard } from '../../src/http/network-guard.js';
import { captureLogger } from './fakes/ports.js';

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('the control plane guard against app networks', () => {
  const servers: http.Server[] = [];
  const guards: AppNetworkGuard[] = [];
  afterEach(async () => {
    for (const g of guards) g.close();
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  it('knows the subnets of app networks, in plain and IPv4-mapped form', async () => {
    const guard = new AppNetworkGuard(async () => ['172.30.0.0/16'], captureLogger().log);
    await guard.refresh();
    expect(guard.isAppAddress('172.30.4.2')).toBe(true);
    expect(guard.isAppAddress('::ffff:172.30.4.2')).toBe(true);
    expect(guard.isAppAddress('172.31.0.2')).toBe(false);
    expect(guard.isAppAddress('127.0.0.1')).toBe(false);
    expect(guard.isAppAddress(undefined)).toBe(false);
    guard.add(['172.31.0.0/24']);
    expect(guard.isAppAddress('172.31.0.2')).toBe(true);
  });

  it('closes connections from an app network before the server answers; others are served', async () => {
    let handled = 0;
    const server = http.createServer((_req, res) => {
      handled++;
      res.end('ok');
    });
    servers.push(server);
    let subnets = ['10.99.0.0/16'];
    const guard = new AppNetworkGuard(async () => subnets, captureLogger().log, 20);
    guards.push(guard);
    await guard.attach(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    expect(await get(port)).toBe(200);
    // Loopback stands in for an app network here: the only source address a unit test has.
    subnets = ['127.0.0.0/8'];
    await guard.refresh();
    await expect(get(port)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(handled).toBe(1);
  });
});
