/**
 * Who is in a room: each name once, however many connections (tabs) it has, in whichever part
 * of the room (the room's own object or a shard) they are held. A name joins with its first
 * connection and leaves with its last. Only the room's object keeps it: presence is the room's,
 * not a hub's.
 */
export class Presence {
	/** Connections per name, in the order the names arrived. */
	readonly #connections = new Map<string, number>();

	/** Counts `count` more connections for `name`; true when it was not present (it just joined). */
	add(name: string, count = 1): boolean {
		const before = this.#connections.get(name) ?? 0;
		this.#connections.set(name, before + count);
		return before === 0;
	}

	/** Counts `count` connections fewer for `name`; true when that was its last (it just left). */
	remove(name: string, count = 1): boolean {
		const before = this.#connections.get(name) ?? 0;
		if (before <= count) {
			this.#connections.delete(name);
			return before > 0;
		}
		this.#connections.set(name, before - count);
		return false;
	}

	/** How many names are present. */
	get size(): number {
		return this.#connections.size;
	}

	/**
	 * The first `limit` names to have arrived (of those present), sorted. Costs `limit`, not the
	 * room's size, so a welcome in a room of 100,000 stays cheap.
	 */
	sample(limit: number): string[] {
		const names: string[] = [];
		for (const name of this.#connections.keys()) {
			if (names.length === limit) break;
			names.push(name);
		}
		return names.sort();
	}
}
