import { z } from './zod.js';

export const NodeSchema = z
  .object({
    id: z.string(),
    hostname: z.string(),
    role: z.string().openapi({ description: 'manager or worker' }),
    availability: z.string().openapi({ description: 'active, pause or drain' }),
    state: z.string().openapi({ description: 'ready, down…' }),
    address: z.string().nullable(),
    leader: z.boolean(),
    tasks: z.number().int().openapi({ description: 'Running tasks on the node (every service)' }),
  })
  .openapi('Node');

export const NodeListSchema = z.array(NodeSchema).openapi('NodeList');
