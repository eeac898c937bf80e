import { z } from './zod.js';

/** Formation, ps and one-off runs (issue 10's routes). Bodies are checked again by their decoders. */

export const FormationSchema = z
  .record(z.string(), z.number().int())
  .openapi('Formation', { description: 'Process type → count, e.g. {"web": 3, "worker": 1}' });

export const ProcessListSchema = z
  .looseObject({ app: z.string(), processes: z.array(z.looseObject({ type: z.string(), replica: z.number().int(), status: z.string() })) })
  .openapi('ProcessList');

export const RunBody = z
  .object({
    command: z.array(z.string(), { error: 'run needs {"command": ["cmd", "arg", …]}: a non-empty array of strings' }),
    timeout: z.number({ error: 'timeout must be a whole number of seconds from 1 to 86400' }).int().optional().openapi({ description: 'Seconds (default MINPAAS_RUN_TIMEOUT)' }),
  })
  .openapi('Run');

export const RunStreamLine = z
  .union([z.object({ stdout: z.string() }), z.object({ stderr: z.string() }), z.looseObject({ exitCode: z.number().int().nullable() }), z.looseObject({ error: z.string() })])
  .openapi('RunStreamLine', { description: 'NDJSON: output chunks, then {"exitCode"} (null with "timedOut": true) or an error' });
