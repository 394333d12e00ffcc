/**
 * The room's log as stored: one SQLite table (`messages`) in the room's Durable Object, its
 * columns, how an older room's table is brought up to date, and how a row becomes the
 * `LogEntry` clients see. The writer (src/room/message-log.ts) and the reader
 * (src/room/log-reader.ts) share it; nothing else touches the table.
 *
 * A message's row holds the message as it stands now: an edit writes the new text into it as
 * well as appending its own entry, a delete empties it, and its reactions' current aggregate is
 * kept on it. So a page of history is read from the message rows alone, with no entry replayed.
 */
import type { ChatMessage, DeleteEntry, LogEntry, Reaction } from "../wire/log-entries.ts";

/** One row of the `messages` table. */
export type Row = {
	id: number;
	kind: "message" | "edit" | "delete" | "reactions";
	target: number | null;
	client_id: string | null;
	user_id: string | null;
	name: string;
	/** A message's or edit's text; a reactions entry's aggregate (JSON). */
	text: string;
	ts: number;
	reply_to: number | null;
	reply_name: string | null;
	reply_user_id: string | null;
	reply_excerpt: string | null;
	/** JSON array of names, or null. */
	mentions: string | null;
	edited: number;
	deleted: number;
	/** A message's reactions now (JSON), or null for none. */
	reactions: string | null;
	/** 1: a message posted, or a delete made, through the HTTP API. */
	api: number;
};

/** Every column read back, in the order `Row` has them. */
export const COLUMNS =
	"id, kind, target, client_id, user_id, name, text, ts, reply_to, reply_name, reply_user_id, reply_excerpt, mentions, edited, deleted, reactions, api";

/**
 * The table as this edgechat writes it. `sender` says whose `client_id` it is (`senderKey`): a `clientId` is unique per sender, never across the room, so nobody can take the id
 * another sender (the operator's backend, say) is going to use.
 */
const CREATE_TABLE = `CREATE TABLE messages (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL DEFAULT 'message',
	target INTEGER,
	sender TEXT,
	client_id TEXT,
	user_id TEXT,
	name TEXT NOT NULL,
	text TEXT NOT NULL,
	ts INTEGER NOT NULL,
	reply_to INTEGER,
	reply_name TEXT,
	reply_user_id TEXT,
	reply_excerpt TEXT,
	mentions TEXT,
	edited INTEGER NOT NULL DEFAULT 0,
	deleted INTEGER NOT NULL DEFAULT 0,
	reactions TEXT,
	api INTEGER NOT NULL DEFAULT 0
)`;

/**
 * Creates the table, or brings one written by an older edgechat up to date. Rooms stored before
 * signed mode have no kind, target or author; rooms stored before replies and reactions have none
 * of their columns, and rooms stored before the HTTP API no mark of it: those are added, empty for
 * old rows, which is what they were. Rooms stored before `clientId`s were per sender have a
 * `client_id` unique across the room, which SQLite cannot drop from a column: the table is copied
 * into the new shape once, each old row's sender worked out as `senderKey` would have (the API's,
 * a user's, or a name's).
 */
export function openLogTable(sql: SqlStorage): void {
	const exists =
		sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'").toArray().length > 0;
	if (!exists) sql.exec(CREATE_TABLE);
	const columns = sql.exec("SELECT * FROM messages LIMIT 0").columnNames;
	if (!columns.includes("sender")) {
		const add = (column: string, type: string) => {
			if (!columns.includes(column)) sql.exec(`ALTER TABLE messages ADD COLUMN ${column} ${type}`);
		};
		add("kind", "TEXT NOT NULL DEFAULT 'message'");
		add("target", "INTEGER");
		add("user_id", "TEXT");
		add("reply_to", "INTEGER");
		add("reply_name", "TEXT");
		add("reply_user_id", "TEXT");
		add("reply_excerpt", "TEXT");
		add("mentions", "TEXT");
		add("edited", "INTEGER NOT NULL DEFAULT 0");
		add("deleted", "INTEGER NOT NULL DEFAULT 0");
		add("reactions", "TEXT");
		add("api", "INTEGER NOT NULL DEFAULT 0");
		sql.exec("ALTER TABLE messages RENAME TO messages_before_senders");
		sql.exec(CREATE_TABLE);
		sql.exec(`INSERT INTO messages (${COLUMNS}, sender)
			SELECT ${COLUMNS}, CASE WHEN client_id IS NULL THEN NULL WHEN api = 1 THEN 'api'
				WHEN user_id IS NOT NULL THEN 'user:' || user_id ELSE 'name:' || name END
			FROM messages_before_senders`);
		sql.exec("DROP TABLE messages_before_senders");
	}
	sql.exec(
		"CREATE UNIQUE INDEX IF NOT EXISTS messages_client ON messages (sender, client_id) WHERE client_id IS NOT NULL",
	);
	// Edits, deletes and reactions look up their message's other entries by target, never by a scan;
	// replies to a deleted message are found by what they answer.
	sql.exec("CREATE INDEX IF NOT EXISTS messages_target ON messages (target) WHERE target IS NOT NULL");
	sql.exec("CREATE INDEX IF NOT EXISTS messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL");
	// Messages alone, in order: retention counts them, and scroll-back pages through them, without
	// walking past the edits, deletes and reactions between them.
	sql.exec("CREATE INDEX IF NOT EXISTS messages_only ON messages (id) WHERE kind = 'message'");
}

