import type http from 'node:http';
import type { LiveDeploys } from '../deploy/live-deploys.js';
import type { Deploy } from '../domain/types.js';
import type { DashboardApps } from './service.js';
import { lineSplitter, SseStream } from './sse.js';

/** The container's last lines, then each new one, until the client leaves or the container stops. */
export async function streamLogs(apps: DashboardApps, app: string, res: http.ServerResponse): Promise<void> {
  const { stream, stop } = await apps.followLogs(app, 200);
  const sse = new SseStream(res);
  const lines = lineSplitter((line) => sse.line(line));
  sse.onClose(stop);
  if (sse.closed) return stop();
  stream.on('data', (chunk: Buffer) => lines.push(chunk));
  stream.on('end', () => {
    lines.flush();
    sse.event('done', 'the container stopped');
    sse.end();
  });
  stream.on('error', () => sse.end());
}

/**
 * A deploy's log so far, then each new line, then `done` with the outcome. A running
 * deploy's lines come from its live log; it is finished when it no longer runs and its
 * log is stored (the pipeline stores it after the last line). A finished deploy (or one
 * whose live log this process does not hold) sends its stored log.
 */
export function streamDeploy(apps: DashboardApps, live: LiveDeploys, deploy: Deploy, res: http.ServerResponse): void {
  const { app, id } = deploy;
  const sse = new SseStream(res);
  const log = deploy.status === 'running' ? live.find(app, deploy.startedAt) : undefined;
  let unsubscribe = (): void => undefined;
  if (log) {
    for (const line of log.text().split('\n').slice(0, -1)) sse.line(line);
    unsubscribe = log.subscribe((line) => sse.line(line));
  }
  const stop = (): void => {
    clearInterval(poll);
    unsubscribe();
  };
  const check = (): void => {
    const now = apps.deploys(app).find((d) => d.id === id);
    const stored = !now || now.status === 'running' ? '' : apps.deployLog(app, id);
    if (!now || stored === '') return;
    stop();
    if (!log) for (const line of stored.split('\n').slice(0, -1)) sse.line(line);
    sse.event('done', now.status);
    sse.end();
  };
  const poll = setInterval(() => {
    try {
      check();
    } catch {
      stop();
      sse.end();
    }
  }, 500);
  sse.onClose(stop);
  check();
}
