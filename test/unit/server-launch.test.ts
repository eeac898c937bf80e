import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SERVER_ENV, SERVER_NODE_FLAGS, shellPrefix } from '../../src/cli/server-launch.js';
import { PROJECT_ROOT } from '../../src/config.js';

const execFileAsync = promisify(execFile);
const read = (file: string): string => fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8');

/** Every way the README starts the control plane runs node with server-launch.ts's flags and environment. */
describe('server launch settings', () => {
  it('npm start, setup.sh --start and the minpaas shebang carry them', () => {
    expect(shellPrefix()).toBe('MALLOC_ARENA_MAX=2 node --max-semi-space-size=2 --heap-growing-percent=50');
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start).toBe(`${shellPrefix()} dist/cli.js server`);
    expect(read('scripts/setup.sh')).toContain(`exec env ${shellPrefix()} dist/cli.js server`);
    expect(read('src/cli.ts').split('\n')[0]).toBe(`#!/usr/bin/env -S ${shellPrefix()}`);
  });

  it("the shebang's env -S line starts node with the flags and the environment", async () => {
    const shebang = read('src/cli.ts').split('\n')[0]!.replace(/^#!\/usr\/bin\/env -S /, '');
    const { stdout } = await execFileAsync('/usr/bin/env', ['-S', shebang, '-e', 'console.log(JSON.stringify({ argv: process.execArgv, env: process.env.MALLOC_ARENA_MAX }))'], { env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` } });
    const out = JSON.parse(stdout) as { argv: string[]; env: string };
    expect(out.argv.slice(0, SERVER_NODE_FLAGS.length)).toEqual(SERVER_NODE_FLAGS);
    expect(out.env).toBe(SERVER_ENV.MALLOC_ARENA_MAX);
  });
});
