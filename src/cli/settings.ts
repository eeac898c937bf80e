import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the CLI finds the API and its token. Order: `--url/--token` flags, then
 * `MINPAAS_URL`/`MINPAAS_TOKEN`, then the file `minpaas login` wrote, then (token only)
 * `<MINPAAS_DATA_DIR or ./data>/token` of a server on this machine.
 */

type Env = Record<string, string | undefined>;

export const DEFAULT_URL = 'http://127.0.0.1:7000';

export interface Settings {
  url: string;
  token: string | undefined;
  /** Where each value came from, for messages ("flag", "env", "config file", ...). */
  urlSource: string;
  tokenSource: string;
}

export interface SavedSettings {
  url?: string;
  token?: string;
}

/** `$XDG_CONFIG_HOME/minpaas/config.json`, else `~/.config/minpaas/config.json`. */
export function configFilePath(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'minpaas', 'config.json');
}

/** The saved settings, or `{}` when there is no file. A broken file is an error a person must fix. */
export function readSavedSettings(file: string): SavedSettings {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON: fix it or run "minpaas login" again`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const { url, token } = parsed as Record<string, unknown>;
  return {
    ...(typeof url === 'string' && url ? { url } : {}),
    ...(typeof token === 'string' && token ? { token } : {}),
  };
}

/** Writes the settings with mode 0600 (directory 0700), atomically. */
export function writeSavedSettings(file: string, settings: SavedSettings): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

function readTokenFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** `http://host:port` without a trailing slash; refuses anything that is not an http(s) URL. */
export function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new Error(`"${raw}" is not a URL: use e.g. http://127.0.0.1:7000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${raw}" is not an http:// or https:// URL`);
  url.hash = '';
  url.search = '';
  return url.toString().replace(/\/+$/, '');
}

export interface ResolveInput {
  flags: { url?: string | undefined; token?: string | undefined };
  env?: Env;
  /** Where relative `MINPAAS_DATA_DIR` (and the default `./data`) are resolved. */
  cwd?: string;
}

export function resolveSettings(input: ResolveInput): Settings {
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  const file = configFilePath(env);
  let saved: SavedSettings | undefined;
  const fromFile = (): SavedSettings => (saved ??= readSavedSettings(file));

  let url: string;
  let urlSource: string;
  if (input.flags.url) [url, urlSource] = [input.flags.url, '--url'];
  else if (env.MINPAAS_URL) [url, urlSource] = [env.MINPAAS_URL, 'MINPAAS_URL'];
  else if (fromFile().url) [url, urlSource] = [fromFile().url!, file];
  else [url, urlSource] = [DEFAULT_URL, 'default'];

  let token: string | undefined;
  let tokenSource: string;
  const tokenFile = path.resolve(cwd, env.MINPAAS_DATA_DIR || './data', 'token');
  if (input.flags.token) [token, tokenSource] = [input.flags.token, '--token'];
  else if (env.MINPAAS_TOKEN) [token, tokenSource] = [env.MINPAAS_TOKEN, 'MINPAAS_TOKEN'];
  else if (fromFile().token) [token, tokenSource] = [fromFile().token, file];
  else if ((token = readTokenFile(tokenFile))) tokenSource = tokenFile;
  else tokenSource = 'none';

  return { url: normalizeUrl(url), token, urlSource, tokenSource };
}
