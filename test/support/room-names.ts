/**
 * Fresh room names, one per test. Runtime-neutral on purpose (no imports; only the global
 * `crypto` that Node and workerd both have), so one definition serves both sides: the loopback
 * and conformance tests import it from here, the workerd tests through test/workerd/rooms.ts.
 */

let rooms = 0;

/** A room name no other test uses, so rooms never leak into each other's assertions. */
export function freshRoom(prefix = "room"): string {
	return `${prefix}-${++rooms}-${crypto.randomUUID().slice(0, 8)}`;
}
