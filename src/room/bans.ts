/**
 * Who is banned from a room, and until when (signed mode: PROTOCOL.md, "Commands"). Kept in the
 * room's SQLite database, so a ban outlives evictions, restarts and deploys, and in memory, so
 * the room checks every submission of a user against it for the price of a map lookup (a ban
 * that reached a shard late, after a lost push, still stops the user there).
 *
 * Bounded, because a ban is written on a moderator's or the API's word and read on every wake:
 * the room keeps at most `MAX_BANS` bans in force, and refuses one more. A ban that has ended
 * is removed whenever a ban is written or lifted (one delete over the index on `until`), and
 * when its user is checked; the table grows only by a ban, so it never holds more than
 * `MAX_BANS` rows, and a wake reads only the bans still in force.
 *
 * In memory rather than asked per user: measured in workerd with 10,000 bans, a lookup in the
 * map costs about 0.1-0.2 µs a submission and an indexed `SELECT` by user 10-16 µs (about 100
 * times more, on every message of every member); reading the bans on a wake costs a few µs with
 * none and 12-30 ms with 10,000, paid only by a room that keeps that many.
 */
import type { RoomStore } from "./room-store.ts";

/**
 * The most bans a room keeps in force. A ban is a person's: a room banning more distinct users
 * than this within a year (the longest ban) is under attack by throwaway accounts, which the
 * site stops where it signs tokens, not in the room. It also bounds what a wake reads (12-30 ms
 * at this size, measured) and what the room holds in memory (about 2 MB with 128-character ids,
 * reckoned at some 200 bytes a map entry).
 */
export const MAX_BANS = 10_000;

export class Bans {
	readonly #store: RoomStore;
	/** Until when each banned user is banned, ms since the epoch. */
	readonly #until = new Map<string, number>();

	/** Opens the room's bans table (it exists once the room keeps anything), and reads the bans in force. */
	constructor(store: RoomStore) {
		this.#store = store;
		store.define(
			() => {
				store.sql.exec("CREATE TABLE IF NOT EXISTS bans (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL)");
				store.sql.exec("CREATE INDEX IF NOT EXISTS bans_by_end ON bans (until)");
			},
			() => this.#until.clear(),
		);
		if (!store.kept) return;
		const rows = store.sql.exec<{ user_id: string; until: number }>(
			"SELECT user_id, until FROM bans WHERE until > ?",
			Date.now(),
		);
		for (const row of rows) this.#until.set(row.user_id, row.until);
	}

	/** Whether any ban may be in force (one ended but not yet removed counts: the next check removes it). */
	get any(): boolean {
		return this.#until.size > 0;
	}

	/**
	 * Bans `userId` until `until` (ms since the epoch), replacing any ban it had, once the bans
	 * ended by `now` are removed. `false`: refused, the room keeps `MAX_BANS` bans in force
	 * already (replacing a user's ban adds none, so it is never refused).
	 */
	ban(userId: string, until: number, now: number): boolean {
		this.#removeEnded(now);
		if (!this.#until.has(userId) && this.#until.size >= MAX_BANS) return false;
		this.#store.keep();
		this.#store.sql.exec(
			"INSERT INTO bans (user_id, until) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET until = excluded.until",
			userId,
			until,
		);
		this.#until.set(userId, until);
		return true;
	}

	/** Lifts `userId`'s ban, if it has one, and removes the bans ended by `now`. */
	unban(userId: string, now: number): void {
		if (!this.#store.kept) return;
		this.#store.sql.exec("DELETE FROM bans WHERE user_id = ?", userId);
		this.#until.delete(userId);
		this.#removeEnded(now);
	}

	/** Until when `userId` is banned at `now`, or `null` when it is not. */
	bannedUntil(userId: string, now: number): number | null {
		const until = this.#until.get(userId);
		if (until === undefined) return null;
		if (until > now) return until;
		this.#until.delete(userId);
		this.#store.sql.exec("DELETE FROM bans WHERE user_id = ?", userId);
		return null;
	}

	/** Removes every ban ended by `now`, from storage and from memory. */
	#removeEnded(now: number): void {
		if (!this.#store.kept) return;
		const ended = this.#store.sql.exec<{ user_id: string }>("DELETE FROM bans WHERE until <= ? RETURNING user_id", now);
		for (const row of ended) this.#until.delete(row.user_id);
	}
}
