/**
 * Coalescing for rich connections. A frame costs workerd several times what it costs a Node
 * `ws` server (measured here: a room that sends one frame per message per recipient reached
 * about a sixth of Node's deliveries per second, one that sends each recipient one frame per
 * burst about two thirds; bench/README.md), so the hub does not send one frame per event: it
 * queues each encoded event and, when the room says the burst is over (`flush`), sends each
 * recipient one frame: the event itself, or a `batch` of all its events in order (PROTOCOL.md).
 *
 * A broadcast is kept once for the whole group (the hub's joined connections), not once per
 * recipient: a burst of k broadcasts to N members costs k appends, then N sends of one shared
 * frame, instead of k x N queue inserts. What differs per connection is kept per connection: the
 * events for it alone (`unicast`), where it joined the group within this burst (it gets only the
 * broadcasts after that: its welcome holds the rest), and the broadcasts it is left out of
 * (`except`, a typist's own typing). Every event is encoded once; recipients that get exactly
 * the burst's broadcasts share one frame, built once per flush.
 *
 * The coalescer keeps no timer: when a burst ends is the room's decision, not the coalescer's.
 */
import type { Connection } from "./connection.ts";
import { trySend } from "./sockets.ts";

/** A broadcast of this burst: the encoded event, and the one connection left out of it, if any. */
interface Broadcast {
	readonly frame: string;
	readonly except: Connection | undefined;
}

/** A unicast of this burst: the encoded event, queued after the first `after` broadcasts. */
interface Unicast {
	readonly after: number;
	readonly frame: string;
}

/** The frames waiting for the end of a burst. */
export class Coalescer {
	/** The connections broadcasts go to (the hub's joined connections; live). */
	readonly #group: ReadonlySet<Connection>;
	/** This burst's broadcasts, in order. */
	#broadcasts: Broadcast[] = [];
	/** Connections left out of one of this burst's broadcasts. */
	readonly #excepted = new Set<Connection>();
	/** Events for one connection alone, in order, by connection. */
	readonly #unicasts = new Map<Connection, Unicast[]>();
	/** Connections that joined the group in this burst: how many broadcasts came before. */
	readonly #joinedAt = new Map<Connection, number>();
	/** Connections already sent their part of this burst (`flushOne`, before a close). */
	readonly #done = new Set<Connection>();

	/** An coalescer whose broadcasts go to `group` (read when a broadcast is flushed). */
	constructor(group: ReadonlySet<Connection>) {
		this.#group = group;
	}

	/** Whether anything is waiting to be sent. */
	get isEmpty(): boolean {
		return this.#broadcasts.length === 0 && this.#unicasts.size === 0;
	}

	/** Queues one encoded event for the whole group but `except`. */
	broadcast(frame: string, except?: Connection): void {
		this.#broadcasts.push({ frame, except });
		if (except) this.#excepted.add(except);
	}

	/** Queues one encoded event for one connection, after everything already queued for it. */
	unicast(connection: Connection, frame: string): void {
		const queue = this.#unicasts.get(connection);
		const unicast = { after: this.#broadcasts.length, frame };
		if (queue) queue.push(unicast);
		else this.#unicasts.set(connection, [unicast]);
	}

	/** A connection joins the group now: of this burst's broadcasts it gets only those from here on. */
	joined(connection: Connection): void {
		this.#joinedAt.set(connection, this.#broadcasts.length);
	}

	/**
	 * Sends what is queued for one connection right now (before the hub closes it). Returns
	 * false if the socket could not be sent to.
	 */
	flushOne(connection: Connection): boolean {
		const queue = this.#queueOf(connection);
		this.#done.add(connection);
		this.#unicasts.delete(connection);
		return queue.length === 0 || trySend(connection.ws, encode(queue));
	}

	/** Drops what is queued for a connection and sends it nothing more in this burst (it was cut off). */
	drop(connection: Connection): void {
		this.forget(connection);
		this.#done.add(connection);
	}

	/** Drops whatever is queued for a connection that is gone. */
	forget(connection: Connection): void {
		this.#unicasts.delete(connection);
		this.#joinedAt.delete(connection);
		this.#excepted.delete(connection);
	}

	/**
	 * Sends every queued event: one frame per recipient, each first offered to `admit` (the
	 * slow-consumer policy: false, and the connection is sent nothing). Returns the connections
	 * that could not be sent to (closing or gone), for the hub to let go of.
	 */
	flush(admit: (connection: Connection, frame: string) => boolean = () => true): Connection[] {
		const failed: Connection[] = [];
		const send = (connection: Connection, frame: string) => {
			if (admit(connection, frame) && !trySend(connection.ws, frame)) failed.push(connection);
		};
		if (this.#broadcasts.length > 0) {
			// Everyone who gets exactly this burst's broadcasts shares one frame.
			const shared = encode(this.#broadcasts.map(({ frame }) => frame));
			for (const connection of this.#group) {
				if (this.#done.has(connection)) continue;
				if (this.#unicasts.has(connection) || this.#joinedAt.has(connection) || this.#excepted.has(connection)) {
					const queue = this.#queueOf(connection);
					if (queue.length > 0) send(connection, encode(queue));
				} else {
					send(connection, shared);
				}
			}
		}
		for (const [connection, unicasts] of this.#unicasts) {
			// Those in the group were sent their unicasts above, with the broadcasts.
			if (this.#broadcasts.length > 0 && this.#group.has(connection)) continue;
			if (!this.#done.has(connection)) send(connection, encode(unicasts.map(({ frame }) => frame)));
		}
		this.#broadcasts = [];
		this.#excepted.clear();
		this.#unicasts.clear();
		this.#joinedAt.clear();
		this.#done.clear();
		return failed;
	}

	/**
	 * Everything of this burst for one connection, in order: the broadcasts it is in (from where
	 * it joined, without those it is left out of), with its unicasts where they were queued.
	 */
	#queueOf(connection: Connection): string[] {
		const unicasts = this.#unicasts.get(connection) ?? [];
		if (this.#done.has(connection)) return unicasts.map(({ frame }) => frame);
		const inGroup = this.#group.has(connection);
		const from = inGroup ? (this.#joinedAt.get(connection) ?? 0) : this.#broadcasts.length;
		const queue: string[] = [];
		let next = 0;
		for (let i = from; i <= this.#broadcasts.length; i++) {
			while (next < unicasts.length && (unicasts[next] as Unicast).after <= i)
				queue.push((unicasts[next++] as Unicast).frame);
			const broadcast = this.#broadcasts[i];
			if (broadcast && broadcast.except !== connection) queue.push(broadcast.frame);
		}
		while (next < unicasts.length) queue.push((unicasts[next++] as Unicast).frame);
		return queue;
	}
}

/** One event as it is, several as a batch. */
function encode(queue: string[]): string {
	return queue.length === 1 ? (queue[0] as string) : `{"type":"batch","events":[${queue.join(",")}]}`;
}
