import { stripAnsi } from '../domain/ansi.js';
import { RELEASE_TYPE } from '../domain/processes.js';
import { MinPaasError } from '../errors.js';
import type { OneOffRequest, Runner } from '../runner/types.js';
import type { DeployLog } from './deploy-log.js';

/** Splits output chunks into lines (a line may span chunks); `flush` hands over the last one. */
export function lineSplitter(onLine: (line: string) => void): { push: (chunk: Buffer) => void; flush: () => void } {
  let partial = '';
  return {
    push: (chunk) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line.replace(/\r$/, ''));
    },
    flush: () => {
      if (partial !== '') onLine(partial);
      partial = '';
    },
  };
}

/**
 * The Procfile's `release:` command, once, in a one-off container of the new image with
 * the new config, before any process of the release starts. Its output goes into the
 * deploy log as it comes; a non-zero exit or the timeout fails the deploy (nothing of the
 * new release has started, so the previous one serves untouched).
 */
export async function runReleasePhase(runner: Pick<Runner, 'runOneOff'>, req: Omit<OneOffRequest, 'command'>, command: string, out: DeployLog): Promise<void> {
  out.step(`Running the release command: ${command}`);
  const lines = lineSplitter((line) => out.detail(stripAnsi(line)));
  const started = Date.now();
  const result = await runner.runOneOff({ ...req, command }, (_stream, chunk) => lines.push(chunk));
  lines.flush();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.timedOut) {
    throw new MinPaasError('RELEASE_FAILED', `the ${RELEASE_TYPE} command did not finish within ${Math.round(req.timeoutMs / 1000)} s (MINPAAS_RELEASE_TIMEOUT); the previous release keeps serving`);
  }
  if (result.exitCode !== 0) {
    throw new MinPaasError('RELEASE_FAILED', `the ${RELEASE_TYPE} command failed (exit code ${result.exitCode ?? 'none: killed'}); the previous release keeps serving`);
  }
  out.step(`Release command succeeded (${seconds} s)`);
}
