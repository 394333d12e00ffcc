/**
 * The log: a room's one order of messages, durable in the Durable Object's own SQLite database
 * (`ctx.storage.sql`). Ids are assigned here: 1, 2, 3, ... per room, never reused. In signed
 * mode edits and deletes of messages are entries of the log too, with ids from the same
 * sequence, so history and resume carry them (PROTOCOL.md, "Signed identity and moderation"). A `clientId`
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

import type { ChatMessage, LogEntry } from "../wire/protocol.ts";
import type { Replay } from "../wire/rpc.ts";

/**
 * The result of staging a message: the message with its id, and where it stands. `new`: staged
 * now. `staged` or `stored`: a message with the same `clientId` was already staged in this burst
 * or stored before (a retried send), and that one is returned.
 */
export interface Staged {
	readonly message: ChatMessage;
	readonly status: "new" | "staged" | "stored";
}

/** What an edit or a delete may touch: a message's author, and whether it is deleted already. */
export interface MessageStanding {
	readonly userId: string | null;
	readonly deleted: boolean;
}

type Row = {
	id: number;
	kind: "message" | "edit" | "delete";
	target: number | null;
	client_id: string | null;
	user_id: string | null;
	name: string;
	text: string;
	ts: number;
};

function toEntry(row: Row): LogEntry {
	const { id, name, ts } = row;
	if (row.kind === "edit" || row.kind === "delete") {
		const base = { id, target: row.target as number, name, userId: row.user_id as string, ts };
		return row.kind === "edit" ? { ...base, kind: "edit", text: row.text } : { ...base, kind: "delete" };
	}
	const message: ChatMessage = { id, clientId: row.client_id, name, text: row.text, ts };
	if (row.user_id !== null) message.userId = row.user_id;
	return message;
}

function toMessage(row: Row): ChatMessage {
	return toEntry(row) as ChatMessage;
}

const COLUMNS = "id, kind, target, client_id, user_id, name, text, ts";

