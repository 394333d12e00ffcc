/**
 * What a shard receives from its room, in order: every push delivered once, after the ones
 * before it, and after whatever a lost one carried. It owns what the shard has delivered (kept
 * in storage, so an eviction keeps it) and the catch-up: a push of the same room instance that
 * is not the next one fetches the missed ones from the room's ring (`Room.missedPushes`); a push
 * from a new instance that starts past the newest message delivered here fetches those messages
 * (`Room.messagesBetween`). Sockets are never held up meanwhile: only pushes wait.
 */

import { logEvent } from "../deployment/log-event.ts";
import type { Hub } from "../hub/hub.ts";
import { closeFor } from "../wire/close-codes.ts";
import type { Placement } from "../wire/placement.ts";
import type { Push } from "../wire/rpc.ts";

/**
 * The longest a shard waits for the room's object to hand over what it missed. Pushes wait
 * behind a catch-up (they must be delivered in order), but sockets do not: frames are still
 * read and answered meanwhile. Past this the shard gives up and its clients resume (1012).
 */
export const CATCH_UP_TIMEOUT_MS = 3_000;

/**
 * What a shard has delivered (kept in its storage, so an eviction keeps it): the newest message
 * id (`null`: none yet, the first push sets it) and the last push, by the room instance that
 * sent it and its number.
 */
interface Delivered {
	readonly lastId: number | null;
	readonly sender: string | null;
	readonly seq: number;
}

/** A stub of the room's object, typed by the generated `Env`. */
type RoomStub = ReturnType<Env["ROOMS"]["get"]>;

/** The pushes of one shard. */
export class Pushes {
	readonly #storage: DurableObjectStorage;
	readonly #hub: Hub;
	readonly #rooms: Env["ROOMS"];
	readonly #home: () => Placement | null;
	/** Its own stub of the room's object, for what it fetches (replaced when a call on it fails). */
	#stub: RoomStub | null = null;
	/** What it has delivered (in storage too). */
	#delivered: Delivered;
	/** The newest of this instance's batches whose outcome is delivered (`Push.answers`). */
	#answered = 0;
	/** Each push waits here for the ones before it (a catch-up awaits the room). */
	#line: Promise<unknown> = Promise.resolve();
	/** Reads what was delivered before an eviction; `home` says which room and shard this is. */
	constructor(storage: DurableObjectStorage, hub: Hub, rooms: Env["ROOMS"], home: () => Placement | null) {
		this.#storage = storage;
		this.#hub = hub;
		this.#rooms = rooms;
		this.#home = home;
		this.#delivered = storage.kv.get<Delivered>("delivered") ?? { lastId: null, sender: null, seq: 0 };
	}

	/**
	 * The shard is empty: it gets no pushes meanwhile, so what it delivered last is stale; a
	 * newcomer's history comes with its welcome, and the next push sets where delivery goes on from.
	 */
	restart(): void {
		this.#setDelivered({ ...this.#delivered, lastId: null });
	}

	/**
	 * The newest of this shard instance's batches (`Batch.number`) whose outcome has been
	 * delivered in full: its connections that closed waiting for it can close.
	 */
	get answered(): number {
		return this.#answered;
	}

	/** Delivers a push once every push before it is delivered. */
	take(push: Push): Promise<void> {
		const turn = this.#line.then(() => this.#take(push));
		this.#line = turn.catch(() => {});
		return turn;
	}

	/**
	 * Delivers one push. A push of the same room instance that is not the next one means some
	 * were lost: they are fetched from the room's ring and delivered first (if the ring no longer
	 * has them, every client here is closed with 1012 to reconnect and resume, which gives each
	 * exactly what it missed). A push from a new instance that starts past the newest message
	 * delivered here (the room's object restarted after a commit) fetches those messages first.
	 * Messages delivered already are skipped.
	 */
	async #take(push: Push): Promise<void> {
		const { sender, seq } = this.#delivered;
		if (sender === push.sender && push.seq <= seq) return;
		if (sender === push.sender && push.seq > seq + 1 && this.#hub.size > 0) {
			const missed = await this.#fromRoom("missed pushes", (room) => room.missedPushes(this.#shard(), sender, seq));
			if (missed) {
				for (const earlier of missed) if (earlier.seq < push.seq) this.#apply(earlier);
			} else {
				// Welcomes, presence and kicks cannot be fetched any other way: the clients resume.
				this.#hub.closeAll(closeFor("missedUpdates"));
			}
		}
		const { lastId } = this.#delivered;
		if (lastId !== null && lastId < push.after && this.#hub.size > 0) {
			const between = await this.#fromRoom("catch-up", (room) => room.messagesBetween(lastId, push.after));
			if (between) this.#hub.deliver(between.messages.map((message) => ({ kind: "message", message })));
			if (!between || between.gap) this.#hub.closeAll(closeFor("missedMessages"));
			this.#setDelivered({ ...this.#delivered, lastId: push.after });
		}
		this.#apply(push);
	}

	/** Delivers a push's deliveries (those it has not delivered already) and records it. */
	#apply(push: Push): void {
		const lastId = this.#delivered.lastId ?? push.after;
		let newest = Math.max(lastId, push.after);
		if (this.#hub.size > 0) {
			const fresh = push.deliveries.filter((delivery) => {
				if (delivery.kind !== "message") return true;
				if (delivery.message.id <= lastId) return false;
				newest = Math.max(newest, delivery.message.id);
				return true;
			});
			this.#hub.deliver(fresh);
		} else {
			// Nobody to deliver to: only where delivery goes on from.
			for (const delivery of push.deliveries)
				if (delivery.kind === "message") newest = Math.max(newest, delivery.message.id);
		}
		this.#setDelivered({ lastId: newest, sender: push.sender, seq: push.seq });
		if (push.answers !== undefined) this.#answered = Math.max(this.#answered, push.answers);
	}

	/**
	 * Asks the room's object for something, giving up after `CATCH_UP_TIMEOUT_MS` (or if the call
	 * fails): `null` then, and the stub is replaced.
	 */
	async #fromRoom<T>(during: string, ask: (room: RoomStub) => Promise<T>): Promise<T | null> {
		let timer: ReturnType<typeof setTimeout> | undefined;
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new Error(`no answer in ${CATCH_UP_TIMEOUT_MS} ms`)), CATCH_UP_TIMEOUT_MS);
		});
		try {
			return await Promise.race([ask(this.#room()), timeout]);
		} catch (error) {
			logEvent("room_unreachable", { shard: this.#shard(), during, error: String(error) });
			this.#stub = null;
			return null;
		} finally {
			if (timer !== undefined) clearTimeout(timer);
		}
	}

	#room(): RoomStub {
		const room = this.#home()?.room ?? "";
		this.#stub ??= this.#rooms.get(this.#rooms.idFromName(room));
		return this.#stub;
	}

	#shard(): number {
		return this.#home()?.shard ?? 0;
	}

	/**
	 * Records what was delivered. Written without holding the object's output (`allowUnconfirmed`):
	 * it matters only after an eviction, which waits for the write, and holding every frame of
	 * the push until the write is durable would add a storage round trip to each burst's fan-out.
	 */
	#setDelivered(delivered: Delivered): void {
		const before = this.#delivered;
		this.#delivered = delivered;
		if (before.lastId === delivered.lastId && before.sender === delivered.sender && before.seq === delivered.seq)
			return;
		// A reset object rejects its writes; its sockets are gone with it, and so is the need.
		this.#storage.put("delivered", delivered, { allowUnconfirmed: true }).catch(() => {});
	}
}
