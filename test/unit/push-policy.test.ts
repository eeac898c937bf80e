import { describe, expect, it } from 'vitest';
import { parseRefUpdates, planPush } from '../../src/git/push-policy.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const Z = '0'.repeat(40);

describe('pre-receive stdin', () => {
  it('parses every line, names with "00" intact (node-git-server cuts them)', () => {
    expect(parseRefUpdates(`${A} ${B} refs/heads/main\n${Z} ${B} refs/heads/release-2000\n\n`)).toEqual([
      { oldSha: A, newSha: B, ref: 'refs/heads/main' },
      { oldSha: Z, newSha: B, ref: 'refs/heads/release-2000' },
    ]);
  });
  it('ignores garbage', () => expect(parseRefUpdates('nope\n')).toEqual([]));
});

describe('push plan', () => {
  it('deploys main', () => {
    const plan = planPush([{ oldSha: A, newSha: B, ref: 'refs/heads/main' }]);
    expect(plan.deploy?.newSha).toBe(B);
    expect(plan.refusal).toBeNull();
  });
  it('deploys master', () => expect(planPush([{ oldSha: Z, newSha: B, ref: 'refs/heads/master' }]).deploy?.ref).toBe('refs/heads/master'));
  it('stores other branches and says so', () => {
    const plan = planPush([{ oldSha: Z, newSha: B, ref: 'refs/heads/feature' }]);
    expect(plan.deploy).toBeNull();
    expect(plan.notes).toEqual(['Branch feature stored, not deployed (push main or master to deploy)']);
  });
  it('stores tags', () => expect(planPush([{ oldSha: Z, newSha: B, ref: 'refs/tags/v1' }]).notes[0]).toMatch(/refs\/tags\/v1 stored/));
  it('refuses deleting main', () =>
    expect(planPush([{ oldSha: A, newSha: Z, ref: 'refs/heads/main' }]).refusal).toMatch(/deleting main is not allowed/));
  it('refuses main and master together', () =>
    expect(
      planPush([
        { oldSha: Z, newSha: A, ref: 'refs/heads/main' },
        { oldSha: Z, newSha: B, ref: 'refs/heads/master' },
      ]).refusal,
    ).toMatch(/not both/));
  it('deploys main and stores a branch pushed with it', () => {
    const plan = planPush([
      { oldSha: Z, newSha: A, ref: 'refs/heads/dev' },
      { oldSha: Z, newSha: B, ref: 'refs/heads/main' },
    ]);
    expect(plan.deploy?.newSha).toBe(B);
    expect(plan.notes).toHaveLength(1);
  });
});
