/**
 * The room's own name. A Durable Object is addressed by an id derived from the name and is never
 * told the name itself, so the room learns it from every request that carries it (the Worker's
 * header on an upgrade or a plain GET, an HTTP API call, a shard's batch) and keeps it in its
 * storage once it keeps anything (src/room/room-store.ts): after an eviction, a shard's push and
 * a webhook event still need it, and only a room with shards or stored events has those.
 */
import type { RoomStore } from "./room-store.ts";

/** The storage key of the name. */
const NAME_KEY = "name";

export class RoomName {
	readonly #store: RoomStore;
	#name: string | undefined;

	/** Reads the name kept in the room's storage, if it kept it. */
	constructor(store: RoomStore) {
		this.#store = store;
		this.#name = store.kept ? store.kv.get<string>(NAME_KEY) : undefined;
		store.define(() => {
			if (this.#name !== undefined) store.kv.put(NAME_KEY, this.#name);
		});
	}

	/** The name, once learned. */
	get value(): string | undefined {
		return this.#name;
	}

	/** Keeps `name` the first time one is given (the Worker has checked it); stored with the room's storage. */
	learn(name: string | null | undefined): void {
		if (!name || this.#name !== undefined) return;
		this.#name = name;
		if (this.#store.kept) this.#store.kv.put(NAME_KEY, name);
	}
}
