import fs from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeName } from '../domain/types.js';

/** What a platform runtime is: how to recognise an app, what it must contain, how it runs. */
export interface Runtime {
  name: RuntimeName;
  /** Port the app listens on inside its container; exported to it as $PORT. */
  appPort: number;
  /** Path of the platform-owned Dockerfile, relative to the project root. */
  dockerfile: string;
  /** True when the source tree looks like this runtime's app. */
  detect(files: SourceFiles): Promise<boolean>;
  /** Every broken rule of the runtime's contract, as messages naming the file and rule. */
  check(files: SourceFiles): Promise<string[]>;
}

/** Read access to an app's source tree (a directory on disk, or a git tree). */
export interface SourceFiles {
  has(file: string): Promise<boolean>;
  read(file: string): Promise<string>;
}

/** A file a runtime may not read; the message names it and never shows its content. */
export class SourceFileError extends Error {}

/** Most bytes a runtime reads of one file (package.json and the like are far smaller). */
export const MAX_SOURCE_FILE_BYTES = 1024 * 1024;

/**
 * SourceFiles over a directory on disk; only top-level names matter to runtimes. Only
 * regular files that really lie inside `dir` count: a symlink to /etc/passwd or up out
 * of the tree (however many links it takes), a device, a FIFO is "not there", so nothing
 * outside the app's source is ever read. Errors name the file, never its content.
 */
export function directoryFiles(dir: string): SourceFiles {
  const inside = async (file: string): Promise<string | null> => {
    try {
      const root = await fs.realpath(dir);
      const real = await fs.realpath(path.join(dir, file));
      if (!real.startsWith(`${root}${path.sep}`)) return null;
      return (await fs.stat(real)).isFile() ? real : null;
    } catch {
      return null;
    }
  };
  return {
    has: async (file) => (await inside(file)) !== null,
    async read(file) {
      const real = await inside(file);
      if (real === null) throw new SourceFileError(`${file} is not a regular file inside the app's source`);
      const handle = await fs.open(real, 'r');
      try {
        const { size } = await handle.stat();
        if (size > MAX_SOURCE_FILE_BYTES) throw new SourceFileError(`${file} is larger than ${MAX_SOURCE_FILE_BYTES / 1024} KiB`);
        return (await handle.readFile()).toString('utf8');
      } finally {
        await handle.close();
      }
    },
  };
}

/**
 * What to tell a user about a JSON.parse failure: V8's message quotes the text it
 * choked on, which may be anything (a symlinked secret), so only the position is kept.
 */
export function jsonErrorSummary(err: unknown): string {
  if (err instanceof SourceFileError) return err.message;
  const position = /position (\d+)/.exec(String((err as Error)?.message ?? ''));
  return position ? `invalid JSON at position ${position[1]}` : 'invalid JSON';
}

/** SourceFiles over a fixed map (unit tests, and trees listed from git). */
export function memoryFiles(files: Record<string, string>): SourceFiles {
  return {
    has: async (file) => Object.hasOwn(files, file),
    read: async (file) => {
      if (!Object.hasOwn(files, file)) throw new Error(`no such file: ${file}`);
      return files[file]!;
    },
  };
}
