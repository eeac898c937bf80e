import { describe, expect, it } from 'vitest';
import type { RouteSpec } from '../../src/router/haproxy-config.js';
import { reapplyPlan, servingSlot, switchCommand } from '../../src/router/slots.js';
import type { StatRow } from '../../src/router/sockets.js';

const row = (server: 'blue' | 'green', status: string, addr: string): StatRow => ({ proxy: 'be_web', server, type: 2, status, scur: 0, qcur: 0, addr });
const route = (target: { host: string; port: number } | null, slot: 'blue' | 'green' = 'blue'): RouteSpec => ({ app: 'web', port: 10001, slot, target });
const A = { host: '172.20.0.2', port: 3000 };

describe('blue/green slot commands', () => {
  it('switches to the idle slot in one line', () => {
    expect(switchCommand('web', 'blue', A)).toBe(
      'set server be_web/green addr 172.20.0.2 port 3000 ; set server be_web/green state ready ; set server be_web/blue state maint',
    );
  });

  it('finds the serving slot', () => {
    expect(servingSlot(row('blue', 'MAINT', ''), row('green', 'UP', 'x'))).toBe('green');
    expect(servingSlot(row('blue', 'MAINT', ''), row('green', 'MAINT', ''))).toBeNull();
  });

  it('does nothing when the serving slot already points at the target', () => {
    expect(reapplyPlan(route(A), row('blue', 'MAINT', '127.0.0.1:1'), row('green', 'no check', '172.20.0.2:3000'))).toEqual({ slot: 'green', commands: [] });
  });

  it('moves a target that differs to the idle slot, never the busy one in place', () => {
    expect(reapplyPlan(route(A), row('blue', 'UP', '172.20.0.9:3000'), row('green', 'MAINT', '127.0.0.1:1'))).toEqual({
      slot: 'green',
      commands: ['set server be_web/green addr 172.20.0.2 port 3000', 'set server be_web/green state ready', 'set server be_web/blue state maint'],
    });
  });

  it('brings up the route slot when nothing serves, and parks a stray second slot', () => {
    expect(reapplyPlan(route(A, 'blue'), row('blue', 'MAINT', '127.0.0.1:1'), row('green', 'MAINT', '127.0.0.1:1')).commands).toEqual([
      'set server be_web/blue addr 172.20.0.2 port 3000',
      'set server be_web/blue state ready',
    ]);
    expect(reapplyPlan(route(A), row('blue', 'UP', '172.20.0.2:3000'), row('green', 'UP', '172.20.0.7:3000'))).toEqual({
      slot: 'blue',
      commands: ['set server be_web/green state maint'],
    });
  });

  it('puts every slot in maintenance for an app without a release', () => {
    expect(reapplyPlan(route(null), row('blue', 'UP', '172.20.0.2:3000'), row('green', 'MAINT', '')).commands).toEqual(['set server be_web/blue state maint']);
  });
});
