/**
 * Who is in a room: each name once, however many connections (tabs) it has. A name joins with
 * its first connection and leaves with its last.
 */
export class Presence {
	readonly #connections = new Map<string, number>();

	/** Counts one more connection for `name`; true when this is its first (it just joined). */
	add(name: string): boolean {
		const count = this.#connections.get(name) ?? 0;
		this.#connections.set(name, count + 1);
		return count === 0;
	}

	/** Counts one connection fewer for `name`; true when that was its last (it just left). */
	remove(name: string): boolean {
		const count = this.#connections.get(name) ?? 0;
		if (count <= 1) {
			this.#connections.delete(name);
			return count === 1;
		}
		this.#connections.set(name, count - 1);
		return false;
	}

	/** The names present, sorted. */
	names(): string[] {
		return [...this.#connections.keys()].sort();
	}
}
