import type { Address } from '../domain/types.js';
import { backendName, formatAddress, otherSlot, type RouteSpec, type Slot } from './haproxy-config.js';
import { isMaint, type StatRow } from './sockets.js';

/**
 * Blue/green on HAProxy's runtime API, as pure functions from `show stat` rows to admin
 * commands: each app's backend has two server slots; one serves, the other is in
 * maintenance (or both are, while the app has no release).
 */

/** The slot that serves (not in maintenance), or null. */
export function servingSlot(blue: StatRow, green: StatRow): Slot | null {
  return !isMaint(blue) ? 'blue' : !isMaint(green) ? 'green' : null;
}

/**
 * One line that points the idle slot at `target`, makes it ready and puts the current one
 * in maintenance: HAProxy applies the three back to back (measured: 0 errors).
 */
export function switchCommand(app: string, current: Slot, target: Address): string {
  const backend = backendName(app);
  const next = otherSlot(current);
  return `set server ${backend}/${next} addr ${target.host} port ${target.port} ; set server ${backend}/${next} state ready ; set server ${backend}/${current} state maint`;
}

/**
 * What makes the backend serve `route` from its current rows: the commands (none when
 * it already does) and the slot that serves after them. A serving slot that points
 * elsewhere is never moved in place (not drain-safe): the idle slot takes the target.
 */
export function reapplyPlan(route: RouteSpec, blue: StatRow, green: StatRow): { slot: Slot; commands: string[] } {
  const backend = backendName(route.app);
  const serving = servingSlot(blue, green);
  const commands: string[] = [];
  if (route.target === null) {
    if (!isMaint(blue)) commands.push(`set server ${backend}/blue state maint`);
    if (!isMaint(green)) commands.push(`set server ${backend}/green state maint`);
    return { slot: serving ?? route.slot, commands };
  }
  const row = (slot: Slot): StatRow => (slot === 'blue' ? blue : green);
  let slot = serving ?? route.slot;
  if (serving === null || row(serving).addr !== formatAddress(route.target.host, route.target.port)) {
    if (serving !== null) slot = otherSlot(serving);
    commands.push(`set server ${backend}/${slot} addr ${route.target.host} port ${route.target.port}`, `set server ${backend}/${slot} state ready`);
  }
  // Whatever else serves goes to maintenance (the old slot after a move, or a stray one).
  const idle = otherSlot(slot);
  if (!isMaint(row(idle))) commands.push(`set server ${backend}/${idle} state maint`);
  return { slot, commands };
}
