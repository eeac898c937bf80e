import { describe, expect, it } from 'vitest';
import { dockerfileCmd, exposedPorts, platformView } from '../../src/build/dockerfile-builder.js';

describe("an app's own Dockerfile", () => {
  it('finds the EXPOSEd TCP ports in order, without duplicates or UDP', () => {
    expect(exposedPorts('FROM x\nEXPOSE 8080\n')).toEqual([8080]);
    expect(exposedPorts('FROM x\nexpose 9000/tcp 53/udp \\\n  7000\nEXPOSE 9000\n')).toEqual([9000, 7000]);
    expect(exposedPorts('FROM x\n# EXPOSE 1234\nCMD ["x"]\n')).toEqual([]);
    expect(exposedPorts('FROM x\nEXPOSE $PORT 99999\n')).toEqual([]);
  });

  it('reads the last CMD as a command line', () => {
    expect(dockerfileCmd('FROM x\nCMD ["node", "a.js"]\nCMD ["node", "server.js"]\n')).toBe('node server.js');
    expect(dockerfileCmd('FROM x\nCMD gunicorn app:app \\\n  --workers 2\n')).toBe('gunicorn app:app    --workers 2');
    expect(dockerfileCmd('FROM x\n')).toBe('');
  });

  it('labels the first layer of every stage, runs a Procfile web as CMD, and ends with the ownership labels', () => {
    const view = platformView('# syntax=docker/dockerfile:1\nFROM a AS build\nRUN make\nFROM \\\n  b\nCOPY --from=build /x /x\n', { 'minpaas.app': 'web' }, 'node web.js');
    expect(view.split('\n')).toEqual([
      '# syntax=docker/dockerfile:1',
      'FROM a AS build',
      'LABEL minpaas.build-layer="true"',
      'RUN make',
      'FROM \\',
      '  b',
      'LABEL minpaas.build-layer="true"',
      'COPY --from=build /x /x',
      'CMD node web.js',
      'LABEL "minpaas.app"="web"',
      '',
    ]);
  });
});
