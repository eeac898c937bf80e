import tarFs from 'tar-fs';
import type { Readable } from 'node:stream';
import { BUILD_ENV_FILE } from './build-env.js';

/** Name of the platform's Dockerfile inside the build context; the app's own Dockerfile never wins. */
export const PLATFORM_DOCKERFILE = '.minpaas.Dockerfile';

/** Names the platform puts into a context: the app's own files of these names are left out. */
const PLATFORM_FILES = new Set([PLATFORM_DOCKERFILE, BUILD_ENV_FILE]);

function isExcluded(rel: string): boolean {
  return rel === '.git' || rel.startsWith('.git/') || PLATFORM_FILES.has(rel);
}

/**
 * A tar stream of the app's source with the runtime's Dockerfile appended, and the build's
 * config file (see build-env.ts). `.git` is left out (clones carry one), and so is any
 * file of the app that has one of the platform's names.
 *
 * The config file goes only to Dockerfiles that name it: a Dockerfile that does not
 * source it in a build stage could copy it into the image with `COPY . .`.
 */
export function buildContext(sourceDir: string, dockerfile: string, buildEnv = ''): Readable {
  const withEnv = dockerfile.includes(BUILD_ENV_FILE);
  const options: tarFs.PackOptions & { umask: number } = {
    ignore: (name: string) => isExcluded(name.slice(sourceDir.length).replace(/^\/+/, '')),
    // The server's umask is 077, so its workspaces are owner-only; inside the image the
    // files are world-readable as before (dirs 0755, files 0644, executables 0755).
    readable: true,
    umask: 0o022,
    finalize: false,
    finish(pack) {
      pack.entry({ name: PLATFORM_DOCKERFILE, mode: 0o644 }, dockerfile);
      // Readable by its owner only: COPY keeps the mode.
      if (withEnv) pack.entry({ name: BUILD_ENV_FILE, mode: 0o600 }, buildEnv);
      pack.finalize();
    },
  };
  const pack = tarFs.pack(sourceDir, options);
  // tar-stream's Pack is a streamx Readable; Docker's client only pipes it.
  return pack as unknown as Readable;
}
