import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { sameOrigin, csrfTokenMatches } from '../../src/dashboard/csrf.js';
import { html } from '../../src/dashboard/html.js';
import { appsPage } from '../../src/dashboard/pages.js';
import { cookieValue, sessionCookie, SessionStore } from '../../src/dashboard/sessions.js';
import { lineSplitter } from '../../src/dashboard/sse.js';
import { DeployLog } from '../../src/deploy/deploy-log.js';
import { LiveDeploys } from '../../src/deploy/live-deploys.js';
import type { AppRecord } from '../../src/domain/types.js';
import { OWNER_TOKEN_NAME, OWNER_USER, type Principal } from '../../src/auth/authenticator.js';

const owner: Principal = { user: OWNER_USER, owner: true, tokenId: null, tokenName: OWNER_TOKEN_NAME };

describe('html templates', () => {
  it('escapes every interpolated value, in text and attributes', () => {
    const evil = `"><script>alert('x')</script>&`;
    const out = html`<a title="${evil}">${evil}</a>`.text;
    expect(out).not.toContain('<script>');
    expect(out).toBe('<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</a>');
  });

  it('composes nested templates and arrays without escaping them twice', () => {
    const items = ['<b>', 'a&b'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>`.text).toBe('<ul><li>&lt;b&gt;</li><li>a&amp;b</li></ul>');
  });

  it('a page escapes values that came from the store (an app URL, a status)', () => {
    const app = { name: 'web', status: '<img src=x onerror=alert(1)>', release: 1, url: 'http://h/"><script>' } as unknown as AppRecord;
    const page = appsPage({ csrf: 'c"srf', user: 'owner' }, [app], new Map()).text;
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('"><script>');
    expect(page).toContain('value="c&quot;srf"');
  });
});

describe('sessions', () => {
  it('expire after the idle time and after the absolute lifetime', () => {
    let now = 0;
    const store = new SessionStore({ maxAgeMs: 1000, idleMs: 300, maxSessions: 10 }, () => now);
    const s = store.create(owner);
    now = 250;
    expect(store.get(s.id)).toBe(s);
    now = 500; // 250 idle: still alive, and the idle clock restarts
    expect(store.get(s.id)).toBe(s);
    now = 801; // 301 idle
    expect(store.get(s.id)).toBeUndefined();
    const t = store.create(owner);
    for (now = 900; now <= 1800; now += 200) expect(store.get(t.id)).toBe(t);
    now = 1901; // used all along, but older than maxAgeMs
    expect(store.get(t.id)).toBeUndefined();
  });

  it('ids and CSRF tokens are random and distinct; the store is bounded', () => {
    const store = new SessionStore({ maxAgeMs: 1e9, idleMs: 1e9, maxSessions: 3 });
    const made = [store.create(owner), store.create(owner), store.create(owner), store.create(owner)];
    expect(new Set(made.flatMap((s) => [s.id, s.csrf])).size).toBe(8);
    expect(made[0]!.id.length).toBeGreaterThanOrEqual(40);
    expect(store.size).toBe(3);
    expect(store.get(made[0]!.id)).toBeUndefined();
    expect(store.get(made[3]!.id)).toBe(made[3]);
  });

  it('the cookie is HttpOnly, SameSite=Strict, Secure only over TLS; and is parsed back', () => {
    expect(sessionCookie('abc', 60, false)).toBe('minpaas_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60');
    expect(sessionCookie('abc', 60, true)).toContain('; Secure');
    expect(cookieValue('a=1; minpaas_session=xyz; b=2', 'minpaas_session')).toBe('xyz');
    expect(cookieValue('a=1', 'minpaas_session')).toBeUndefined();
  });
});

describe('CSRF and origin checks', () => {
  const req = (headers: Record<string, string>): http.IncomingMessage => ({ headers }) as unknown as http.IncomingMessage;

  it('accepts only this host as Origin (or Referer when no Origin is sent)', () => {
    expect(sameOrigin(req({ host: '127.0.0.1:7000', origin: 'http://127.0.0.1:7000' }))).toBe(true);
    // Through a TLS-terminating proxy: same host and port, https.
    expect(sameOrigin(req({ host: 'paas.example', origin: 'https://paas.example' }))).toBe(true);
    expect(sameOrigin(req({ host: '127.0.0.1:7000', origin: 'http://evil.example' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:7000', origin: 'http://127.0.0.1:7000.evil.example' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:7000', origin: 'null' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:7000', origin: 'http://127.0.0.1:7001' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:7000', referer: 'http://127.0.0.1:7000/ui/apps/x' }))).toBe(true);
    expect(sameOrigin(req({ host: '127.0.0.1:7000', referer: 'http://127.0.0.1:7001/' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:7000', origin: 'file:///x' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:7000' }))).toBe(false);
  });

  it('compares tokens exactly', () => {
    expect(csrfTokenMatches('abc', 'abc')).toBe(true);
    expect(csrfTokenMatches('abd', 'abc')).toBe(false);
    expect(csrfTokenMatches(undefined, 'abc')).toBe(false);
    expect(csrfTokenMatches('', 'abc')).toBe(false);
  });
});

describe('live deploys', () => {
  it("matches a deploy to the newest log tracked before its start (a waiting deploy's log is not it)", () => {
    let now = 1000;
    const live = new LiveDeploys(() => now);
    const running = live.track('web', new DeployLog());
    now = 1005;
    const startedRunning = new Date(1002).toISOString();
    const waiting = live.track('web', new DeployLog());
    expect(live.find('web', startedRunning)).toBe(running);
    expect(live.find('web', new Date(1010).toISOString())).toBe(waiting);
    expect(live.find('other', startedRunning)).toBeUndefined();
  });

  it('keeps a few logs per app only', () => {
    let now = 0;
    const live = new LiveDeploys(() => now);
    const logs = [1, 2, 3, 4].map((t) => {
      now = t;
      return live.track('web', new DeployLog());
    });
    expect(live.find('web', new Date(1).toISOString())).toBeUndefined();
    expect(live.find('web', new Date(4).toISOString())).toBe(logs[3]);
  });
});

describe('live deploys, over time', () => {
  it('drops logs older than any build, of every app', () => {
    let now = 0;
    const live = new LiveDeploys(() => now);
    live.track('a', new DeployLog());
    live.track('b', new DeployLog());
    now = LiveDeploys.MAX_AGE_MS + 1;
    live.track('c', new DeployLog());
    expect(live.size).toBe(1);
    expect(live.find('a', new Date(now).toISOString())).toBeUndefined();
  });
});

describe('SSE line splitting', () => {
  it('holds a partial line until the rest arrives', () => {
    const lines: string[] = [];
    const split = lineSplitter((l) => lines.push(l));
    split.push('one\r\ntw');
    split.push(Buffer.from('o\nthr'));
    expect(lines).toEqual(['one', 'two']);
    split.flush();
    expect(lines).toEqual(['one', 'two', 'thr']);
  });
});
