import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_ENV_FILE } from '../../src/build/build-env.js';
import { buildContext, PLATFORM_DOCKERFILE } from '../../src/build/context.js';
import { withLabels } from '../../src/build/image-builder.js';

async function entries(stream: NodeJS.ReadableStream): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const extract = tarStream.extract();
  extract.on('entry', (header, body, next) => {
    let text = '';
    body.on('data', (c: unknown) => (text += String(c)));
    body.on('end', () => {
      if (header.type === 'file') files[header.name] = text;
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', () => resolve());
    extract.on('error', reject);
  });
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return files;
}

describe('build context', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-ctx-'));
    await fs.mkdir(path.join(dir, '.git'));
    await fs.writeFile(path.join(dir, '.git', 'HEAD'), 'ref: x');
    await fs.mkdir(path.join(dir, 'lib'));
    await fs.writeFile(path.join(dir, 'lib', 'a.js'), 'a');
    await fs.writeFile(path.join(dir, 'Dockerfile'), 'FROM evil');
    await fs.writeFile(path.join(dir, PLATFORM_DOCKERFILE), 'FROM forged');
    await fs.writeFile(path.join(dir, BUILD_ENV_FILE), 'export FORGED=1\n');
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it("carries the source and the platform's Dockerfile, never the app's forgery of it, nor .git", async () => {
    const files = await entries(buildContext(dir, 'FROM platform\n'));
    expect(files[PLATFORM_DOCKERFILE]).toBe('FROM platform\n');
    expect(files['lib/a.js']).toBe('a');
    // The app's own Dockerfile may travel along; the build names the platform's.
    expect(files.Dockerfile).toBe('FROM evil');
    expect(Object.keys(files).some((f) => f.startsWith('.git/'))).toBe(false);
  });

  it("carries the build's config file for Dockerfiles that source it, never the app's own file of that name", async () => {
    const files = await entries(buildContext(dir, `FROM platform\nCOPY ${BUILD_ENV_FILE} ./\n`, "export A='1'\n"));
    expect(files[BUILD_ENV_FILE]).toBe("export A='1'\n");
  });

  it('leaves the config file out for a Dockerfile that does not name it (a COPY . . would put it in the image)', async () => {
    const files = await entries(buildContext(dir, 'FROM platform\nCOPY . .\n', "export A='1'\n"));
    expect(files[BUILD_ENV_FILE]).toBeUndefined();
  });
});

describe('image labels', () => {
  it('become one quoted LABEL line at the end of the Dockerfile', () => {
    expect(withLabels('FROM x\nCMD y\n\n', { 'minpaas.app': 'web', 'minpaas.release': '3' })).toBe(
      'FROM x\nCMD y\nLABEL "minpaas.app"="web" "minpaas.release"="3"\n',
    );
  });

});
