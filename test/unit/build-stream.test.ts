import { describe, expect, it } from 'vitest';
import { BuildStreamParser } from '../../src/docker/build-stream.js';

describe('build stream parsing', () => {
  it('splits stream text into lines across events and finds the image ID', () => {
    const p = new BuildStreamParser();
    expect(p.push({ stream: 'Step 1/2 : FROM x\n ---> abc' })).toEqual(['Step 1/2 : FROM x']);
    expect(p.push({ stream: '123\n' })).toEqual([' ---> abc123']);
    expect(p.push({ aux: { ID: 'sha256:feed' } })).toEqual([]);
    expect(p.push({ stream: 'Successfully built feed\n' })).toEqual(['Successfully built feed']);
    expect(p.outcome()).toEqual({ imageId: 'sha256:feed', error: null });
  });

  it('reports a failing step from the stream (followProgress reports no error)', () => {
    const p = new BuildStreamParser();
    p.push({ stream: 'Step 5/9 : RUN false\n' });
    const lines = p.push({ error: "The command '/bin/sh -c false' returned a non-zero code: 1", errorDetail: { code: 1, message: "The command '/bin/sh -c false' returned a non-zero code: 1" } });
    expect(lines).toEqual(["The command '/bin/sh -c false' returned a non-zero code: 1"]);
    expect(p.outcome().error).toMatch(/non-zero code: 1/);
    expect(p.outcome().imageId).toBeNull();
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
