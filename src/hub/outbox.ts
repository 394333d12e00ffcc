/**
 * Coalescing for rich connections. A frame costs workerd several times what it costs a Node
 * `ws` server (measured here: a room that sends one frame per message per recipient reached
 * about a sixth of Node's deliveries per second, one that sends each recipient one frame per
 * burst about two thirds; bench/README.md), so the hub does not send one frame per event: it
 * queues each encoded event on its recipients' connections and, when the room says the burst
 * is over (`flush`), sends each recipient one frame: the event itself, or a `batch` of all its
 * events in order (PROTOCOL.md).
 *
 * Every event is encoded once. Recipients whose queues hold the same events (the usual case:
 * everyone got the same broadcasts) share one batch string, built once per flush.
 *
 * The outbox keeps no timer: when a burst ends is the room's decision, not the outbox's.
 */
import type { Connection } from "./connection.ts";
import { trySend } from "./sockets.ts";

/** The connections with events waiting, in the order they first got one this burst. */
export class Outbox {
	readonly #waiting = new Set<Connection>();

	/** Whether anything is waiting to be sent. */
	get isEmpty(): boolean {
		return this.#waiting.size === 0;
	}

	/** The connections with events waiting (live: it may be changed while walked). */
	recipients(): Iterable<Connection> {
		return this.#waiting;
	}

	/** Queues one encoded event for every recipient but `except`. */
	broadcast(frame: string, recipients: Iterable<Connection>, except?: Connection): void {
		for (const connection of recipients) if (connection !== except) this.unicast(connection, frame);
	}

	/** Queues one encoded event for one connection, after everything already queued for it. */
	unicast(connection: Connection, frame: string): void {
		connection.outgoing.push(frame);
		this.#waiting.add(connection);
	}

	/**
	 * Sends what is queued for one connection right now (before the hub closes it). Returns
	 * false if the socket could not be sent to.
	 */
	flushOne(connection: Connection): boolean {
		this.#waiting.delete(connection);
		const queue = connection.outgoing;
		connection.outgoing = [];
		return queue.length === 0 || trySend(connection.ws, encode(queue));
	}

	/** Drops whatever is queued for a connection that is gone. */
	forget(connection: Connection): void {
		this.#waiting.delete(connection);
		connection.outgoing = [];
	}

	/**
	 * Sends every queued event: one frame per recipient. Returns the connections that could
	 * not be sent to (closing or gone), for the hub to let go of.
	 */
	flush(): Connection[] {
		const failed: Connection[] = [];
		let lastQueue: string[] | null = null;
		let lastFrame = "";
		for (const connection of this.#waiting) {
			const queue = connection.outgoing;
			connection.outgoing = [];
			// Consecutive recipients usually hold the very same events: reuse the frame built for the last one.
			if (lastQueue === null || !sameEvents(queue, lastQueue)) {
				lastQueue = queue;
				lastFrame = encode(queue);
			}
			if (!trySend(connection.ws, lastFrame)) failed.push(connection);
		}
		this.#waiting.clear();
		return failed;
	}
}

/** One event as it is, several as a batch. */
function encode(queue: string[]): string {
	return queue.length === 1 ? (queue[0] as string) : `{"type":"batch","events":[${queue.join(",")}]}`;
}

/** Whether two queues hold the same encoded events (compared by identity: each event is encoded once). */
function sameEvents(a: string[], b: string[]): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}
