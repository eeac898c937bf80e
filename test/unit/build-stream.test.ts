import { describe, expect, it } from 'vitest';
import { BuildStreamParser, shortenStepError } from '../../src/docker/build-stream.js';

describe('build stream parsing', () => {
  it('splits stream text into lines across events and finds the image ID', () => {
    const p = new BuildStreamParser();
    expect(p.push({ stream: 'added 3 pack' })).toEqual([]);
    expect(p.push({ stream: 'ages\nnext\n' })).toEqual(['added 3 packages', 'next']);
    expect(p.push({ aux: { ID: 'sha256:feed' } })).toEqual([]);
    expect(p.outcome()).toEqual({ imageId: 'sha256:feed', error: null });
  });

  it("drops Docker's bookkeeping lines, split across events or not, and keeps the commands' output", () => {
    const p = new BuildStreamParser();
    const lines = [
      ...p.push({ stream: 'Step 1/9 : FROM x\n ---> 1a2b3c4d5e6f\nStep 2/9 : RUN npm ci\n ---> Running in 0123456789ab\n' }),
      ...p.push({ stream: 'added 3 packages\n' }),
      ...p.push({ stream: '-----> Installing dependencies\n' }),
      ...p.push({ stream: 'Removing intermediate container 0123456789ab\n ---> 9f8e7d6c5b4a\nStep 3/9 : COPY . .\n ---> Using cache\n' }),
      ...p.push({ stream: ' ---> Using ca' }),
      ...p.push({ stream: 'che\nSuccessfully built 9f8e7d6c5b4a\nSuccessfully tagged minpaas/a:v1\n' }),
    ];
    expect(lines).toEqual(['added 3 packages', '-----> Installing dependencies']);
  });

  it('reports a failing step from the stream (followProgress reports no error)', () => {
    const p = new BuildStreamParser();
    p.push({ stream: 'Step 5/9 : RUN false\n' });
    const lines = p.push({ error: "The command '/bin/sh -c false' returned a non-zero code: 1", errorDetail: { code: 1, message: "The command '/bin/sh -c false' returned a non-zero code: 1" } });
    // Not a log line: it becomes the failure message, shown once.
    expect(lines).toEqual([]);
    expect(p.outcome().error).toMatch(/non-zero code: 1/);
    expect(p.outcome().imageId).toBeNull();
  });

  it('drops bookkeeping lines that start with the colour codes of a step\'s stderr', () => {
    const p = new BuildStreamParser();
    expect(p.push({ stream: '\u001b[91mERROR: no match\n\u001b[0mRemoving intermediate container d091189a828f\n' })).toEqual(['\u001b[91mERROR: no match']);
  });

  it('cuts the long shell command of a failed step, keeping its exit code', () => {
    const p = new BuildStreamParser();
    const command = `/bin/sh -c ${'echo step; '.repeat(30)}exit 1`;
    p.push({ error: `The command '${command}' returned a non-zero code: 7`, errorDetail: { code: 7, message: `The command '${command}' returned a non-zero code: 7` } });
    expect(p.outcome().error).toBe(`The command '${command.slice(0, 100)}…' returned a non-zero code: 7`);
    expect(shortenStepError("The command '/bin/sh -c false' returned a non-zero code: 1")).toBe("The command '/bin/sh -c false' returned a non-zero code: 1");
  });

  it('flushes a last line without a newline and drops blank lines and carriage returns', () => {
    const p = new BuildStreamParser();
    expect(p.push({ stream: '\n\nadded 3 packages\r\n' })).toEqual(['added 3 packages']);
    p.push({ stream: 'tail' });
    expect(p.flush()).toEqual(['tail']);
    expect(p.flush()).toEqual([]);
  });

  it('shows pull status lines but not progress bars', () => {
    const p = new BuildStreamParser();
    expect(p.push({ status: 'Pulling fs layer', id: 'abc' })).toEqual(['abc: Pulling fs layer']);
    expect(p.push({ status: 'Downloading', progress: '[==>  ]', id: 'abc' })).toEqual([]);
  });
});
