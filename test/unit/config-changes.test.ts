import { describe, expect, it } from 'vitest';
import { applyConfigChanges, parseConfigChanges, parseEnv } from '../../src/apps/config-changes.js';

describe('config changes', () => {
  it('sets, changes and unsets', () => {
    const { env, changed } = applyConfigChanges({ A: '1', B: '2' }, { A: '9', B: null, C: 'x\ny' });
    expect(env).toEqual({ A: '9', C: 'x\ny' });
    expect(changed).toBe(true);
  });
  it('knows when nothing changes', () => {
    expect(applyConfigChanges({ A: '1' }, { A: '1', GONE: null }).changed).toBe(false);
  });
  it('does not modify the current config', () => {
    const current = { A: '1' };
    applyConfigChanges(current, { A: null });
    expect(current).toEqual({ A: '1' });
  });
  it.each([
    [null, /JSON object/],
    [[], /JSON object/],
    ['x', /JSON object/],
    [{}, /no config changes/],
    [{ PORT: '1' }, /set by MinPaas/],
    [{ 'BAD-NAME': '1' }, /invalid config var name/],
    [{ A: 1 }, /must be a string/],
    [{ A: ['x'] }, /got array/],
    [{ A: 'x'.repeat(40000) }, /too long/],
  ])('refuses %j', (body, why) => expect(() => parseConfigChanges(body)).toThrow(why));
  it('parses a deploy env, empty allowed', () => {
    expect(parseEnv(undefined)).toEqual({});
    expect(parseEnv({})).toEqual({});
    expect(parseEnv({ A: 'b' })).toEqual({ A: 'b' });
    expect(() => parseEnv({ A: null })).toThrow(/must be a string/);
  });
});
