/**
 * What a call between the room's objects carries, in bytes: a push to a shard or a call to a
 * relay may not pass the platform's 32 MiB limit on a call's arguments, so a burst's share that
 * would take more than `CALL_BYTES` (src/wire/limits.ts) goes in several calls, in order
 * (src/room/shard-links.ts). A reconnect storm's welcomes, or thousands of long messages in one
 * burst, are what it takes; a burst of chat is one call.
 */
import { utf8Length } from "../hub/text.ts";
import { CALL_BYTES } from "../wire/limits.ts";
import type { LogEntry } from "../wire/log-entries.ts";
import type { Delivery } from "../wire/rpc.ts";
import { entryBytes } from "./log-reader.ts";

/**
 * A shard's share of a burst in calls of at most `CALL_BYTES` each, in order (one call unless the
 * burst is unusually large: thousands of long messages, or a storm's welcomes).
 */
export function inCalls(deliveries: readonly Delivery[]): (readonly Delivery[])[] {
	const calls: Delivery[][] = [];
	let call: Delivery[] = [];
	let bytes = 0;
	for (const delivery of deliveries) {
		const size = deliveryBytes(delivery);
		if (call.length > 0 && bytes + size > CALL_BYTES) {
			calls.push(call);
			call = [];
			bytes = 0;
		}
		call.push(delivery);
		bytes += size;
	}
	if (calls.length === 0) return [deliveries];
	calls.push(call);
	return calls;
}

/** The bytes a delivery takes in a call, about: its entries' JSON, and a little for the rest. */
export function deliveryBytes(delivery: Delivery): number {
	switch (delivery.kind) {
		case "message":
		case "echo":
			return entryBytes(delivery.message);
		case "welcome":
			return SMALL_DELIVERY_BYTES + historyBytes(delivery.event.history);
		case "history":
			return SMALL_DELIVERY_BYTES + historyBytes(delivery.event.entries);
		case "frame":
			return (
				SMALL_DELIVERY_BYTES +
				(typeof delivery.frame === "string" ? delivery.frame.length * 3 : delivery.frame.byteLength)
			);
		case "presence":
			return SMALL_DELIVERY_BYTES + utf8Length(JSON.stringify(delivery.event));
		default:
			return SMALL_DELIVERY_BYTES;
	}
}

/** What a delivery without entries takes at most, about (names, ids, a reason, a welcome's members and settings). */
const SMALL_DELIVERY_BYTES = 4_096;

function historyBytes(entries: readonly LogEntry[]): number {
	let bytes = 0;
	for (const entry of entries) bytes += entryBytes(entry);
	return bytes;
}
