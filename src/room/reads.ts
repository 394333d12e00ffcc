/**
 * Read positions (signed mode): how far each user has read the room, by log id, kept in the
 * room's SQLite so it follows the user from one device to another. A `read` only ever moves a
 * user's position forward; a welcome tells the user where it stands (`readUpTo`).
 */

import type { RoomStore } from "./room-store.ts";

/** The room's read positions. */
export class Reads {
	readonly #store: RoomStore;

	/** Opens the room's read positions (their table exists once the room keeps anything). */
	constructor(store: RoomStore) {
		this.#store = store;
		store.define(() =>
			store.sql.exec("CREATE TABLE IF NOT EXISTS reads (user_id TEXT PRIMARY KEY, id INTEGER NOT NULL)"),
		);
	}

	/**
	 * User `userId` has read up to `id` (never past `latestId`, the newest id there is). A position
	 * in a room with nothing to read (no message stored: `latestId` 0) is nothing to keep.
	 */
	read(userId: string, id: number, latestId: number): void {
		if (Math.min(id, latestId) <= 0) return;
		this.#store.keep();
		this.#store.sql.exec(
			"INSERT INTO reads (user_id, id) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET id = max(id, excluded.id)",
			userId,
			Math.min(id, latestId),
		);
	}

	/** Where `userId` has read up to (0: nowhere yet). */
	upTo(userId: string): number {
		if (!this.#store.kept) return 0;
		return this.#store.sql.exec<{ id: number }>("SELECT id FROM reads WHERE user_id = ?", userId).toArray()[0]?.id ?? 0;
	}
}
