import { MinPaasError } from '../errors.js';

export type PreviewForkPolicy = 'members' | 'all' | 'none';

/** The forge settings of `minpaas server`. */
export interface ForgeSettings {
  /** MINPAAS_PUBLIC_URL: the control plane as forges reach it; null = http://PUBLIC_HOST:PORT. */
  publicUrl: string | null;
  githubApiUrl: string;
  gitlabApiUrl: string;
  /** Live previews per app. */
  maxPreviews: number;
  /** Which fork pull requests get a preview: by members only (default), all, or none. */
  previewForks: PreviewForkPolicy;
}

type Env = Record<string, string | undefined>;

function httpUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new MinPaasError('INVALID_INPUT', `${name} must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MinPaasError('INVALID_INPUT', `${name} must be an http(s) URL, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

export function loadForgeSettings(env: Env): ForgeSettings {
  const max = env.MINPAAS_MAX_PREVIEWS || '5';
  if (!/^\d+$/.test(max) || Number(max) > 1000) throw new MinPaasError('INVALID_INPUT', `MINPAAS_MAX_PREVIEWS must be a whole number from 0 to 1000, got "${max}"`);
  const forks = env.MINPAAS_PREVIEW_FORKS || 'members';
  if (forks !== 'members' && forks !== 'all' && forks !== 'none') {
    throw new MinPaasError('INVALID_INPUT', `MINPAAS_PREVIEW_FORKS must be members, all or none, got "${forks}"`);
  }
  return {
    publicUrl: env.MINPAAS_PUBLIC_URL ? httpUrl(env, 'MINPAAS_PUBLIC_URL', '') : null,
    githubApiUrl: httpUrl(env, 'MINPAAS_GITHUB_API_URL', 'https://api.github.com'),
    gitlabApiUrl: httpUrl(env, 'MINPAAS_GITLAB_API_URL', 'https://gitlab.com/api/v4'),
    maxPreviews: Number(max),
    previewForks: forks,
  };
}
