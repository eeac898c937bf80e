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

export class BuildStreamParser {
  private pending = '';
  private imageId: string | null = null;
  private error: string | null = null;

  /** Feeds one progress object; returns the complete log lines it carried. */
  push(event: BuildEvent): string[] {
    if (event.aux?.ID) this.imageId = event.aux.ID;
    if (event.error || event.errorDetail?.message) {
      this.error = (event.errorDetail?.message ?? event.error ?? 'build failed').trim();
      return [...this.flush(), this.error];
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
    return rest.trim() === '' ? [] : [rest.replace(/\r/g, '')];
  }

  outcome(): BuildOutcome {
    return { imageId: this.imageId, error: this.error };
  }

  private take(text: string): string[] {
    const parts = (this.pending + text).split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map((l) => l.replace(/\r/g, '')).filter((l) => l.trim() !== '');
  }
}
