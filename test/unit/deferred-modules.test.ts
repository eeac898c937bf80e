import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Runs in a fresh Node process (the test runner's own require cache may hold ssh2 already).
 * Counts the files of ssh2 and @grpc/* that are loaded, beyond the stand-ins' own entries:
 * after the Docker client is made, after the SSH transport builds its client, and after
 * BuildKit's session code reads grpc.
 */
const SCRIPT = `
import { createRequire } from 'node:module';
const root = createRequire(process.cwd() + '/x.js');
const modem = createRequire(root.resolve('docker-modem/lib/ssh.js'));
const dockerode = createRequire(root.resolve('dockerode/lib/session.js'));
const standIns = new Set([modem.resolve('ssh2'), dockerode.resolve('@grpc/grpc-js'), dockerode.resolve('@grpc/proto-loader')]);
const loaded = (re) => Object.keys(root.cache).filter((f) => re.test(f) && !standIns.has(f)).length;
const { createDockerClient } = await import('./src/docker/client.ts');
const docker = createDockerClient();
const out = { modem: typeof docker.modem.dial, ssh: loaded(/node_modules\\/ssh2\\//), grpc: loaded(/node_modules\\/@grpc\\//) };
const agent = modem('./ssh.js')({ host: '127.0.0.1', port: 1 });
const client = new (modem('ssh2').Client)();
Object.assign(out, { agent: typeof agent.createConnection, client: client.constructor.name, sshAfter: loaded(/node_modules\\/ssh2\\//) });
Object.assign(out, { server: typeof dockerode('@grpc/grpc-js').Server, grpcAfter: loaded(/node_modules\\/@grpc\\//) });
console.log(JSON.stringify(out));
`;

describe('dockerode loads without its SSH and BuildKit dependencies', () => {
  it('defers ssh2 and grpc until first use, and then they are the real modules', async () => {
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: ROOT });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out).toMatchObject({ modem: 'function', ssh: 0, grpc: 0, agent: 'function', client: 'Client', server: 'function' });
    expect(out.sshAfter as number).toBeGreaterThan(5);
    expect(out.grpcAfter as number).toBeGreaterThan(5);
  }, 30_000);
});
