import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { layoutFingerprint, renderHaproxyConfig, type HaproxyConfigOptions } from '../../src/router/haproxy-config.js';
import { defaultHaproxyBin } from '../../src/router/haproxy-process.js';
import { hostRoutingPaths } from '../../src/router/host-frontends.js';
import { HostTable, backendOf, certFileName, mapCommands } from '../../src/router/host-table.js';

const execFileAsync = promisify(execFile);
const hostRouting = { httpPort: 8080, httpsPort: 8443, controlSocket: '/var/lib/minpaas/run/control.sock' };
const opts: HaproxyConfigOptions = { dataDir: '/var/lib/minpaas', appBind: '127.0.0.1', hostRouting };

describe('host frontends', () => {
  it('renders shared HTTP/HTTPS frontends choosing the backend by the hosts map', () => {
    const text = renderHaproxyConfig([], opts);
    const p = hostRoutingPaths('/var/lib/minpaas');
    expect(text).toContain('frontend fe_minpaas_http\n    bind 127.0.0.1:8080');
    expect(text).toContain(`bind 127.0.0.1:8443 ssl crt ${p.defaultCert} crt-list ${p.crtList} alpn h2,http/1.1`);
    expect(text).toContain(`use_backend %[var(txn.host),map(${p.hostsMap})] if { var(txn.host),map(${p.hostsMap}) -m found }`);
    expect(text).toContain('default_backend be_minpaas_404');
    expect(text).toContain('server control unix@/var/lib/minpaas/run/control.sock');
    // The redirect names the HTTPS port and spares the challenge path.
    expect(text).toMatch(/redirect location https:\/\/%\[var\(txn.host\)\]:8443%\[pathq\] code 308 if !is_acme/);
    expect(text).toContain('unique-id-header X-Request-Id');
    expect(text).toContain('X-Forwarded-Proto https');
  });

  it('leaves the port out of redirects to 443, and renders nothing without host routing', () => {
    expect(renderHaproxyConfig([], { ...opts, hostRouting: { ...hostRouting, httpsPort: 443 } })).toContain('https://%[var(txn.host)]%[pathq]');
    expect(renderHaproxyConfig([], { dataDir: '/d', appBind: '127.0.0.1' })).not.toContain('fe_minpaas_http');
  });

  it('does not put host names in the layout: a domain change never reloads', () => {
    const route = { app: 'web', port: 10001, slot: 'blue' as const, targets: [] };
    expect(layoutFingerprint([route], opts)).toBe(layoutFingerprint([route], opts));
    expect(layoutFingerprint([route], opts)).not.toBe(layoutFingerprint([route], { ...opts, hostRouting: { ...hostRouting, httpPort: 81 } }));
  });

  it('is accepted by haproxy -c with its files in place', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-hf-'));
    try {
      const table = new HostTable(dir);
      table.adopt(new Map([['www.example.com', 'be_web']]), new Map([['www.example.com', '1']]));
      await table.prepareFiles();
      const file = path.join(dir, 'router', 'haproxy.cfg');
      const text = renderHaproxyConfig([{ app: 'web', port: 10001, slot: 'blue', targets: [{ host: '127.0.0.1', port: 3000 }] }], {
        dataDir: dir,
        appBind: '127.0.0.1',
        hostRouting: { ...hostRouting, controlSocket: path.join(dir, 'control.sock') },
      });
      await fs.writeFile(file, text);
      await execFileAsync(defaultHaproxyBin(), ['-c', '-f', file]);
      expect(await fs.readFile(path.join(dir, 'router', 'hosts.map'), 'utf8')).toBe('www.example.com be_web\n');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('host table', () => {
  it('turns a change of hosts into add/set/del map commands only for what differs', () => {
    const current = new Map([
      ['a.example.com', 'be_a'],
      ['b.example.com', 'be_b'],
      ['c.example.com', 'be_c'],
    ]);
    const next = new Map([
      ['a.example.com', 'be_a'],
      ['b.example.com', 'be_x'],
      ['d.example.com', 'be_d'],
    ]);
    expect(mapCommands('/m', current, next)).toEqual(['set map /m b.example.com be_x', 'add map /m d.example.com be_d', 'del map /m c.example.com']);
    expect(mapCommands('/m', next, next)).toEqual([]);
  });

  it('plans the hosts and redirect maps together', () => {
    const table = new HostTable('/var/lib/minpaas');
    const plan = table.plan([
      { host: 'web.apps.example.com', app: 'web', redirect: true },
      { host: 'minpaas.apps.example.com', app: null, redirect: false },
    ]);
    expect([...plan.hosts]).toEqual([
      ['web.apps.example.com', 'be_web'],
      ['minpaas.apps.example.com', 'be_minpaas_control'],
    ]);
    expect([...plan.redirects.keys()]).toEqual(['web.apps.example.com']);
    expect(plan.commands).toHaveLength(3);
    expect(() => table.plan([{ host: 'bad host', app: 'web', redirect: false }])).toThrow();
  });

  it('names certificate files after the host', () => {
    expect(certFileName('/c', 'www.example.com')).toBe('/c/www.example.com.pem');
    expect(certFileName('/c', '*.example.com')).toBe('/c/_wildcard.example.com.pem');
    expect(backendOf({ host: 'x.y', app: 'web', redirect: false })).toBe('be_web');
  });
});
