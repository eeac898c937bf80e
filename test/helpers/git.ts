import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout + stderr: where git puts `remote:` lines. */
  output: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...opts.env }, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), output: `${stdout}${stderr}` });
      },
    );
  });
}

const IDENTITY = ['-c', 'user.email=test@minpaas.local', '-c', 'user.name=MinPaas Test'];

/** A temp git work tree holding `files`, committed on `main`. */
export class AppRepo {
  private constructor(readonly dir: string) {}

  static async create(files: Record<string, string>): Promise<AppRepo> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-app-'));
    const repo = new AppRepo(dir);
    await repo.git('init', '-q', '-b', 'main');
    await repo.commit(files, 'initial');
    return repo;
  }

  async git(...args: string[]): Promise<RunResult> {
    return run('git', [...IDENTITY, ...args], { cwd: this.dir });
  }

  /** Writes files (null deletes one) and commits them. */
  async commit(files: Record<string, string | null>, message: string): Promise<string> {
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(this.dir, name);
      if (content === null) await fs.rm(file, { force: true });
      else {
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, content);
      }
    }
    await this.git('add', '-A');
    await this.git('commit', '-q', '--allow-empty', '-m', message);
    return (await this.git('rev-parse', 'HEAD')).stdout.trim();
  }

  push(remote: string, refspec = 'main', ...flags: string[]): Promise<RunResult> {
    return this.git('push', ...flags, remote, refspec);
  }

  async remove(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
