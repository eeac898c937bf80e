import type { Address } from '../domain/types.js';
import { backendName, formatAddress, GROUP_SIZE, otherSlot, serverName, type RouteSpec, type Slot } from './haproxy-config.js';
import { findStatRow, isMaint, type StatRow } from './sockets.js';

/**
 * Blue/green on HAProxy's runtime API, as pure functions from `show stat` rows to admin
 * commands: each app's backend has two groups of servers; the servers of one group
 * serve (one per web replica, round-robin), the other group is in maintenance (or both
 * are, while the app has no web process).
 */

/** The rows of a group's servers, in order; throws when the backend lacks one. */
export function groupRows(rows: StatRow[], app: string, slot: Slot): StatRow[] {
  const out: StatRow[] = [];
  for (let i = 0; i < GROUP_SIZE; i++) {
    const row = findStatRow(rows, backendName(app), serverName(slot, i));
    if (row === undefined) throw new Error(`the router has no route for app ${app}`);
    out.push(row);
  }
  return out;
}

/** A group serves when any of its servers is out of maintenance. */
export const groupServes = (group: StatRow[]): boolean => group.some((row) => !isMaint(row));

/** The group that serves, or null. */
export function servingSlot(blue: StatRow[], green: StatRow[]): Slot | null {
  return groupServes(blue) ? 'blue' : groupServes(green) ? 'green' : null;
}

/** Sessions (current and queued) on a group's servers: zero once it has drained. */
export const groupSessions = (group: StatRow[]): number => group.reduce((n, row) => n + row.scur + row.qcur, 0);

/** True when exactly the group's first servers serve, at `targets`, in order. */
export function groupServesExactly(group: StatRow[], targets: Address[]): boolean {
  return group.every((row, i) => {
    const target = targets[i];
    return target === undefined ? isMaint(row) : !isMaint(row) && row.addr === formatAddress(target.host, target.port);
  });
}

/** Points a group's servers at `targets` and makes them ready (the group is idle). */
function pointGroup(app: string, slot: Slot, targets: Address[]): string[] {
  const backend = backendName(app);
  return targets.flatMap((t, i) => [`set server ${backend}/${serverName(slot, i)} addr ${t.host} port ${t.port}`, `set server ${backend}/${serverName(slot, i)} state ready`]);
}

/** Every server of a group to maintenance (a no-op for those already there). */
function parkGroup(app: string, slot: Slot, group?: StatRow[]): string[] {
  const backend = backendName(app);
  const names = Array.from({ length: GROUP_SIZE }, (_, i) => serverName(slot, i));
  return names.filter((_, i) => !group || !isMaint(group[i]!)).map((name) => `set server ${backend}/${name} state maint`);
}

/**
 * One line that points the idle group at `targets`, makes them ready and puts the
 * current group in maintenance: HAProxy applies them back to back (measured: 0 errors).
 */
export function switchCommand(app: string, current: Slot, targets: Address[], currentRows?: StatRow[]): string {
  return [...pointGroup(app, otherSlot(current), targets), ...parkGroup(app, current, currentRows)].join(' ; ');
}

/**
 * What makes the backend serve `route` from its current rows: the commands (none when
 * it already does) and the group that serves after them. A serving group that points
 * elsewhere is never changed in place (not drain-safe): the idle group takes the targets.
 */
export function reapplyPlan(route: RouteSpec, blue: StatRow[], green: StatRow[]): { slot: Slot; commands: string[] } {
  const group = (slot: Slot): StatRow[] => (slot === 'blue' ? blue : green);
  const serving = servingSlot(blue, green);
  if (route.targets.length === 0) {
    return { slot: serving ?? route.slot, commands: [...parkGroup(route.app, 'blue', blue), ...parkGroup(route.app, 'green', green)] };
  }
  let slot = serving ?? route.slot;
  const commands: string[] = [];
  if (serving === null || !groupServesExactly(group(serving), route.targets)) {
    if (serving !== null) slot = otherSlot(serving);
    commands.push(...parkGroup(route.app, slot, group(slot)), ...pointGroup(route.app, slot, route.targets));
  }
  // Whatever else serves goes to maintenance (the old group after a move, or a stray one).
  commands.push(...parkGroup(route.app, otherSlot(slot), group(otherSlot(slot))));
  return { slot, commands };
}
