import { describe, expect, it } from 'vitest';
import { loadForgeSettings } from '../../src/forges/settings.js';

describe('loadForgeSettings', () => {
  it('defaults', () => {
    expect(loadForgeSettings({})).toEqual({
      publicUrl: null,
      githubApiUrl: 'https://api.github.com',
      gitlabApiUrl: 'https://gitlab.com/api/v4',
      maxPreviews: 5,
      previewForks: 'members',
    });
  });

  it('reads every setting, without trailing slashes', () => {
    const s = loadForgeSettings({
      MINPAAS_PUBLIC_URL: 'https://paas.example.com/',
      MINPAAS_GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
      MINPAAS_GITLAB_API_URL: 'http://127.0.0.1:9/api/v4',
      MINPAAS_MAX_PREVIEWS: '0',
      MINPAAS_PREVIEW_FORKS: 'all',
    });
    expect(s).toEqual({ publicUrl: 'https://paas.example.com', githubApiUrl: 'https://ghe.example.com/api/v3', gitlabApiUrl: 'http://127.0.0.1:9/api/v4', maxPreviews: 0, previewForks: 'all' });
  });

  it('refuses bad values, naming the setting', () => {
    expect(() => loadForgeSettings({ MINPAAS_PUBLIC_URL: 'paas.example.com' })).toThrow(/MINPAAS_PUBLIC_URL/);
    expect(() => loadForgeSettings({ MINPAAS_GITHUB_API_URL: 'ftp://x' })).toThrow(/MINPAAS_GITHUB_API_URL/);
    expect(() => loadForgeSettings({ MINPAAS_MAX_PREVIEWS: '-1' })).toThrow(/MINPAAS_MAX_PREVIEWS/);
    expect(() => loadForgeSettings({ MINPAAS_MAX_PREVIEWS: '2.5' })).toThrow(/MINPAAS_MAX_PREVIEWS/);
    expect(() => loadForgeSettings({ MINPAAS_PREVIEW_FORKS: 'yes' })).toThrow(/MINPAAS_PREVIEW_FORKS/);
  });
});
