import fs from 'node:fs/promises';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { runGit } from './run-git.js';

let cached: Promise<string> | undefined;

/** What git's own receive-pack advertises for a repository without refs (made once, by git itself). */
function emptyRepoAdvertisement(): Promise<string> {
  cached ??= (async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-empty-'));
    try {
      await runGit(['init', '--quiet', '--bare', dir]);
      return (await runGit(['receive-pack', '--stateless-rpc', '--advertise-refs', dir])).stdout;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

/**
 * Answers `GET /APP.git/info/refs?service=git-receive-pack` for an app that has no repo
 * yet as an empty repo would, so the client sends its pack; the repo is created only
 * when that pack arrives. A bare info/refs request creates nothing.
 */
export async function sendEmptyReceivePackAdvertisement(res: http.ServerResponse): Promise<void> {
  const refs = await emptyRepoAdvertisement();
  const header = '# service=git-receive-pack\n';
  const pkt = `${(header.length + 4).toString(16).padStart(4, '0')}${header}0000`;
  res.writeHead(200, {
    'Content-Type': 'application/x-git-receive-pack-advertisement',
    'Cache-Control': 'no-cache, max-age=0, must-revalidate',
  });
  res.end(Buffer.from(pkt + refs, 'utf8'));
}
