import type http from 'node:http';
import { decodeRun, type ProcessService, type RunCommand } from '../apps/process-service.js';
import { parseFormation } from '../domain/processes.js';
import { isMinPaasError } from '../errors.js';
import type { Route } from './api-routes.js';
import { decodeAppName } from './commands.js';
import { readJson, readJsonObject, sendJson } from './respond.js';

const NAME = '([^/]+)';

/** Aborts when the client goes away before its answer is complete (the one-off is killed). */
function clientGone(res: http.ServerResponse): AbortSignal {
  const gone = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  return gone.signal;
}

/**
 * POST /apps/APP/run: NDJSON, `{"stdout": text}` / `{"stderr": text}` as the command
 * writes, then `{"exitCode": N}` (null and `"timedOut": true` when it was killed) or
 * `{"error", "status"}` as the last line.
 */
async function streamRun(processes: ProcessService, app: string, cmd: RunCommand, res: http.ServerResponse): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  const send = (obj: unknown): void => {
    if (!res.writableEnded) res.write(`${JSON.stringify(obj)}\n`);
  };
  try {
    const result = await processes.run(app, cmd, (stream, chunk) => send({ [stream]: chunk.toString('utf8') }), clientGone(res));
    send({ exitCode: result.exitCode, ...(result.timedOut ? { timedOut: true } : {}) });
  } catch (err) {
    const status = isMinPaasError(err) ? err.status : 500;
    send({ error: isMinPaasError(err) ? err.message : 'internal error; the server log has the details', status });
  }
  res.end();
}

/** Formation, ps and one-off runs. */
export function processRoutes(processes: ProcessService): Route[] {
  return [
    { method: 'GET', path: new RegExp(`^/apps/${NAME}/formation$`), handle: async ({ res, params }) => sendJson(res, 200, processes.formation(decodeAppName(params[0]))) },
    {
      method: 'PATCH',
      path: new RegExp(`^/apps/${NAME}/formation$`),
      handle: async ({ req, res, params }) => sendJson(res, 200, await processes.scale(decodeAppName(params[0]), parseFormation(await readJson(req)))),
    },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}/ps$`), handle: async ({ res, params }) => sendJson(res, 200, await processes.ps(decodeAppName(params[0]))) },
    {
      method: 'POST',
      path: new RegExp(`^/apps/${NAME}/run$`),
      handle: async ({ req, res, params }) => {
        const app = decodeAppName(params[0]);
        const cmd = decodeRun(await readJsonObject(req));
        // Refusals (no such app, no release) are plain JSON errors before the stream starts.
        processes.runnable(app);
        await streamRun(processes, app, cmd, res);
      },
    },
  ];
}
