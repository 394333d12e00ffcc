/**
 * Who is banned from a room, and until when (signed mode: PROTOCOL.md, "Commands"). Kept in the
 * room's SQLite database, so a ban outlives evictions, restarts and deploys; a ban that has
 * ended is simply past, and is dropped the next time that user is banned or let in.
 */
export class Bans {
	readonly #sql: SqlStorage;

	/** Opens (creating if needed) the room's bans table. */
	constructor(sql: SqlStorage) {
		this.#sql = sql;
		sql.exec("CREATE TABLE IF NOT EXISTS bans (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL)");
	}

	/** Bans `userId` until `until` (ms since the epoch), replacing any ban it had. */
	ban(userId: string, until: number): void {
		this.#sql.exec(
			"INSERT INTO bans (user_id, until) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET until = excluded.until",
			userId,
			until,
		);
	}

	/** Until when `userId` is banned at `now`, or `null` when it is not. */
	bannedUntil(userId: string, now: number): number | null {
		const row = this.#sql.exec<{ until: number }>("SELECT until FROM bans WHERE user_id = ?", userId).toArray()[0];
		if (!row) return null;
		if (row.until > now) return row.until;
		this.#sql.exec("DELETE FROM bans WHERE user_id = ?", userId);
		return null;
	}
}
