import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { environmentFile } from '../../src/cli/server-install.js';
import { PROJECT_ROOT } from '../../src/config.js';

let dir: string;
const out: string[] = [];
const err: string[] = [];
const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-install-'));
  out.length = 0;
  err.length = 0;
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const install = (...extra: string[]): Promise<number> =>
  runCli(['server', 'install', '--unit-dir', path.join(dir, 'units'), '--environment-file', path.join(dir, 'etc', 'minpaas.env'), '--data-dir', path.join(dir, 'data'), ...extra], io);

/** `[Section]` → key → values, as systemd reads a unit. */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      current = sections[header[1]!] = {};
      continue;
    }
    const eq = line.indexOf('=');
    (current![line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
  }
  return sections;
}

describe('minpaas server install', () => {
  it('writes a unit after Docker, restarted on failure, with the data dir and an owner-only environment file', async () => {
    process.env.MINPAAS_PORT = '7123';
    try {
      expect(await install()).toBe(0);
    } finally {
      delete process.env.MINPAAS_PORT;
    }
    const unitPath = path.join(dir, 'units', 'minpaas.service');
    const unit = parseUnit(await fs.readFile(unitPath, 'utf8'));
    expect(unit.Unit!.After![0]).toContain('docker.service');
    expect(unit.Unit!.Wants![0]).toContain('docker.service');
    expect(unit.Service!.Restart).toEqual(['on-failure']);
    expect(unit.Service!.KillMode).toEqual(['process']);
    expect(unit.Service!.WorkingDirectory).toEqual([path.join(dir, 'data')]);
    expect(unit.Service!.EnvironmentFile).toEqual([path.join(dir, 'etc', 'minpaas.env')]);
    expect(unit.Service!.ExecStart).toEqual([`${process.execPath} --max-semi-space-size=2 --heap-growing-percent=50 ${path.join(PROJECT_ROOT, 'dist', 'cli.js')} server`]);
    expect(unit.Service!.Environment).toEqual(['MALLOC_ARENA_MAX=2']);
    expect(unit.Install!.WantedBy).toEqual(['multi-user.target']);
    const env = await fs.readFile(path.join(dir, 'etc', 'minpaas.env'), 'utf8');
    expect(env).toContain(`MINPAAS_DATA_DIR="${path.join(dir, 'data')}"`);
    expect(env).toContain('MINPAAS_PORT="7123"');
    expect((await fs.stat(path.join(dir, 'etc', 'minpaas.env'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.join(dir, 'data'))).mode & 0o077).toBe(0);
    expect(out.join('')).toContain('systemctl daemon-reload && systemctl enable --now minpaas');
  });

  it('never replaces an existing unit without --force', async () => {
    expect(await install()).toBe(0);
    const unitPath = path.join(dir, 'units', 'minpaas.service');
    await fs.writeFile(unitPath, '# edited by the operator\n');
    expect(await install()).toBe(1);
    expect(err.join('')).toContain('--force');
    expect(await fs.readFile(unitPath, 'utf8')).toBe('# edited by the operator\n');
    expect(await install('--force')).toBe(0);
    expect(await fs.readFile(unitPath, 'utf8')).toContain('[Service]');
  });

  it('install options on plain "server" are a usage error', async () => {
    expect(await runCli(['server', '--unit-dir', dir], io)).toBe(2);
    expect(await runCli(['server', 'instal'], io)).toBe(2);
  });

  it('systemd-analyze verify accepts the unit (where systemd-analyze exists)', async (ctx) => {
    const analyze = await fs.access('/usr/bin/systemd-analyze').then(() => true, () => false);
    if (!analyze) ctx.skip();
    expect(await install()).toBe(0);
    const unitPath = path.join(dir, 'units', 'minpaas.service');
    const result = await promisify(execFile)('systemd-analyze', ['verify', '--man=no', unitPath]).then(
      (r) => ({ code: 0, stderr: r.stderr }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    // Only complaints about this unit count (the host's other units are not ours to judge).
    const ours = result.stderr.split('\n').filter((l) => l.includes('minpaas.service') && !/docker\.service|network-online/.test(l));
    expect(ours).toEqual([]);
    expect(result.code, result.stderr).toBe(0);
  });

  it('quotes values for systemd and refuses a newline', () => {
    expect(environmentFile({ A: 'x "y" \\z' })).toContain('A="x \\"y\\" \\\\z"');
    expect(() => environmentFile({ A: 'x\ny' })).toThrow(/newline/);
  });
});
