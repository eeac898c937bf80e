import { MinPaasError } from '../errors.js';

/**
 * A Procfile: one `type: command` line per process type (Heroku's format). Parsed
 * strictly: a line that is neither blank, a `#` comment nor `type: command` is refused
 * with its line number, and so is a type named twice, so a typo never silently drops a
 * process.
 */
export type ProcessTypes = Record<string, string>;

/** Process type names as Heroku accepts them; they become parts of container names. */
export const PROCESS_TYPE_PATTERN = /^[A-Za-z0-9_-]{1,30}$/;

const LINE = /^([^:\s]+)\s*:\s*(.*)$/;

/** Shown in errors: enough to find the line, never the whole of a long command. */
function shown(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

export function parseProcfile(text: string): ProcessTypes {
  const types: ProcessTypes = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `Procfile line ${index + 1}`;
    const match = LINE.exec(line);
    if (!match) throw procfileError(`${where} is not "type: command": ${shown(line)}`);
    const [, name, command] = match as unknown as [string, string, string];
    if (!PROCESS_TYPE_PATTERN.test(name)) {
      throw procfileError(`${where}: process type ${shown(name)} must be 1-30 letters, digits, dashes or underscores`);
    }
    if (command.trim() === '') throw procfileError(`${where}: process type ${name} has no command`);
    if (Object.hasOwn(types, name)) throw procfileError(`${where}: process type ${name} is defined twice; keep one line per type`);
    types[name] = command.trim();
  });
  return types;
}

function procfileError(message: string): MinPaasError {
  return new MinPaasError('CONTRACT_VIOLATED', message);
}
