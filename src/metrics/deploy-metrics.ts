import type { DeploySource, ReleaseKind } from '../domain/types.js';

/** The deploy steps whose durations are histograms. */
export type MeasuredStep = 'build' | 'health_check' | 'switch' | 'drain';

/**
 * What the pipeline tells the metrics, one call per measured step, so the hooks are one
 * line each wherever the pipeline's steps live.
 */
export interface DeployMetrics {
  /** A recorded deploy ended (refused requests that never became a deploy are not counted). */
  deployFinished(app: string, source: DeploySource, outcome: 'succeeded' | 'failed'): void;
  /** A release was committed. */
  released(app: string, kind: ReleaseKind): void;
  stepTook(step: MeasuredStep, ms: number): void;
}

export const noDeployMetrics: DeployMetrics = {
  deployFinished: () => undefined,
  released: () => undefined,
  stepTook: () => undefined,
};

/** Runs `work` and reports how long it took (also when it throws: a failed build took time too). */
export async function timed<T>(metrics: DeployMetrics | undefined, step: MeasuredStep, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    metrics?.stepTook(step, performance.now() - started);
  }
}
