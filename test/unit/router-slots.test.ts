import { describe, expect, it } from 'vitest';
import type { RouteSpec } from '../../src/router/haproxy-config.js';
import { groupServesExactly, groupSessions, reapplyPlan, servingSlot, switchCommand } from '../../src/router/slots.js';
import type { StatRow } from '../../src/router/sockets.js';

type Slot = 'blue' | 'green';
const PARKED = '127.0.0.1:1';

/** A group's ten server rows: the first ones serve at `addrs`, the rest are parked. */
function group(slot: Slot, addrs: string[], status = 'UP'): StatRow[] {
  return Array.from({ length: 10 }, (_, i) => ({
    proxy: 'be_web',
    server: `${slot}${i + 1}`,
    type: 2,
    status: addrs[i] ? status : 'MAINT',
    scur: 0,
    qcur: 0,
    addr: addrs[i] ?? PARKED,
  }));
}
const route = (targets: Array<{ host: string; port: number }>, slot: Slot = 'blue'): RouteSpec => ({ app: 'web', port: 10001, slot, targets });
const A = { host: '172.20.0.2', port: 3000 };
const B = { host: '172.20.0.3', port: 3000 };
const parkAll = (slot: Slot): string[] => Array.from({ length: 10 }, (_, i) => `set server be_web/${slot}${i + 1} state maint`);

describe('blue/green group commands', () => {
  it('switches to the idle group in one line: every web replica gets a server, the serving group is parked', () => {
    expect(switchCommand('web', 'blue', [A, B], group('blue', ['172.20.0.9:3000']))).toBe(
      [
        'set server be_web/green1 addr 172.20.0.2 port 3000',
        'set server be_web/green1 state ready',
        'set server be_web/green2 addr 172.20.0.3 port 3000',
        'set server be_web/green2 state ready',
        'set server be_web/blue1 state maint',
      ].join(' ; '),
    );
    // Without rows, every server of the current group is parked.
    expect(switchCommand('web', 'green', [A]).split(' ; ').slice(2)).toEqual(parkAll('green'));
  });

  it('finds the serving group, counts its sessions and tells whether it serves exactly the targets', () => {
    expect(servingSlot(group('blue', []), group('green', ['x']))).toBe('green');
    expect(servingSlot(group('blue', []), group('green', []))).toBeNull();
    const busy = group('blue', ['172.20.0.2:3000', '172.20.0.3:3000']).map((r, i) => ({ ...r, scur: i === 1 ? 1 : 0, qcur: i === 1 ? 2 : 0 }));
    expect(groupSessions(busy)).toBe(3);
    expect(groupServesExactly(group('blue', ['172.20.0.2:3000', '172.20.0.3:3000']), [A, B])).toBe(true);
    expect(groupServesExactly(group('blue', ['172.20.0.2:3000', '172.20.0.3:3000']), [A])).toBe(false);
    expect(groupServesExactly(group('blue', ['172.20.0.2:3000']), [A, B])).toBe(false);
  });

  it('does nothing when the serving group already serves the targets', () => {
    expect(reapplyPlan(route([A, B]), group('blue', []), group('green', ['172.20.0.2:3000', '172.20.0.3:3000']))).toEqual({ slot: 'green', commands: [] });
  });

  it('moves targets that differ to the idle group, never the busy one in place', () => {
    expect(reapplyPlan(route([A, B]), group('blue', ['172.20.0.2:3000']), group('green', []))).toEqual({
      slot: 'green',
      commands: [
        'set server be_web/green1 addr 172.20.0.2 port 3000',
        'set server be_web/green1 state ready',
        'set server be_web/green2 addr 172.20.0.3 port 3000',
        'set server be_web/green2 state ready',
        'set server be_web/blue1 state maint',
      ],
    });
  });

  it('brings up the route group when nothing serves, and parks a stray second group', () => {
    expect(reapplyPlan(route([A], 'blue'), group('blue', []), group('green', [])).commands).toEqual([
      'set server be_web/blue1 addr 172.20.0.2 port 3000',
      'set server be_web/blue1 state ready',
    ]);
    expect(reapplyPlan(route([A]), group('blue', ['172.20.0.2:3000']), group('green', ['172.20.0.7:3000']))).toEqual({
      slot: 'blue',
      commands: ['set server be_web/green1 state maint'],
    });
  });

  it('puts every server in maintenance for an app without a web process', () => {
    expect(reapplyPlan(route([]), group('blue', ['172.20.0.2:3000', '172.20.0.3:3000']), group('green', [])).commands).toEqual([
      'set server be_web/blue1 state maint',
      'set server be_web/blue2 state maint',
    ]);
  });
});
