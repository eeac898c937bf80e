import type { BuildRequest, DockerEngine } from '../docker/index.js';
import { errorMessage, MinPaasError } from '../errors.js';

export interface BuiltImage {
  tag: string;
  id: string;
}

/** How many log lines a build failure carries back to the user. */
const FAILURE_TAIL = 30;

export interface BuildBounds {
  /** MINPAAS_BUILD_TIMEOUT: the build is stopped after this long. */
  timeoutMs: number;
  /** Set when the client that asked for the build went away. */
  signal?: AbortSignal | undefined;
  onLine: (line: string) => void;
}

/**
 * One image build, whichever Dockerfile it builds: bounded by the build timeout and the
 * asking client, its failure carrying the last lines of its output, and a half-built
 * image never left under the release's tag.
 */
export async function runBuild(docker: DockerEngine, request: Omit<BuildRequest, 'signal'>, bounds: BuildBounds): Promise<BuiltImage> {
  const tail: string[] = [];
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > FAILURE_TAIL) tail.shift();
    bounds.onLine(line);
  };
  const timeout = AbortSignal.timeout(bounds.timeoutMs);
  const signal = bounds.signal ? AbortSignal.any([bounds.signal, timeout]) : timeout;
  try {
    return { tag: request.tag, id: await docker.build({ ...request, signal }, onLine) };
  } catch (err) {
    await docker.removeImage(request.tag).catch(() => false);
    if (bounds.signal?.aborted) throw new MinPaasError('BUILD_FAILED', 'build stopped: the client that asked for it went away; nothing was released', tail);
    if (timeout.aborted) {
      const minutes = Math.round(bounds.timeoutMs / 6000) / 10;
      throw new MinPaasError('BUILD_FAILED', `build timed out after ${minutes} min (MINPAAS_BUILD_TIMEOUT); nothing was released`, tail);
    }
    throw new MinPaasError('BUILD_FAILED', `build failed: ${errorMessage(err)}`, tail);
  }
}
