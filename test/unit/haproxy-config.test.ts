import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LAYOUT_ENV,
  layoutFingerprint,
  renderHaproxyConfig,
  routerPaths,
  type HaproxyConfigOptions,
} from '../../src/router/haproxy-config.js';
import { defaultHaproxyBin } from '../../src/router/haproxy-process.js';
import { findStatRow, isMaint, parseShowProc, parseShowStat } from '../../src/router/sockets.js';
import type { RouteSpec } from '../../src/router/haproxy-config.js';

const execFileAsync = promisify(execFile);
const opts: HaproxyConfigOptions = { dataDir: '/var/lib/minpaas', appBind: '127.0.0.1' };

const web: RouteSpec = { app: 'web', port: 10001, slot: 'blue', targets: [{ host: '127.0.0.1', port: 32768 }] };
const api: RouteSpec = { app: 'api-2', port: 10002, slot: 'green', targets: [{ host: '127.0.0.1', port: 32769 }] };
const idle: RouteSpec = { app: 'idle', port: 10003, slot: 'blue', targets: [] };
const OPTS = 'check inter 1s fall 2 rise 1';

/** A backend's expected lines: the serving group's first servers at `targets`, every other server parked. */
function backend(name: string, slot: 'blue' | 'green', targets: string[]): string[] {
  const lines = [`backend ${name}`, '    balance roundrobin', '    option redispatch', '    retries 3'];
  for (const group of ['blue', 'green'] as const) {
    for (let i = 0; i < 10; i++) {
      const at = group === slot ? targets[i] : undefined;
      lines.push(`    server ${group}${i + 1} ${at ?? '127.0.0.1:1'} ${OPTS}${at ? '' : ' disabled'}`);
    }
  }
  return lines;
}

/** The lines of one section, from its header to the next blank line. */
function section(text: string, header: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(header);
  expect(start, `section ${header}`).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start);
  return lines.slice(start, end < 0 ? undefined : end);
}

describe('renderHaproxyConfig', () => {
  it('renders global and defaults for master-worker use, without a frontend when there are no apps', () => {
    const text = renderHaproxyConfig([], opts);
    expect(text).toContain('    stats socket /var/lib/minpaas/router/admin.sock mode 600 level admin expose-fd listeners');
    expect(text).toContain('    hard-stop-after 30s');
    expect(text).toContain('    mode http');
    expect(text).toContain('    option idle-close-on-response');
    expect(text).toContain('    option socket-stats');
    expect(text).toContain('    timeout connect 5s');
    expect(text).toMatch(/timeout http-keep-alive \d+s/);
    expect(text).not.toContain('http-server-close');
    expect(text).not.toContain('server-state-file');
    expect(text).not.toContain('frontend');
    expect(text).toMatch(new RegExp(`setenv ${LAYOUT_ENV} [0-9a-f]{16}`));
  });

  it('points the serving slot at its target and parks the idle slot, disabled', () => {
    const text = renderHaproxyConfig([web, api], opts);
    expect(section(text, 'frontend fe_web')).toEqual(['frontend fe_web', '    bind 127.0.0.1:10001', '    default_backend be_web']);
    expect(section(text, 'backend be_web')).toEqual(backend('be_web', 'blue', ['127.0.0.1:32768']));
    expect(section(text, 'backend be_api-2')).toEqual(backend('be_api-2', 'green', ['127.0.0.1:32769']));
  });

  it('points one server of the serving group at each web replica, in order (round-robin)', () => {
    const three = { ...web, slot: 'green' as const, targets: [2, 3, 4].map((i) => ({ host: `172.20.0.${i}`, port: 3000 })) };
    expect(section(renderHaproxyConfig([three], opts), 'backend be_web')).toEqual(backend('be_web', 'green', ['172.20.0.2:3000', '172.20.0.3:3000', '172.20.0.4:3000']));
    const eleven = { ...web, targets: Array.from({ length: 11 }, (_, i) => ({ host: `172.20.0.${i + 2}`, port: 3000 })) };
    expect(() => renderHaproxyConfig([eleven], opts)).toThrow(/at most 10/);
  });

  it('disables both groups of an app without a running release (HAProxy answers 503)', () => {
    const text = renderHaproxyConfig([idle], opts);
    expect(section(text, 'backend be_idle')).toEqual(backend('be_idle', 'blue', []));
  });

  it('is deterministic whatever the order of the routes', () => {
    expect(renderHaproxyConfig([web, api, idle], opts)).toBe(renderHaproxyConfig([idle, api, web], opts));
  });

  it('binds the configured address and writes IPv6 addresses in brackets', () => {
    expect(renderHaproxyConfig([web], { ...opts, appBind: '0.0.0.0' })).toContain('    bind 0.0.0.0:10001');
    expect(renderHaproxyConfig([web], { ...opts, appBind: '::1' })).toContain('    bind [::1]:10001');
    expect(renderHaproxyConfig([{ ...web, targets: [{ host: '::1', port: 5000 }] }], opts)).toContain('    server blue1 [::1]:5000 check');
  });

  it('refuses anything that could inject config', () => {
    const bad = (r: Partial<RouteSpec>): (() => string) => () => renderHaproxyConfig([{ ...web, ...r }], opts);
    for (const app of ['Web', 'web\n  bind 0.0.0.0:22', 'a b', '-x', '../x', 'x-', 'a'.repeat(31), 'é']) {
      expect(bad({ app }), app).toThrow(/invalid app name/);
    }
    expect(bad({ port: 0 })).toThrow(/port/);
    expect(bad({ port: 70000 })).toThrow(/port/);
    expect(bad({ targets: [{ host: 'localhost', port: 80 }] })).toThrow(/IP address/);
    expect(bad({ targets: [{ host: '127.0.0.1', port: 80 }, { host: '127.0.0.1 check', port: 80 }] })).toThrow(/IP address/);
    expect(() => renderHaproxyConfig([web], { ...opts, appBind: '1.2.3.4:5' })).toThrow(/bind address/);
    expect(() => renderHaproxyConfig([web], { ...opts, dataDir: '/tmp/a b' })).toThrow(/data dir/);
    expect(() => renderHaproxyConfig([web], { ...opts, timeouts: { client: '1s\n' } })).toThrow(/timeout/);
  });

  it('refuses two routes for one app or one port', () => {
    expect(() => renderHaproxyConfig([web, { ...api, app: 'web' }], opts)).toThrow(/duplicate/);
    expect(() => renderHaproxyConfig([web, { ...api, port: web.port }], opts)).toThrow(/port 10001/);
  });
});

