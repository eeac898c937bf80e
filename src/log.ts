import { pino, type Logger } from 'pino';

/**
 * The one pino instance. JSON to stdout; pretty when stdout is a terminal. Modules take
 * a child logger (`log.child({ app })`) rather than importing this for each line.
 */
function createRootLogger(): Logger {
  const level = process.env.MINPAAS_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  if (process.stdout.isTTY && !process.env.VITEST) {
    return pino({ level, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss' } } });
  }
  return pino({ level });
}

export const log: Logger = createRootLogger();
export type { Logger };
