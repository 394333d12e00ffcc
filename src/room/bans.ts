/**
 * Who is banned from a room, and until when (signed mode: PROTOCOL.md, "Commands"). Kept in the
 * room's SQLite database, so a ban outlives evictions, restarts and deploys, and in memory, so
 * the room can check every submission of a user against it for nothing (a ban that reached a
 * shard late, after a lost push, still stops the user there). A ban that has ended is dropped
 * the next time that user is checked.
 */
export class Bans {
	readonly #sql: SqlStorage;
	/** Until when each banned user is banned, ms since the epoch. */
	readonly #until = new Map<string, number>();

	/** Opens (creating if needed) the room's bans table, and reads it. */
	constructor(sql: SqlStorage) {
		this.#sql = sql;
		sql.exec("CREATE TABLE IF NOT EXISTS bans (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL)");
		for (const row of sql.exec<{ user_id: string; until: number }>("SELECT user_id, until FROM bans")) {
			this.#until.set(row.user_id, row.until);
		}
	}

	/** Bans `userId` until `until` (ms since the epoch), replacing any ban it had. */
	ban(userId: string, until: number): void {
		this.#sql.exec(
			"INSERT INTO bans (user_id, until) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET until = excluded.until",
			userId,
			until,
		);
		this.#until.set(userId, until);
	}

	/** Lifts `userId`'s ban, if it has one. */
	unban(userId: string): void {
		this.#sql.exec("DELETE FROM bans WHERE user_id = ?", userId);
		this.#until.delete(userId);
	}

	/** Until when `userId` is banned at `now`, or `null` when it is not. */
	bannedUntil(userId: string, now: number): number | null {
		const until = this.#until.get(userId);
		if (until === undefined) return null;
		if (until > now) return until;
		this.#until.delete(userId);
		this.#sql.exec("DELETE FROM bans WHERE user_id = ?", userId);
		return null;
	}
}
