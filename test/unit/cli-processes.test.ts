import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScaleArgs, psTable } from '../../src/cli/commands/processes.js';
import { runCli } from '../../src/cli/main.js';

/** A fake admin API (unit test only) for ps, ps:scale and run. */
const seen: { method: string; url: string; body: any }[] = [];
let server: http.Server;
let base: string;

const PS = {
  app: 'web',
  release: 4,
  status: 'degraded',
  formation: { web: 2, worker: 1 },
  processes: [
    { type: 'web', replica: 1, name: 'web.1', container: 'minpaas-web-v4-web-1', status: 'running', uptime: 3725, restarts: 0 },
    { type: 'web', replica: 2, name: 'web.2', container: 'minpaas-web-v4-web-2', status: 'restarting', uptime: null, restarts: 4 },
    { type: 'worker', replica: 1, name: 'worker.1', container: 'minpaas-web-v4-worker-1', status: 'running', uptime: 42, restarts: 0 },
  ],
};

function captureIo() {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = text ? JSON.parse(text) : undefined;
      seen.push({ method: req.method!, url: req.url!, body });
      if (req.url === '/apps/web/run') {
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        res.write(`${JSON.stringify({ stdout: 'hello ' })}\n${JSON.stringify({ stderr: 'warn\n' })}\n`);
        res.end(`${JSON.stringify({ stdout: 'world\n' })}\n${JSON.stringify({ exitCode: body.command[0] === 'fail' ? 42 : 0 })}\n`);
        return;
      }
      const answers: Record<string, unknown> = { 'GET /apps/web/ps': PS, 'PATCH /apps/web/formation': { web: 3, worker: 0 } };
      const answer = answers[`${req.method} ${req.url}`];
      res.writeHead(answer ? 200 : 404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer ?? { error: 'no such endpoint' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('ps, ps:scale, run', () => {
  it('ps shows type, replica, container, status, uptime and restarts', async () => {
    const io = captureIo();
    expect(await runCli(['ps', 'web', '--url', base, '--token', 't'], io)).toBe(0);
    expect(io.stdout).toBe(psTable(PS));
    expect(io.stdout.split('\n')[0]).toBe('web v4: degraded (web=2 worker=1)');
    expect(io.stdout).toMatch(/web\s+web\.2\s+minpaas-web-v4-web-2\s+restarting\s+-\s+4/);
    expect(io.stdout).toMatch(/web\s+web\.1\s+minpaas-web-v4-web-1\s+running\s+1h2m\s+0/);
  });

  it('ps:scale sends TYPE=COUNT pairs as the formation', async () => {
    const io = captureIo();
    expect(await runCli(['ps:scale', 'web', 'web=3', 'worker=0', '--url', base, '--token', 't'], io)).toBe(0);
    expect(seen.at(-1)).toEqual({ method: 'PATCH', url: '/apps/web/formation', body: { web: 3, worker: 0 } });
    expect(io.stdout).toBe('web: web=3 worker=0\n');
    expect(() => parseScaleArgs(['web3'])).toThrow(/TYPE=COUNT/);
    expect(await runCli(['ps:scale', 'web', 'web=x', '--url', base, '--token', 't'], captureIo())).toBe(2);
  });

  it('run prints stdout and stderr where they belong and exits with the command’s exit code', async () => {
    const ok = captureIo();
    expect(await runCli(['run', 'web', '--url', base, '--token', 't', '--', 'echo', '-n', 'hi'], ok)).toBe(0);
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/apps/web/run', body: { command: ['echo', '-n', 'hi'] } });
    expect(ok.stdout).toBe('hello world\n');
    expect(ok.stderr).toBe('warn\n');
    const failed = captureIo();
    expect(await runCli(['run', 'web', '--timeout', '5', '--url', base, '--token', 't', '--', 'fail'], failed)).toBe(42);
    expect(seen.at(-1)?.body).toEqual({ command: ['fail'], timeout: 5 });
  });
});
