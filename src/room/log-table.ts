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
import type { ChatMessage, DeleteEntry, LogEntry, Reaction } from "../wire/protocol.ts";

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

/** Every column, in the order `Row` has them. */
export const COLUMNS =
	"id, kind, target, client_id, user_id, name, text, ts, reply_to, reply_name, reply_user_id, reply_excerpt, mentions, edited, deleted, reactions, api";

/**
 * Creates the table, or brings one written by an older edgechat up to date: rooms stored before
 * signed mode have no kind, target or author; rooms stored before replies and reactions have
 * none of their columns, and rooms stored before the HTTP API no mark of it. Added columns are empty for old rows, which is what they were.
 */
export function openLogTable(sql: SqlStorage): void {
	sql.exec(`CREATE TABLE IF NOT EXISTS messages (
		id INTEGER PRIMARY KEY,
		client_id TEXT UNIQUE,
		name TEXT NOT NULL,
		text TEXT NOT NULL,
		ts INTEGER NOT NULL
	)`);
	const columns = sql.exec("SELECT * FROM messages LIMIT 0").columnNames;
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
	// Edits, deletes and reactions look up their message's other entries by target, never by a scan;
	// replies to a deleted message are found by what they answer.
	sql.exec("CREATE INDEX IF NOT EXISTS messages_target ON messages (target) WHERE target IS NOT NULL");
	sql.exec("CREATE INDEX IF NOT EXISTS messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL");
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
		`INSERT INTO messages (id, kind, client_id, user_id, name, text, ts, reply_to, reply_name, reply_user_id,
			reply_excerpt, mentions, api) VALUES (?, 'message', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		entry.id,
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
