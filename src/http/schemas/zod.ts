import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Once, before any schema is made: adds `.openapi(...)` (names and examples) to zod types.
extendZodWithOpenApi(z);

export { z };
