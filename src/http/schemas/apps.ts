import { AppNameParam, BuilderSchema, EnvVarsSchema, RuntimeSchema, SchedulerSchema } from './common.js';
import { z } from './zod.js';
// The decoder's words, so whichever layer refuses, the user reads one message.
import { SCHEDULER_ERROR } from '../commands.js';

/*
 * Request bodies check the shape (which fields, which JSON types) at the route, before the
 * app service runs; the service still checks the meaning (valid names, URLs, sizes). Each
 * field's message names the field, so a 400 says what to fix.
 */

const appName = (field: string): z.ZodString => z.string({ error: `invalid app name: "${field}" must be a string` }).openapi({ example: 'my-app' });
const optional = <T extends z.ZodType>(schema: T) => schema.nullable().optional();


export const CreateAppBody = z
  .object({
    name: appName('name'),
    runtime: optional(z.enum(RuntimeSchema.options, { error: 'runtime must be "node" or "python" (or left out: the first push detects it)' })),
    builder: optional(z.enum([...BuilderSchema.options, 'buildpack'], { error: 'builder must be "platform" or "dockerfile"' })),
    scheduler: optional(z.enum(SchedulerSchema.options, { error: SCHEDULER_ERROR })),
  })
  .openapi('CreateApp');

export const SetSchedulerBody = z.object({ scheduler: z.enum(SchedulerSchema.options, { error: SCHEDULER_ERROR }) }).openapi('SetScheduler');

export const DeployBody = z
  .object({
    app: appName('app'),
    runtime: optional(z.enum(RuntimeSchema.options, { error: 'runtime must be "node" or "python"' })),
    repo: z.string({ error: 'repo must be an http(s) URL string' }).openapi({ example: 'https://github.com/owner/app.git' }),
    branch: optional(z.string({ error: 'branch must be a string' })),
    env: optional(z.record(z.string(), z.string({ error: 'env must be an object of string values' }), { error: 'env must be an object of string values' })),
    builder: optional(z.enum([...BuilderSchema.options, 'buildpack'], { error: 'builder must be "platform" or "dockerfile"' })),
  })
  .openapi('DeployRequest');

// `buildpack` is accepted for `platform` (parseBuilder), as a Heroku user would type it.
export const SetBuilderBody = z
  .object({ builder: z.enum([...BuilderSchema.options, 'buildpack'], { error: 'builder must be "platform" (the default: MinPaas builds the app) or "dockerfile" (the app\'s own Dockerfile)' }) })
  .openapi('SetBuilder');

/** `{"NAME": "value"}` sets, `{"NAME": null}` unsets. */
export const ConfigPatchBody = z
  .record(z.string(), z.string({ error: 'config values must be a string (or null to unset)' }).nullable(), {
    error: 'send {"NAME": "value"} to set and {"NAME": null} to unset',
  })
  .openapi('ConfigPatch');

// The same words as the decoder's (resource-changes.ts): whichever layer refuses, the user reads one message.
const LIMIT_ERRORS: Record<string, string> = {
  memory: 'memory must be a size like "512m", "none", or null',
  cpus: 'cpus must be a number like 0.5, "none", or null',
};
const limitValue = (name: 'memory' | 'cpus') => z.union([z.string(), z.number(), z.null()], { error: LIMIT_ERRORS[name]! });

/** Unknown keys are refused by the service (it names them); sizes and counts are checked there too. */
export const ResourcesBody = z
  .looseObject({
    memory: limitValue('memory').optional().openapi({ description: 'e.g. "512m", "1g"; null = the default', example: '512m' }),
    cpus: limitValue('cpus').optional().openapi({ description: 'e.g. 0.5, "2"; null = the default', example: 0.5 }),
  })
  .openapi('ResourcesPatch');

export const RollbackBody = z
  .object({
    release: z.union([z.number().int(), z.string()], { error: 'rollback needs {"release": N} with N a release number, e.g. 2' }).openapi({ example: 2 }),
    runReleasePhase: z.boolean({ error: 'runReleasePhase must be true or false' }).optional().openapi({ description: "Run the Procfile's release command (rollbacks skip it unless asked)" }),
  })
  .openapi('Rollback');

export const AppRecordSchema = z
  .object({
    name: AppNameParam,
    runtime: RuntimeSchema,
    builder: BuilderSchema,
    scheduler: SchedulerSchema,
    repo: z.string().nullable(),
    branch: z.string().nullable(),
    container: z.string().nullable(),
    image: z.string().nullable(),
    port: z.number().int(),
    url: z.string(),
    env: EnvVarsSchema,
    release: z.number().int().nullable(),
    status: z.string().openapi({ description: 'new, deploying, failed, running, restarting, exited, missing, none…' }),
    restarts: z.number().int(),
    resources: z.object({ memory: z.string(), cpus: z.number().nullable() }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('App');

export const ConfigPatchResult = z.object({ config: EnvVarsSchema, release: z.number().int().nullable() }).openapi('ConfigPatchResult');

export const ReleaseSchema = z
  .object({
    app: z.string(),
    number: z.number().int(),
    image: z.string(),
    imageId: z.string(),
    env: EnvVarsSchema,
    commit: z.string().nullable(),
    kind: z.string(),
    description: z.string(),
    processTypes: z.record(z.string(), z.string()),
    listenPort: z.number().int().nullable(),
    createdAt: z.string(),
  })
  .openapi('Release');

export const DeploySchema = z
  .object({
    id: z.number().int(),
    app: z.string(),
    source: z.enum(['push', 'api', 'config', 'rollback', 'webhook', 'scale', 'scheduler']),
    status: z.enum(['running', 'succeeded', 'failed']),
    commit: z.string().nullable(),
    release: z.number().int().nullable(),
    error: z.string().nullable(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('Deploy');

export const DeletedSchema = z.object({ deleted: z.string() }).openapi('Deleted');

export const AppListQuery = z.object({
  limit: z.string().optional().openapi({ description: 'Page size, 1–1000; without it every app is listed. A full page has a Link: rel="next" header.' }),
  after: z.string().optional().openapi({ description: 'The last app name of the previous page (apps are ordered by name).' }),
});
