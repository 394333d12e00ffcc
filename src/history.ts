/**
 * A room's durable chat history, in the Durable Object's own SQLite database
 * (`ctx.storage.sql`). Ids are assigned here: 1, 2, 3, ... per room, never reused. Retention is
 * bounded: once a room holds more than `retention` messages the oldest are dropped.
 */
import type { ChatMessage } from "./protocol.ts";

/** The result of storing a message: the stored row and whether it was already there. */
export interface Appended {
	readonly message: ChatMessage;
	/** True when a message with the same `clientId` was already stored (a retried send). */
	readonly duplicate: boolean;
}

type Row = { id: number; client_id: string | null; name: string; text: string; ts: number };

function toMessage(row: Row): ChatMessage {
	return { id: row.id, clientId: row.client_id, name: row.name, text: row.text, ts: row.ts };
}

const COLUMNS = "id, client_id, name, text, ts";

/** The messages table of one room. */
export class History {
	readonly #sql: SqlStorage;
	readonly #retention: number;
	#latestId: number;

	/** Opens (creating if needed) the room's messages table. */
	constructor(sql: SqlStorage, retention: number) {
		this.#sql = sql;
		this.#retention = retention;
		sql.exec(`CREATE TABLE IF NOT EXISTS messages (
			id INTEGER PRIMARY KEY,
			client_id TEXT UNIQUE,
			name TEXT NOT NULL,
			text TEXT NOT NULL,
			ts INTEGER NOT NULL
		)`);
		// Ids only grow and retention always keeps the newest, so max(id) is the last id ever given.
		this.#latestId = sql.exec<{ latest: number | null }>("SELECT max(id) AS latest FROM messages").one().latest ?? 0;
	}

	/** Id of the newest message (0 when the room has none). */
	get latestId(): number {
		return this.#latestId;
	}

	/**
	 * Stores a message and gives it the next id, or, when `clientId` was seen before, returns the
	 * stored one untouched (a resend after a reconnect is stored once).
	 */
	append(name: string, text: string, clientId: string | null, ts: number): Appended {
		if (clientId !== null) {
			const existing = this.#sql
				.exec<Row>(`SELECT ${COLUMNS} FROM messages WHERE client_id = ?`, clientId)
				.toArray()[0];
			if (existing) return { message: toMessage(existing), duplicate: true };
		}
		const id = this.#latestId + 1;
		this.#sql.exec(
			"INSERT INTO messages (id, client_id, name, text, ts) VALUES (?, ?, ?, ?, ?)",
			id,
			clientId,
			name,
			text,
			ts,
		);
		this.#latestId = id;
		if (id > this.#retention) this.#sql.exec("DELETE FROM messages WHERE id <= ?", id - this.#retention);
		return { message: { id, clientId, name, text, ts }, duplicate: false };
	}

	/** The newest `limit` messages, oldest first. */
	recent(limit: number): ChatMessage[] {
		if (limit <= 0) return [];
		return this.#sql
			.exec<Row>(`SELECT ${COLUMNS} FROM messages ORDER BY id DESC LIMIT ?`, limit)
			.toArray()
			.reverse()
			.map(toMessage);
	}

	/**
	 * Every retained message after `since`, oldest first, and whether that leaves a gap: some
	 * messages after `since` are no longer retained, or `since` is newer than anything this room
	 * has stored (its history was lost), in which case the newest `fallback` are returned instead.
	 */
	after(since: number, fallback: number): { messages: ChatMessage[]; gap: boolean } {
		if (since > this.#latestId) return { messages: this.recent(fallback), gap: true };
		const messages = this.#sql
			.exec<Row>(`SELECT ${COLUMNS} FROM messages WHERE id > ? ORDER BY id`, since)
			.toArray()
			.map(toMessage);
		const oldestWanted = since + 1;
		const gap = since < this.#latestId && (messages[0]?.id ?? Number.POSITIVE_INFINITY) > oldestWanted;
		return { messages, gap };
	}

	/** How many messages are stored. */
	count(): number {
		return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM messages").one().n;
	}
}