/** A row as the entry clients see (a message as it stands now, with what is set of its extras). */
export function toEntry(row: Row): LogEntry {
	const { id, name, ts } = row;
	switch (row.kind) {
		case "edit":
			return {
				id,
				kind: "edit",
				target: row.target as number,
				text: row.text,
				name,
				userId: row.user_id as string,
				ts,
			};
		case "delete": {
			const entry: DeleteEntry = { id, kind: "delete", target: row.target as number, name, ts };
			if (row.user_id !== null) entry.userId = row.user_id;
			if (row.api) entry.api = true;
			return entry;
		}
		case "reactions":
			return { id, kind: "reactions", target: row.target as number, reactions: JSON.parse(row.text) as Reaction[], ts };
		default:
			return toMessage(row);
	}
}

/** A message row as the message clients see. */
export function toMessage(row: Row): ChatMessage {
	const message: ChatMessage = { id: row.id, clientId: row.client_id, name: row.name, text: row.text, ts: row.ts };
	if (row.user_id !== null) message.userId = row.user_id;
	if (row.reply_to !== null) {
		message.replyTo = { id: row.reply_to, name: row.reply_name ?? "", excerpt: row.reply_excerpt ?? "" };
		if (row.reply_user_id !== null) message.replyTo.userId = row.reply_user_id;
	}
	if (row.mentions !== null) message.mentions = JSON.parse(row.mentions) as string[];
	if (row.edited) message.edited = true;
	if (row.deleted) message.deleted = true;
	if (row.reactions !== null) message.reactions = JSON.parse(row.reactions) as Reaction[];
	if (row.api) message.api = true;
	return message;
}

/**
 * Who a `clientId` belongs to: the operator's backend (the HTTP API), a user (signed mode), or a
 * name (open mode, where a name is all that ties two connections of one person, as a resend after
 * a reconnect needs). A `clientId` is unique per sender, so a client that sends first with the id
 * someone else will use (the API's `close-2026-12-05`, say) takes nothing from them: theirs is
 * stored as a new message, never answered with the other's.
 */
export function senderKey(sender: {
	readonly name: string;
	readonly userId?: string | null;
	readonly api?: boolean;
}): string {
	if (sender.api) return "api";
	return sender.userId == null ? `name:${sender.name}` : `user:${sender.userId}`;
}

/** Writes one entry of the log as its row (a message, or an edit, delete or reactions entry). */
export function insertEntry(sql: SqlStorage, entry: LogEntry): void {
	if ("kind" in entry) {
		const text = entry.kind === "reactions" ? JSON.stringify(entry.reactions) : "text" in entry ? entry.text : "";
		const userId = entry.kind === "reactions" ? null : entry.userId;
		const name = entry.kind === "reactions" ? "" : entry.name;
		sql.exec(
			"INSERT INTO messages (id, kind, target, user_id, name, text, ts, api) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			entry.id,
			entry.kind,
			entry.target,
			userId ?? null,
			name,
			text,
			entry.ts,
			entry.kind === "delete" && entry.api ? 1 : 0,
		);
		return;
	}
	const reply = entry.replyTo;
	sql.exec(
		`INSERT INTO messages (id, kind, sender, client_id, user_id, name, text, ts, reply_to, reply_name, reply_user_id,
			reply_excerpt, mentions, api) VALUES (?, 'message', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		entry.id,
		entry.clientId === null ? null : senderKey(entry),
		entry.clientId,
		entry.userId ?? null,
		entry.name,
		entry.text,
		entry.ts,
		reply?.id ?? null,
		reply?.name ?? null,
		reply?.userId ?? null,
		reply?.excerpt ?? null,
		entry.mentions ? JSON.stringify(entry.mentions) : null,
		entry.api ? 1 : 0,
	);
}
