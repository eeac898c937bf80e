import { describe, expect, it } from 'vitest';
import { parseProcfile } from '../../src/runtimes/procfile.js';

describe('Procfile parsing', () => {
  it('reads type: command lines, skipping blanks and comments', () => {
    const text = '# processes\nweb: node server.js --port $PORT\n\nworker:   node worker.js\r\nrelease: npm run migrate\n';
    expect(parseProcfile(text)).toEqual({ web: 'node server.js --port $PORT', worker: 'node worker.js', release: 'npm run migrate' });
  });

  it('keeps colons inside the command', () => {
    expect(parseProcfile('web: gunicorn app:app --bind 0.0.0.0:$PORT')).toEqual({ web: 'gunicorn app:app --bind 0.0.0.0:$PORT' });
  });

  it('accepts an empty Procfile (no process types)', () => {
    expect(parseProcfile('\n# nothing yet\n')).toEqual({});
  });

  it('refuses a type named twice, naming the line and the type', () => {
    expect(() => parseProcfile('web: a\nworker: b\nweb: c')).toThrow('Procfile line 3: process type web is defined twice');
  });

  it('refuses a line that is not type: command', () => {
    expect(() => parseProcfile('web node server.js')).toThrow('Procfile line 1 is not "type: command"');
  });

  it('refuses a type without a command', () => {
    expect(() => parseProcfile('web:   ')).toThrow('Procfile line 1: process type web has no command');
  });

  it('refuses type names that cannot become container names', () => {
    expect(() => parseProcfile('we.b: x')).toThrow('process type "we.b" must be 1-30 letters');
  });

  it('cuts long lines short in errors', () => {
    const long = `not a procfile line ${'x'.repeat(200)}`;
    expect(() => parseProcfile(long)).toThrow(/…"$/);
  });
});
