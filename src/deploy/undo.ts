import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * The undos of the steps done so far. A step registers its own undo as it succeeds (or
 * before it starts, when it can half-happen); a failure runs them newest first. An undo
 * that fails is logged and the others still run: each leaves things as its step found them.
 */
export class UndoStack {
  private readonly undos: Array<{ what: string; run: () => Promise<unknown> }> = [];

  constructor(private readonly log: Logger) {}

  push(what: string, run: () => Promise<unknown>): void {
    this.undos.push({ what, run });
  }

  async runAll(): Promise<void> {
    for (const undo of this.undos.reverse()) {
      try {
        await undo.run();
      } catch (err) {
        this.log.error({ undo: undo.what, err: errorMessage(err) }, 'an undo failed');
      }
    }
    this.undos.length = 0;
  }
}
