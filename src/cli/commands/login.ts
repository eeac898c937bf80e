import { stringFlag, UsageError } from '../args.js';
import { ApiClient, ApiError } from '../client.js';
import { printJson, type Command } from '../command.js';
import { configFilePath, DEFAULT_URL, normalizeUrl, writeSavedSettings } from '../settings.js';

export const loginCommand: Command = {
  name: 'login',
  args: '--url URL --token TOKEN',
  summary: 'check a URL and token against the API and save them for later commands',
  min: 0,
  max: 0,
  async run({ settings, io, json, flags }) {
    // --url/--token win; otherwise whatever the usual resolution finds (env, data dir token).
    // A broken config file must not stop the login that rewrites it.
    let resolved: { url: string; token: string | undefined };
    try {
      resolved = settings();
    } catch {
      resolved = { url: DEFAULT_URL, token: undefined };
    }
    const url = normalizeUrl(stringFlag(flags, 'url') ?? resolved.url);
    const token = stringFlag(flags, 'token') ?? resolved.token;
    if (!token) throw new UsageError('login needs --token TOKEN (your token from "minpaas tokens:create", or the owner token in <data>/token on the server)');
    try {
      await new ApiClient(url, token).json<unknown>('GET', '/apps');
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw new ApiError(401, `${url} refused this token: ${err.message}`);
      throw err;
    }
    const file = configFilePath();
    writeSavedSettings(file, { url, token });
    if (json) printJson(io, { url, configFile: file });
    else io.out(`Logged in to ${url}; saved to ${file}\n`);
    return 0;
  },
};
