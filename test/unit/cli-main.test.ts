import { describe, expect, it } from 'vitest';
import { ApiError, errorFromBody } from '../../src/cli/client.js';
import type { Io } from '../../src/cli/command.js';
import { handleDeployLine } from '../../src/cli/commands/deploy.js';
import { remoteUrl } from '../../src/cli/commands/git-remote.js';
import { COMMANDS, runCli, usage } from '../../src/cli/main.js';

function captureIo(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (text: string) => void (io.stdout += text),
    err: (text: string) => void (io.stderr += text),
  };
  return io;
}

/** Commands that would need a server point at a port nothing listens on. */
const NOWHERE = ['--url', 'http://127.0.0.1:1', '--token', 't'];

describe('runCli without a server', () => {
  it('usage lists every command', async () => {
    const io = captureIo();
    expect(await runCli([], io)).toBe(0);
    for (const cmd of COMMANDS) expect(io.stdout).toContain(`  ${cmd.name}`);
    expect(usage()).toContain('git:remote APP');
  });

  it('help COMMAND and COMMAND --help show its options', async () => {
    const a = captureIo();
    expect(await runCli(['help', 'logs'], a)).toBe(0);
    expect(a.stdout).toContain('-n, --tail N');
    const b = captureIo();
    expect(await runCli(['deploy', '--help'], b)).toBe(0);
    expect(b.stdout).toContain('--runtime');
  });

  it('unknown commands and options are usage errors (exit 2)', async () => {
    const a = captureIo();
    expect(await runCli(['nope'], a)).toBe(2);
    expect(a.stderr).toContain('unknown command "nope"');
    const b = captureIo();
    expect(await runCli(['apps', '--bogus'], b)).toBe(2);
    expect(b.stderr).toContain('unknown option --bogus');
  });

  it('checks the number of arguments', async () => {
    const a = captureIo();
    expect(await runCli(['apps:info', ...NOWHERE], a)).toBe(2);
    expect(a.stderr).toContain('apps:info needs APP');
    const b = captureIo();
    expect(await runCli(['releases', 'a', 'b', ...NOWHERE], b)).toBe(2);
    expect(b.stderr).toContain('takes 1 argument');
  });

  it('deploy requires --repo and --runtime', async () => {
    const a = captureIo();
    expect(await runCli(['deploy', 'app', '--repo', 'http://h/r.git', ...NOWHERE], a)).toBe(2);
    expect(a.stderr).toContain('deploy needs --runtime node or --runtime python');
    const b = captureIo();
    expect(await runCli(['deploy', 'app', '--runtime', 'node', ...NOWHERE], b)).toBe(2);
    expect(b.stderr).toContain('--repo');
  });

  it('apps:destroy refuses without a matching --confirm, before asking the server', async () => {
    const a = captureIo();
    expect(await runCli(['apps:destroy', 'app', ...NOWHERE], a)).toBe(1);
    expect(a.stderr).toContain('minpaas apps:destroy app --confirm app');
    const b = captureIo();
    expect(await runCli(['apps:destroy', 'app', '--confirm', 'other', ...NOWHERE], b)).toBe(1);
    expect(b.stderr).toContain('does not match');
  });

  it('rollback and logs -n check their values locally', async () => {
    const a = captureIo();
    expect(await runCli(['rollback', 'app', 'latest', ...NOWHERE], a)).toBe(2);
    expect(a.stderr).toContain('not a release');
    const b = captureIo();
    expect(await runCli(['logs', 'app', '-n', 'x', ...NOWHERE], b)).toBe(2);
  });

  it('an unreachable server is exit 1 with a message naming the URL', async () => {
    const io = captureIo();
    expect(await runCli(['apps', ...NOWHERE], io)).toBe(1);
    expect(io.stderr).toMatch(/^minpaas: cannot reach MinPaas at http:\/\/127\.0\.0\.1:1/);
  });
});

describe('errorFromBody', () => {
  it("keeps the API's message and details", () => {
    const err = errorFromBody(422, JSON.stringify({ error: 'build failed', details: ['npm ERR! x', 'line 2'] }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, message: 'build failed', details: ['npm ERR! x', 'line 2'] });
  });

  it('describes answers that are not API errors', () => {
    expect(errorFromBody(502, '<html>Bad Gateway</html>').message).toBe('the server answered HTTP 502: <html>Bad Gateway</html>');
  });
});

describe('handleDeployLine', () => {
  it('prints log lines to stderr and returns the final line', () => {
    const io = captureIo();
    expect(handleDeployLine({ log: 'Step 1' }, '', io)).toBeUndefined();
    expect(handleDeployLine('not json', 'not json', io)).toBeUndefined();
    expect(io.stderr).toBe('Step 1\nnot json\n');
    const done = handleDeployLine({ app: { name: 'a' } }, '', io);
    expect(done).toEqual({ app: { name: 'a' } });
    const failed = handleDeployLine({ error: 'health check failed', status: 422, details: ['tail'] }, '', io);
    expect(failed && 'error' in failed && failed.error).toMatchObject({ status: 422, message: 'health check failed', details: ['tail'] });
  });
});

describe('remoteUrl', () => {
  it('puts the token in as the password of user x', () => {
    expect(remoteUrl('http://127.0.0.1:7000', 'tok', 'hello')).toBe('http://x:tok@127.0.0.1:7000/hello.git');
    expect(remoteUrl('https://paas.example.com/base', 'a/b@c', 'app')).toBe('https://x:a%2Fb%40c@paas.example.com/base/app.git');
  });
});