/** The messages table of one room. */
export class MessageLog {
	readonly #storage: DurableObjectStorage;
	readonly #sql: SqlStorage;
	readonly #retention: number;
	/** The newest id given, staged or stored. */
	#latestId: number;
	/** The newest id stored. */
	#storedId: number;
	/** Entries given an id but not yet written, oldest first. */
	#staged: LogEntry[] = [];
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
		// Rooms stored before signed mode have no kind, target or author columns: add them.
		const columns = sql.exec("SELECT * FROM messages LIMIT 0").columnNames;
		if (!columns.includes("kind")) {
			sql.exec("ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'message'");
			sql.exec("ALTER TABLE messages ADD COLUMN target INTEGER");
			sql.exec("ALTER TABLE messages ADD COLUMN user_id TEXT");
		}
		// An edit or a delete looks up whether its message was deleted: by target, not by a scan.
		sql.exec("CREATE INDEX IF NOT EXISTS messages_target ON messages (target) WHERE target IS NOT NULL");
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
	stage(name: string, text: string, clientId: string | null, ts: number, userId: string | null = null): Staged {
		if (clientId !== null) {
			const staged = this.#stagedByClientId.get(clientId);
			if (staged) return { message: staged, status: "staged" };
			const existing = this.#sql
				.exec<Row>(`SELECT ${COLUMNS} FROM messages WHERE client_id = ?`, clientId)
				.toArray()[0];
			if (existing) return { message: toMessage(existing), status: "stored" };
		}
		const message: ChatMessage = { id: ++this.#latestId, clientId, name, text, ts };
		if (userId !== null) message.userId = userId;
		this.#staged.push(message);
		if (clientId !== null) this.#stagedByClientId.set(clientId, message);
		return { message, status: "new" };
	}

	/**
	 * Where message `id` stands, for an edit or a delete of it: `null` when it is not a message
	 * of the retained log (never was, was dropped by retention, or is an edit or delete).
	 * Entries staged in this burst count.
	 */
	standing(id: number): MessageStanding | null {
		let message: ChatMessage | undefined = this.#staged.find((entry) => entry.id === id && !("kind" in entry)) as
			| ChatMessage
			| undefined;
		if (!message && id <= this.#storedId) {
			const row = this.#sql.exec<Row>(`SELECT ${COLUMNS} FROM messages WHERE id = ?`, id).toArray()[0];
			if (row?.kind === "message") message = toMessage(row);
		}
		if (!message) return null;
		const deleted =
			this.#staged.some((entry) => "kind" in entry && entry.kind === "delete" && entry.target === id) ||
			this.#sql.exec("SELECT 1 FROM messages WHERE kind = 'delete' AND target = ? LIMIT 1", id).toArray().length > 0;
		return { userId: message.userId ?? null, deleted };
	}

	/** Gives an edit or a delete of message `target` the next id and stages it (the room checked who may). */
	stageChange(
		change: { kind: "edit"; text: string } | { kind: "delete" },
		target: number,
		name: string,
		userId: string,
		ts: number,
	): LogEntry {
		const entry: LogEntry = { ...change, id: ++this.#latestId, target, name, userId, ts };
		this.#staged.push(entry);
		return entry;
	}

	/**
	 * Writes every staged message, and applies retention, in one transaction. If that fails,
	 * nothing of it is written, the staged messages are forgotten (their ids will be given
	 * again) and the error is thrown: the room tells their senders.
	 *
	 * Retention keeps the newest `retention` entries up to `keepUpTo`: a client that said hello
	 * in this burst, when the newest id was `keepUpTo`, is replayed the log as it stood then, so
	 * entries staged after its hello must not push out ones it is owed (they reach it live).
	 */
	commit(keepUpTo = this.#latestId): void {
		const staged = this.#staged;
		if (staged.length === 0) return;
		this.#staged = [];
		this.#stagedByClientId.clear();
		try {
			this.#storage.transactionSync(() => {
				for (const entry of staged) {
					const isMessage = !("kind" in entry);
					this.#sql.exec(
						`INSERT INTO messages (id, kind, target, client_id, user_id, name, text, ts)
						 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
						entry.id,
						isMessage ? "message" : entry.kind,
						isMessage ? null : entry.target,
						isMessage ? entry.clientId : null,
						entry.userId ?? null,
						entry.name,
						"text" in entry ? entry.text : "",
						entry.ts,
					);
				}
				// A deleted message's words leave the log with it (its edits' too): history keeps the
				// entry, emptied, so ids and order stay as they were.
				for (const entry of staged) {
					if (!("kind" in entry) || entry.kind !== "delete") continue;
					this.#sql.exec(
						"UPDATE messages SET text = '' WHERE (id = ? AND kind = 'message') OR (kind = 'edit' AND target = ?)",
						entry.target,
						entry.target,
					);
				}
				const newest = Math.min(keepUpTo, this.#latestId);
				if (newest > this.#retention) {
					this.#sql.exec("DELETE FROM messages WHERE id <= ?", newest - this.#retention);
				}
			});
		} catch (error) {
			this.#latestId = this.#storedId;
			throw error;
		}
		this.#storedId = this.#latestId;
	}

	/**
	 * What joining clients get, one `Replay` per request, from one query however many there are
	 * (a reconnect storm brings hundreds of hellos in one burst): without `since`, the newest
	 * `limit` messages up to `upTo`; with it, every retained message after `since` up to `upTo`,
	 * and whether that leaves a gap (some are no longer retained, or `since` is newer than
	 * anything this room has stored: its history was lost, and the newest `limit` are returned
	 * instead). `upTo` is the newest id given when the client asked: what comes later reaches it
	 * live. Staged messages are not in it: the room commits first.
	 */
	replayAll(requests: readonly { since: number | undefined; upTo: number }[], limit: number): Replay[] {
		if (requests.length === 0) return [];
		const stored = this.#storedId;
		// What each is owed: the entries after `from` up to its `latestId`, of those retained when
		// it said hello (the newest `retention` up to then; storage may briefly hold more).
		const windows = requests.map(({ since, upTo }) => {
			const latestId = Math.min(upTo, stored);
			const floor = Math.max(0, latestId - this.#retention);
			const lost = since !== undefined && since > stored;
			const from = since === undefined || lost ? Math.max(floor, latestId - limit) : Math.max(since, floor);
			const gap = lost || (since !== undefined && since < floor);
			return { from, latestId, gap };
		});
		// Loops, not Math.min(...spread): a reconnect storm may bring more welcomes than a call's arguments.
		let lowest = Number.POSITIVE_INFINITY;
		let highest = 0;
		for (const { from, latestId } of windows) {
			lowest = Math.min(lowest, from);
			highest = Math.max(highest, latestId);
		}
		const entries = this.#sql
			.exec<Row>(`SELECT ${COLUMNS} FROM messages WHERE id > ? AND id <= ? ORDER BY id`, lowest, highest)
			.toArray()
			.map(toEntry);
		return windows.map(({ from, latestId, gap }) => ({
			messages: entries.slice(firstAfter(entries, from), firstAfter(entries, latestId)),
			gap,
			latestId,
		}));
	}

	/**
	 * Every retained message after `since` up to `upTo`, oldest first (a shard that missed a push
	 * catches up with it), and whether some of them are no longer retained.
	 */
	between(since: number, upTo: number): { messages: LogEntry[]; gap: boolean } {
		const messages = this.#sql
			.exec<Row>(`SELECT ${COLUMNS} FROM messages WHERE id > ? AND id <= ? ORDER BY id`, since, upTo)
			.toArray()
			.map(toEntry);
		const gap = since < upTo && (messages[0]?.id ?? Number.POSITIVE_INFINITY) > since + 1;
		return { messages, gap };
	}

	/** The newest id stored (what a burst's deliveries come after). */
	get storedId(): number {
		return this.#storedId;
	}

	/** How many messages are stored. */
	count(): number {
		return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM messages").one().n;
	}
}

/** Index of the first message with an id above `id` (messages sorted by id). */
function firstAfter(messages: readonly LogEntry[], id: number): number {
	let low = 0;
	let high = messages.length;
	while (low < high) {
		const middle = (low + high) >>> 1;
		if ((messages[middle] as LogEntry).id <= id) low = middle + 1;
		else high = middle;
	}
	return low;
}