describe('layoutFingerprint', () => {
  it('ignores slots and targets (runtime state) but not apps, ports or the bind address', () => {
    const base = layoutFingerprint([web, api], opts);
    expect(layoutFingerprint([{ ...web, slot: 'green', targets: [{ host: '127.0.0.1', port: 40000 }, { host: '127.0.0.1', port: 40001 }] }, { ...api, targets: [] }], opts)).toBe(base);
    expect(layoutFingerprint([web], opts)).not.toBe(base);
    expect(layoutFingerprint([web, { ...api, port: 10009 }], opts)).not.toBe(base);
    expect(layoutFingerprint([web, api], { ...opts, appBind: '0.0.0.0' })).not.toBe(base);
  });
});

describe('haproxy -c accepts the rendered config', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-hacfg-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['no apps', [] as RouteSpec[]],
    ['one app', [web]],
    ['three apps, one without a release', [web, api, idle]],
  ])('%s', async (_name, routes) => {
    const file = path.join(dir, `${routes.length}.cfg`);
    await fs.writeFile(file, renderHaproxyConfig(routes, { dataDir: dir, appBind: '127.0.0.1' }));
    const { stdout } = await execFileAsync(defaultHaproxyBin(), ['-c', '-f', file]);
    expect(stdout).toContain('Configuration file is valid');
  });
});

describe('routerPaths', () => {
  it('keeps everything under <dataDir>/router', () => {
    const p = routerPaths('/d');
    expect(p).toEqual({
      dir: '/d/router',
      config: '/d/router/haproxy.cfg',
      adminSocket: '/d/router/admin.sock',
      masterSocket: '/d/router/master.sock',
      pidFile: '/d/router/haproxy.pid',
      logFile: '/d/router/haproxy.log',
    });
  });
});

// Shortened real answers of HAProxy 2.6.12 (most columns cut; the parser goes by header).
const SHOW_STAT = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,weight,type,srv_admin_state,addr,mode
fe_web,FRONTEND,,,3,5,9980,40,OPEN,,0,,,http
be_web,blue,0,0,0,2,,20,MAINT,1,2,5,127.0.0.1:32768,http
be_web,green,2,4,3,3,,20,no check,1,2,4,127.0.0.1:32770,http
be_web,BACKEND,0,0,3,5,998,40,UP,1,1,,,http

`;

describe('parseShowStat', () => {
  it('finds server rows by backend and slot and reads status, scur, qcur and addr', () => {
    const rows = parseShowStat(SHOW_STAT);
    const blue = findStatRow(rows, 'be_web', 'blue');
    const green = findStatRow(rows, 'be_web', 'green');
    expect(blue).toMatchObject({ type: 2, status: 'MAINT', scur: 0, qcur: 0, addr: '127.0.0.1:32768' });
    expect(green).toMatchObject({ type: 2, status: 'no check', scur: 3, qcur: 2, addr: '127.0.0.1:32770' });
    expect(blue && isMaint(blue)).toBe(true);
    // Ready again after "disabled" in the file: srv_admin_state keeps bit 4, status does not say MAINT.
    expect(green && isMaint(green)).toBe(false);
    expect(findStatRow(rows, 'be_web', 'red')).toBeUndefined();
    expect(findStatRow(rows, 'fe_web', 'FRONTEND')).toMatchObject({ type: 0, scur: 3 });
  });

  it('throws on an answer that is not the CSV', () => {
    expect(() => parseShowStat('Permission denied\n')).toThrow(/show stat/);
  });
});

describe('parseShowProc', () => {
  it('tells the current workers from the old ones and reads reload counters', () => {
    const info = parseShowProc(`#<PID>          <type>          <reloads>       <uptime>        <version>
15888           master          1 [failed: 0]   0d00h00m03s     2.6.12-1+deb12u4
# workers
15992           worker          0               0d00h00m01s     2.6.12-1+deb12u4
# old workers
15891           worker          1               0d00h00m03s     2.6.12-1+deb12u4
# programs

`);
    expect(info).toEqual({
      master: { pid: 15888, reloads: 1, failedReloads: 0 },
      workers: [{ pid: 15992, reloads: 0 }],
      oldWorkers: [{ pid: 15891, reloads: 1 }],
    });
  });

  it('reads a failed reload', () => {
    const info = parseShowProc(`#<PID>          <type>          <reloads>       <uptime>        <version>
14204           master          2 [failed: 1]   0d00h00m12s     2.6.12-1+deb12u4
# workers
14406           worker          1               0d00h00m09s     2.6.12-1+deb12u4
# programs
`);
    expect(info.master).toEqual({ pid: 14204, reloads: 2, failedReloads: 1 });
    expect(info.workers).toEqual([{ pid: 14406, reloads: 1 }]);
    expect(info.oldWorkers).toEqual([]);
  });

  it('throws without a master line', () => {
    expect(() => parseShowProc('')).toThrow(/show proc/);
  });
});
