import tarFs from 'tar-fs';
import type { Readable } from 'node:stream';

/** Name of the platform's Dockerfile inside the build context; the app's own Dockerfile never wins. */
export const PLATFORM_DOCKERFILE = '.minpaas.Dockerfile';

/**
 * A tar stream of the app's source with the runtime's Dockerfile appended. `.git` is left
 * out (clones carry one), and so is any file of the app that has the platform's name.
 */
export function buildContext(sourceDir: string, dockerfile: string): Readable {
  const options: tarFs.PackOptions & { umask: number } = {
    ignore: (name: string) => {
      const rel = name.slice(sourceDir.length).replace(/^\/+/, '');
      return rel === '.git' || rel.startsWith('.git/') || rel === PLATFORM_DOCKERFILE;
    },
    // The server's umask is 077, so its workspaces are owner-only; inside the image the
    // files are world-readable as before (dirs 0755, files 0644, executables 0755).
    readable: true,
    umask: 0o022,
    finalize: false,
    finish(pack) {
      pack.entry({ name: PLATFORM_DOCKERFILE, mode: 0o644 }, dockerfile);
      pack.finalize();
    },
  };
  const pack = tarFs.pack(sourceDir, options);
  // tar-stream's Pack is a streamx Readable; Docker's client only pipes it.
  return pack as unknown as Readable;
}
