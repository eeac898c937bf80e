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

/** SourceFiles over a directory on disk; only top-level names matter to runtimes. */
export function directoryFiles(dir: string): SourceFiles {
  return {
    async has(file) {
      try {
        return (await fs.stat(path.join(dir, file))).isFile();
      } catch {
        return false;
      }
    },
    read: (file) => fs.readFile(path.join(dir, file), 'utf8'),
  };
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
