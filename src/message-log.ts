/**
 * The log: a room's one order of messages, durable in the Durable Object's own SQLite database
 * (`ctx.storage.sql`). Ids are assigned here: 1, 2, 3, ... per room, never reused. A `clientId`
 * is stored once however often it is sent (a client retries after a reconnect). Retention is
 * bounded: once a room holds more than `retention` messages the oldest are dropped. The log
 * replays history to a joining client, all of it or what it missed. It knows nothing of
 * sockets: connections are the hub's (src/hub/).
 *
 * Messages are written in two steps. `stage` gives a message its id at once (so the room can
 * answer and order it), and `commit` writes everything staged in one transaction. The room
 * commits once per burst of work, just before it sends anything (`Room#commitBurst`): every
 * commit costs the runtime a SQLite transaction (and, under `wrangler dev`, an fsync on the
 * isolate's only thread), so one per burst instead of one per message is what lets a busy room
 * keep up (bench/README.md). Durability is unchanged: the Durable Object's output gate holds
 * every frame sent after a write until that write is committed, so nobody ever sees a message
 * that is not stored.
 */
import type { Replay } from "./delivery.ts";
import type { ChatMessage } from "./protocol.ts";

/**
 * The result of staging a message: the message with its id, and where it stands. `new`: staged
 * now. `staged` or `stored`: a message with the same `clientId` was already staged in this burst
 * or stored before (a retried send), and that one is returned.
 */
export interface Staged {
	readonly message: ChatMessage;
	readonly status: "new" | "staged" | "stored";
}

type Row = { id: number; client_id: string | null; name: string; text: string; ts: number };

function toMessage(row: Row): ChatMessage {
	return { id: row.id, clientId: row.client_id, name: row.name, text: row.text, ts: row.ts };
}

const COLUMNS = "id, client_id, name, text, ts";

/** The messages table of one room. */
export class MessageLog {
	readonly #storage: DurableObjectStorage;
	readonly #sql: SqlStorage;
	readonly #retention: number;
	/** The newest id given, staged or stored. */
	#latestId: number;
	/** The newest id stored. */
	#storedId: number;
	/** Messages given an id but not yet written, oldest first. */
	#staged: ChatMessage[] = [];
	/** The staged messages that carry a `clientId`, by it (a resend can arrive before the commit). */
	readonly #stagedByClientId = new Map<string, ChatMessage>();

	/** Opens (creating if needed) the room's messages table. */
	constructor(storage: DurableObjectStorage, retention: number) {
		this.#storage = storage;
		this.#sql = storage.sql;
		this.#retention = retention;
		const sql = this.#sql;
		sql.exec(`CREATE TABLE IF NOT EXISTS messages (
			id INTEGER PRIMARY KEY,
			client_id TEXT UNIQUE,
			name TEXT NOT NULL,
			text TEXT NOT NULL,
			ts INTEGER NOT NULL
		)`);
		// Ids only grow and retention always keeps the newest, so max(id) is the last id ever given.
		this.#storedId = sql.exec<{ latest: number | null }>("SELECT max(id) AS latest FROM messages").one().latest ?? 0;
		this.#latestId = this.#storedId;
	}

	/** Id of the newest message (0 when the room has none). The room commits before it reads. */
	get latestId(): number {
		return this.#latestId;
	}

	/**
	 * Gives a message the next id and stages it for the next `commit`, or, when `clientId` was
	 * seen before (stored or staged), returns that message untouched: a resend after a
	 * reconnect is stored once. Throws if storage cannot be read.
	 */
	stage(name: string, text: string, clientId: string | null, ts: number): Staged {
		if (clientId !== null) {
			const staged = this.#stagedByClientId.get(clientId);
			if (staged) return { message: staged, status: "staged" };
			const existing = this.#sql
				.exec<Row>(`SELECT ${COLUMNS} FROM messages WHERE client_id = ?`, clientId)
				.toArray()[0];
			if (existing) return { message: toMessage(existing), status: "stored" };
		}
		const message: ChatMessage = { id: ++this.#latestId, clientId, name, text, ts };
		this.#staged.push(message);
		if (clientId !== null) this.#stagedByClientId.set(clientId, message);
		return { message, status: "new" };
	}

	/**
	 * Writes every staged message, and applies retention, in one transaction. If that fails,
	 * nothing of it is written, the staged messages are forgotten (their ids will be given
	 * again) and the error is thrown: the room tells their senders.
	 */
	commit(): void {
		const staged = this.#staged;
		if (staged.length === 0) return;
		this.#staged = [];
		this.#stagedByClientId.clear();
		try {
			this.#storage.transactionSync(() => {
				for (const m of staged) {
					this.#sql.exec(
						"INSERT INTO messages (id, client_id, name, text, ts) VALUES (?, ?, ?, ?, ?)",
						m.id,
						m.clientId,
						m.name,
						m.text,
						m.ts,
					);
				}
				if (this.#latestId > this.#retention) {
					this.#sql.exec("DELETE FROM messages WHERE id <= ?", this.#latestId - this.#retention);
				}
			});
		} catch (error) {
			this.#latestId = this.#storedId;
			throw error;
		}
		this.#storedId = this.#latestId;
	}

	/**
	 * What a joining client gets: the newest `limit` messages, or, when it says the last id it
	 * saw (`since`), everything retained after that (see `after`). Staged messages are not in
	 * it: the room commits before a client joins.
	 */
	replay(since: number | undefined, limit: number): Replay {
		const { messages, gap } =
			since === undefined ? { messages: this.recent(limit), gap: false } : this.after(since, limit);
		return { messages, gap, latestId: this.#latestId };
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
