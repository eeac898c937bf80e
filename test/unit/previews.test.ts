import { describe, expect, it } from 'vitest';
import { forkRefusal, previewName } from '../../src/apps/previews.js';
import { isValidAppName } from '../../src/domain/names.js';

describe('previewName', () => {
  it('is PARENT-pr-N when that fits', () => {
    expect(previewName('web', 12)).toBe('web-pr-12');
    expect(previewName('a'.repeat(24), 7)).toBe(`${'a'.repeat(24)}-pr-7`);
  });

  it('cuts long parents to 30 characters, keeping two parents with one prefix apart', () => {
    const a = previewName('very-long-application-name-one', 123);
    const b = previewName('very-long-application-name-two', 123);
    for (const name of [a, b]) {
      expect(name.length).toBeLessThanOrEqual(30);
      expect(isValidAppName(name)).toBe(true);
      expect(name.endsWith('-pr-123')).toBe(true);
    }
    expect(a).not.toBe(b);
    expect(previewName('very-long-application-name-one', 123)).toBe(a);
  });

  it('never leaves a double dash or an invalid name where the cut falls on a dash', () => {
    for (let n = 1; n < 2_000_000; n *= 7) {
      for (const parent of ['abcdefghijklmnopqrs-uvwxyz0123', 'x'.repeat(30), 'a-b-c-d-e-f-g-h-i-j-k-l-m-n-op']) {
        const name = previewName(parent, n);
        expect(isValidAppName(name), name).toBe(true);
        expect(name).not.toContain('--');
      }
    }
  });
});

describe('forkRefusal', () => {
  it('lets same-repo pull requests and trusted fork authors through', () => {
    expect(forkRefusal({ fork: false, association: 'NONE' }, 'members')).toBeNull();
    for (const association of ['OWNER', 'MEMBER', 'COLLABORATOR']) expect(forkRefusal({ fork: true, association }, 'members')).toBeNull();
  });

  it('refuses other fork authors unless the setting says all', () => {
    for (const association of ['CONTRIBUTOR', 'FIRST_TIME_CONTRIBUTOR', 'FIRST_TIMER', 'NONE', null]) {
      expect(forkRefusal({ fork: true, association }, 'members')).toMatch(/non-member/);
      expect(forkRefusal({ fork: true, association }, 'all')).toBeNull();
    }
    expect(forkRefusal({ fork: true, association: 'OWNER' }, 'none')).toMatch(/MINPAAS_PREVIEW_FORKS=none/);
  });
});
