import { describe, expect, it } from 'vitest';
import { assertAppName, assertEnvName, isValidAppName } from '../../src/domain/names.js';
import { assertBranch, assertRepoUrl } from '../../src/domain/repo-url.js';
import { MinPaasError } from '../../src/errors.js';

describe('app names', () => {
  it.each(['a', 'hello', 'my-app', 'app2', 'a'.repeat(30), 'a-b-c'])('accepts %s', (name) => {
    expect(isValidAppName(name)).toBe(true);
    expect(assertAppName(name)).toBe(name);
  });

  it.each([
    '', 'A', 'Bad_Name', '1app', '-x', 'x-', 'app; rm -rf /', '../x', 'a/b', 'a.b', 'a'.repeat(31), 'x'.repeat(300),
    'café', 'app\n', ' app', 'ａpp', 'app.git',
  ])('refuses %j with a 400 naming the rule', (name) => {
    expect(isValidAppName(name)).toBe(false);
    try {
      assertAppName(name);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MinPaasError);
      expect((err as MinPaasError).status).toBe(400);
      expect((err as Error).message).toMatch(/lowercase letters, digits and dashes/);
    }
  });

  it.each([undefined, null, 42, {}, ['a']])('refuses non-strings (%j)', (name) => {
    expect(isValidAppName(name)).toBe(false);
    expect(() => assertAppName(name)).toThrow(MinPaasError);
  });
});

describe('env var names', () => {
  it.each(['A', '_X', 'DATABASE_URL', 'lower_ok', 'A1'])('accepts %s', (n) => expect(assertEnvName(n)).toBe(n));
  it.each(['1A', 'A-B', 'A B', '', 'A=B', 'Ä'])('refuses %j', (n) => expect(() => assertEnvName(n)).toThrow(/invalid config var name/));
  it('refuses PORT: the platform sets it', () => expect(() => assertEnvName('PORT')).toThrow(/set by MinPaas/));
});

describe('repo URLs', () => {
  it.each(['https://github.com/o/r', 'http://127.0.0.1:8080/x.git', 'https://host/a/b.git'])('accepts %s', (u) =>
    expect(assertRepoUrl(u)).toBe(u),
  );
  it.each([
    ['file:///etc', /scheme file:/],
    ['ext::sh -c touch% /tmp/x', /spaces|scheme/],
    ['ext::sh', /scheme|not a URL/],
    ['ssh://git@host/x', /scheme ssh:/],
    ['git@github.com:o/r.git', /not a URL|scheme/],
    ['-uhttps://x', /start with "-"/],
    ['https://x/a b', /spaces/],
    ['https://x/a\nb', /spaces/],
    ['', /http/],
    ['git://host/x', /scheme git:/],
  ])('refuses %j', (u, why) => expect(() => assertRepoUrl(u)).toThrow(why));
  it('refuses non-strings', () => expect(() => assertRepoUrl(5)).toThrow(/http/));
});

describe('branches', () => {
  it.each(['main', 'feature/x', 'v1.2'])('accepts %s', (b) => expect(assertBranch(b)).toBe(b));
  it.each(['-b', 'a..b', 'a b', 'x/', 'a.lock', '', 'a;b'])('refuses %j', (b) => expect(() => assertBranch(b)).toThrow(/branch/));
});
