/**
 * Calls from the operator's backend (the HTTP API) waiting for the burst they joined. A call acts
 * in the room like a connection that is not there: it gets an id of its own, what it asks joins
 * the burst as a `Submission` from that id, in order with everything else, and it is answered
 * once the burst has been committed, with the delivery its submission came to (the stored
 * message, a refusal). So a message posted through the API is stored, ordered and fanned out by
 * the same path as a client's, and the API's answer never comes before the commit does.
 *
 * The room owns the calls (src/room/room.ts): it opens one per request and settles them all at
 * the end of each burst. Deliveries addressed to a call never reach a hub.
 */
import type { ChatMessage } from "../wire/log-entries.ts";
import { type DeleteOutcome, OPERATOR_NAME, type PostOutcome } from "../wire/operator.ts";
import type { ConnectionId, Delivery } from "../wire/rpc.ts";
import type { Staged } from "./burst.ts";

/** The id prefix of calls: no client's connection id has it (those are UUIDs, or `N/` and a UUID). */
const CALL_PREFIX = "operator:";

/** Whom a staged item is from, or for, when it names one connection. */
function addresseeOfStaged(item: Staged): ConnectionId | null {
	if ("from" in item && (item.kind === "new" || item.kind === "unreadable" || item.kind === "change")) return item.from;
	if ("to" in item) return item.to;
	return null;
}

/** One open call: the id it acts under, and what its submission came to once committed. */
export interface OperatorCall {
	readonly id: ConnectionId;
	/**
	 * The delivery its submission came to in the committed burst, or `null` when it came to none
	 * addressed to it (a kick or a ban: the removal is for everyone).
	 */
	readonly outcome: Promise<Delivery | null>;
}

/** The room's calls from the API that wait for their burst's commit. */
export class OperatorCalls {
	#opened = 0;
	readonly #waiting = new Map<ConnectionId, (delivery: Delivery | null) => void>();

	/** Opens a call. What it submits must join the current burst before the next `settle`. */
	open(): OperatorCall {
		const id = `${CALL_PREFIX}${++this.#opened}`;
		const outcome = new Promise<Delivery | null>((resolve) => this.#waiting.set(id, resolve));
		return { id, outcome };
	}

	/** Whether any call waits (the burst must end even if it holds nothing else). */
	get waiting(): boolean {
		return this.#waiting.size > 0;
	}

	/**
	 * A burst was committed (`deliveries[i]` is what `burst[i]` came to): each call of it is
	 * answered, and the deliveries for hubs are returned, without those addressed to a call.
	 */
	settle(burst: readonly Staged[], deliveries: Delivery[]): Delivery[] {
		if (this.#waiting.size === 0) return deliveries;
		burst.forEach((item, index) => {
			const addressee = addresseeOfStaged(item);
			if (addressee === null) return;
			const resolve = this.#waiting.get(addressee);
			if (!resolve) return;
			this.#waiting.delete(addressee);
			resolve(deliveries[index] ?? null);
		});
		// Calls whose submission is for everyone (a kick, a ban) were committed with this burst too.
		for (const resolve of this.#waiting.values()) resolve(null);
		this.#waiting.clear();
		return deliveries.filter((delivery) => !("to" in delivery && delivery.to.startsWith(CALL_PREFIX)));
	}
}

/** Whom the API acts as when it moderates: a moderator named `API`, with a call's id. */
export function operatorActor(from: ConnectionId) {
	return { from, name: OPERATOR_NAME, userId: null, role: "moderator" } as const;
}

/** What a post's delivery says to the API: stored now, stored before (its `clientId`), refused, or not stored. */
export function postOutcome(delivery: Delivery | null): PostOutcome {
	switch (delivery?.kind) {
		case "message":
			return { kind: "stored", message: delivery.message as ChatMessage };
		case "echo":
			return { kind: "repeat", message: delivery.message };
		case "error":
			return { kind: "no_reply_target" };
		default:
			return { kind: "unavailable" };
	}
}

/** What a delete's delivery says to the API (none: it was deleted before, nothing was staged). */
export function deleteOutcome(delivery: Delivery | null): DeleteOutcome {
	if (delivery === null) return { kind: "already" };
	if (delivery.kind === "message") return { kind: "deleted" };
	return { kind: delivery.kind === "error" ? "not_found" : "unavailable" };
}
