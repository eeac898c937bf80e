import type http from 'node:http';
import { decodeRun, type ProcessService, type RunCommand } from '../apps/process-service.js';
import { parseFormation } from '../domain/processes.js';
import type { Route } from './api-routes.js';
import { decodeAppName } from './commands.js';
import { clientGone, ndjsonStream, sendJson } from './respond.js';
import { FormationSchema, ProcessListSchema, RunBody, RunStreamLine } from './schemas/processes.js';

const NAME = '([^/]+)';

/**
 * POST /apps/APP/run: NDJSON, `{"stdout": text}` / `{"stderr": text}` as the command
 * writes, then `{"exitCode": N}` (null and `"timedOut": true` when it was killed) or
 * `{"error", "status"}` as the last line.
 */
async function streamRun(processes: ProcessService, app: string, cmd: RunCommand, res: http.ServerResponse): Promise<void> {
  const { send, fail } = ndjsonStream(res);
  res.flushHeaders();
  try {
    const result = await processes.run(app, cmd, (stream, chunk) => send({ [stream]: chunk.toString('utf8') }), clientGone(res));
    send({ exitCode: result.exitCode, ...(result.timedOut ? { timedOut: true } : {}) });
  } catch (err) {
    fail(err);
  }
  res.end();
}

/** Formation, ps and one-off runs. */
export function processRoutes(processes: ProcessService): Route[] {
  return [
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/formation$`),
      access: { need: 'read' },
      handle: async ({ res, params }) => sendJson(res, 200, processes.formation(decodeAppName(params[0]))),
      doc: { path: '/apps/{name}/formation', summary: 'How many of each process type run', responses: { 200: { description: 'The formation', schema: FormationSchema } }, errors: [400, 404] },
    },
    {
      method: 'PATCH',
      path: new RegExp(`^/apps/${NAME}/formation$`),
      access: { need: 'deploy' },
      audit: { action: 'scale', detail: (body) => (body && typeof body === 'object' ? (body as Record<string, unknown>) : null) },
      handle: async ({ res, params, body }) => sendJson(res, 200, await processes.scale(decodeAppName(params[0]), parseFormation(body))),
      doc: { path: '/apps/{name}/formation', summary: 'Scale process types (web replicas swap with no failed request)', body: FormationSchema, responses: { 200: { description: 'The new formation', schema: FormationSchema } }, errors: [400, 404, 409] },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/ps$`),
      access: { need: 'read' },
      handle: async ({ res, params }) => sendJson(res, 200, await processes.ps(decodeAppName(params[0]))),
      doc: { path: '/apps/{name}/ps', summary: 'Every process: type, replica, container, status, uptime, restarts', responses: { 200: { description: 'Processes', schema: ProcessListSchema } }, errors: [400, 404] },
    },
    {
      method: 'POST',
      path: new RegExp(`^/apps/${NAME}/run$`),
      access: { need: 'deploy' },
      // The command is not recorded: its arguments may carry secrets.
      audit: { action: 'run' },
      handle: async ({ res, params, body }) => {
        const app = decodeAppName(params[0]);
        const cmd = decodeRun(body as Record<string, unknown>);
        // Refusals (no such app, no release) are plain JSON errors before the stream starts.
        processes.runnable(app);
        await streamRun(processes, app, cmd, res);
      },
      doc: {
        path: '/apps/{name}/run',
        summary: 'A one-off container of the current release; streams its output and exit code as NDJSON',
        body: RunBody,
        responses: { 200: { description: 'NDJSON lines of RunStreamLine', schema: RunStreamLine, contentType: 'application/x-ndjson' } },
        errors: [400, 404, 409],
      },
    },
  ];
}
