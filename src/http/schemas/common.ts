import { ErrorCodes } from '../../errors.js';
import { z } from './zod.js';

const codes = Object.keys(ErrorCodes) as [keyof typeof ErrorCodes, ...(keyof typeof ErrorCodes)[]];

/** Every error answer of every route (streams end with the same object plus `status`). */
export const ErrorBodySchema = z
  .object({
    error: z.string().openapi({ description: 'What went wrong and what to do about it.' }),
    code: z.enum(codes).openapi({ description: 'Stable machine-readable code; the HTTP status follows from it.' }),
    details: z.array(z.string()).optional().openapi({ description: 'Extra lines, e.g. the tail of a build log.' }),
    requestId: z.string().optional().openapi({ description: 'On 500s: the id of the request in the server log (also the X-Request-Id header).' }),
  })
  .openapi('Error');

export const AppNameParam = z.string().openapi({ description: 'App name: lowercase letters, digits and dashes.', example: 'my-app' });

export const EnvVarsSchema = z.record(z.string(), z.string()).openapi('EnvVars');

export const RuntimeSchema = z.enum(['node', 'python']);
export const SchedulerSchema = z.enum(['docker-local', 'swarm']).openapi('Scheduler');
export const BuilderSchema = z.enum(['platform', 'dockerfile']);
