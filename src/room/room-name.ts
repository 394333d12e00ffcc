/**
 * The room's own name. A Durable Object is addressed by an id derived from the name and is never
 * told the name itself, so the room learns it from the first request that carries it (the
 * Worker's header on an upgrade, or an HTTP API call) and keeps it in storage: its shards are
 * named after it, and its webhook events carry it.
 */
export class RoomName {
	readonly #kv: SyncKvStorage;
	#name: string | undefined;

	/** Reads the name kept in `kv`, if it was learned before. */
	constructor(kv: SyncKvStorage) {
		this.#kv = kv;
		this.#name = kv.get<string>("name");
	}

	/** The name, once learned. */
	get value(): string | undefined {
		return this.#name;
	}

	/** Keeps `name` the first time one is given (the Worker has checked it). */
	learn(name: string | null): void {
		if (!name || this.#name !== undefined) return;
		this.#name = name;
		this.#kv.put("name", name);
	}
}
