import { stripAnsi } from '../domain/ansi.js';

/**
 * Pure parser of Docker's classic-builder progress objects. A failing RUN arrives in the
 * stream as {error, errorDetail} while followProgress reports no error, so the stream is
 * the one place that tells a build failed.
 */
export interface BuildEvent {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string };
}

export interface BuildOutcome {
  imageId: string | null;
  error: string | null;
}

/**
 * Docker's own bookkeeping in the classic builder's output (step headers, layer IDs,
 * intermediate containers, cache hits, the final tag): not the user's business. The
 * push output shows what the build's commands print instead.
 */
const BOOKKEEPING = [
  /^Step \d+\/\d+ : /,
  /^ ---> /,
  /^Removing intermediate container [0-9a-f]+$/,
  /^Successfully (built|tagged) /,
];

/** The classic builder wraps a step's stderr in colour codes, so a bookkeeping line may start with one. */
export function isDockerBookkeeping(line: string): boolean {
  const clean = stripAnsi(line);
  return BOOKKEEPING.some((re) => re.test(clean));
}

/** A failed RUN step's message names its whole command; a long shell script is cut. */
export function shortenStepError(message: string): string {
  const m = /^The command '([\s\S]*)' returned a non-zero code: (\d+)$/.exec(message);
  if (!m || m[1]!.length <= 100) return message;
  return `The command '${m[1]!.slice(0, 100).replace(/\s+/g, ' ')}…' returned a non-zero code: ${m[2]}`;
}

export class BuildStreamParser {
  private pending = '';
  private imageId: string | null = null;
  private error: string | null = null;

  /** Feeds one progress object; returns the complete log lines it carried. */
  push(event: BuildEvent): string[] {
    if (event.aux?.ID) this.imageId = event.aux.ID;
    if (event.error || event.errorDetail?.message) {
      this.error = shortenStepError((event.errorDetail?.message ?? event.error ?? 'build failed').trim());
      // The error itself is not a log line: it becomes the failure message, shown once.
      return this.flush();
    }
    if (typeof event.stream === 'string') return this.take(event.stream);
    // Pull progress (base image downloads): one line per layer status, without bars.
    if (typeof event.status === 'string' && !event.progress) {
      return [event.id ? `${event.id}: ${event.status}` : event.status];
    }
    return [];
  }

  /** Lines still buffered when the stream ended. */
  flush(): string[] {
    const rest = this.pending;
    this.pending = '';
    const line = rest.replace(/\r/g, '');
    return line.trim() === '' || isDockerBookkeeping(line) ? [] : [line];
  }

  outcome(): BuildOutcome {
    return { imageId: this.imageId, error: this.error };
  }

  private take(text: string): string[] {
    const parts = (this.pending + text).split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map((l) => l.replace(/\r/g, '')).filter((l) => l.trim() !== '' && !isDockerBookkeeping(l));
  }
}
