import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFilePath, normalizeUrl, readSavedSettings, resolveSettings, writeSavedSettings } from '../../src/cli/settings.js';

let dir: string;
let env: Record<string, string | undefined>;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minpaas-cli-settings-'));
  env = { HOME: path.join(dir, 'home'), XDG_CONFIG_HOME: path.join(dir, 'xdg') };
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const saveFile = (settings: object): void => writeSavedSettings(configFilePath(env), settings);

describe('configFilePath', () => {
  it('uses XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configFilePath({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/minpaas/config.json');
    expect(configFilePath({ HOME: '/h' })).toBe('/h/.config/minpaas/config.json');
    // A relative XDG_CONFIG_HOME is invalid per the spec and ignored.
    expect(configFilePath({ XDG_CONFIG_HOME: 'rel', HOME: '/h' })).toBe('/h/.config/minpaas/config.json');
  });
});

describe('writeSavedSettings', () => {
  it('writes JSON with mode 0600 that reads back', () => {
    const file = configFilePath(env);
    writeSavedSettings(file, { url: 'http://h:1', token: 'secret' });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(readSavedSettings(file)).toEqual({ url: 'http://h:1', token: 'secret' });
  });

  it('a missing file is empty; a broken one is an error that names it', () => {
    const file = configFilePath(env);
    expect(readSavedSettings(file)).toEqual({});
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{nope');
    expect(() => readSavedSettings(file)).toThrow(file);
  });
});

describe('resolveSettings', () => {
  it('defaults to http://127.0.0.1:7000 and no token', () => {
    const s = resolveSettings({ flags: {}, env, cwd: dir });
    expect(s).toMatchObject({ url: 'http://127.0.0.1:7000', token: undefined, urlSource: 'default', tokenSource: 'none' });
  });

  it('reads <MINPAAS_DATA_DIR or ./data>/token last', () => {
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'token'), 'from-data-dir\n');
    expect(resolveSettings({ flags: {}, env, cwd: dir }).token).toBe('from-data-dir');
    fs.mkdirSync(path.join(dir, 'other'));
    fs.writeFileSync(path.join(dir, 'other', 'token'), 'from-other\n');
    expect(resolveSettings({ flags: {}, env: { ...env, MINPAAS_DATA_DIR: 'other' }, cwd: dir }).token).toBe('from-other');
  });

  it('the login file beats the data dir token', () => {
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'token'), 'from-data-dir\n');
    saveFile({ url: 'http://saved:7000', token: 'from-file' });
    expect(resolveSettings({ flags: {}, env, cwd: dir })).toMatchObject({ url: 'http://saved:7000', token: 'from-file' });
  });

  it('env beats the file, flags beat env', () => {
    saveFile({ url: 'http://saved:7000', token: 'from-file' });
    const withEnv = { ...env, MINPAAS_URL: 'http://env:7000', MINPAAS_TOKEN: 'from-env' };
    expect(resolveSettings({ flags: {}, env: withEnv, cwd: dir })).toMatchObject({
      url: 'http://env:7000',
      token: 'from-env',
      urlSource: 'MINPAAS_URL',
      tokenSource: 'MINPAAS_TOKEN',
    });
    expect(resolveSettings({ flags: { url: 'http://flag:1/', token: 'from-flag' }, env: withEnv, cwd: dir })).toMatchObject({
      url: 'http://flag:1',
      token: 'from-flag',
      urlSource: '--url',
      tokenSource: '--token',
    });
  });

  it('mixes sources per value', () => {
    saveFile({ url: 'http://saved:7000', token: 'from-file' });
    expect(resolveSettings({ flags: {}, env: { ...env, MINPAAS_TOKEN: 'from-env' }, cwd: dir })).toMatchObject({
      url: 'http://saved:7000',
      token: 'from-env',
    });
  });

  it('does not read a broken login file when flags give both values', () => {
    const file = configFilePath(env);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'broken');
    expect(resolveSettings({ flags: { url: 'http://a:1', token: 't' }, env, cwd: dir }).token).toBe('t');
    expect(() => resolveSettings({ flags: {}, env, cwd: dir })).toThrow(/not valid JSON/);
  });
});

describe('normalizeUrl', () => {
  it('adds http://, drops trailing slashes, refuses other schemes', () => {
    expect(normalizeUrl('example.com:7000')).toBe('http://example.com:7000');
    expect(normalizeUrl('https://paas.example.com/')).toBe('https://paas.example.com');
    expect(normalizeUrl('http://h:7000/prefix/')).toBe('http://h:7000/prefix');
    expect(() => normalizeUrl('ftp://h')).toThrow(/http/);
  });
});
