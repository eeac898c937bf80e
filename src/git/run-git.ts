import { execFile, type ExecFileOptions } from 'node:child_process';

export interface GitResult {
  stdout: string;
  stderr: string;
}

/** Runs git with an argument array (never a shell string). Rejects with git's own message. */
export function runGit(args: string[], options: ExecFileOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { maxBuffer: 16 * 1024 * 1024, ...options, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const message = String(stderr).trim() || err.message;
        reject(Object.assign(new Error(message), { code: (err as { code?: unknown }).code, killed: err.killed }));
      } else {
        resolve({ stdout: String(stdout), stderr: String(stderr) });
      }
    });
  });
}
