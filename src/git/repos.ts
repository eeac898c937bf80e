import fs from 'node:fs/promises';
import path from 'node:path';
import { runGit } from './run-git.js';

/** Bare repositories live at <data>/repos/APP.git, one per app. */
export class RepoStore {
  constructor(
    readonly root: string,
    private readonly hooksDir: string,
    /** git's receive.maxInputSize: a larger push fails in receive-pack, before any hook. */
    private readonly maxPushBytes: number,
  ) {}

  pathOf(app: string): string {
    return path.join(this.root, `${app}.git`);
  }

  async exists(app: string): Promise<boolean> {
    try {
      return (await fs.stat(path.join(this.pathOf(app), 'HEAD'))).isFile();
    } catch {
      return false;
    }
  }

  /** Creates the bare repo (callers validated the name) wired to the platform's hooks. */
  async ensure(app: string): Promise<void> {
    if (await this.exists(app)) return;
    const dir = this.pathOf(app);
    await fs.mkdir(this.root, { recursive: true });
    await runGit(['init', '--quiet', '--bare', '--initial-branch=main', dir]);
    await this.wireHooks(app);
  }

  /** Points the repo at the platform's hooks folder (one folder for all repos, no copies) and its limits. */
  async wireHooks(app: string): Promise<void> {
    const env = { ...process.env, GIT_DIR: this.pathOf(app) };
    await runGit(['config', 'core.hooksPath', this.hooksDir], { env });
    await runGit(['config', 'receive.maxInputSize', String(this.maxPushBytes)], { env });
  }

  /** Re-wires every repo: the project may have moved since they were created. */
  async wireAll(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.root);
    } catch {
      return;
    }
    for (const name of names) if (name.endsWith('.git')) await this.wireHooks(name.slice(0, -4));
  }

  /** The app names that have a repo here. */
  async names(): Promise<string[]> {
    const entries = await fs.readdir(this.root).catch(() => [] as string[]);
    return entries.filter((e) => e.endsWith('.git')).map((e) => e.slice(0, -4));
  }

  async remove(app: string): Promise<void> {
    await fs.rm(this.pathOf(app), { recursive: true, force: true });
  }
}
