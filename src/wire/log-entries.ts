/**
 * The entries of a room's log as clients see them: a chat message (as it was sent, or, in a
 * welcome or a history page, as it stands now), and the entries that change one (edits and
 * deletes in signed mode, and each burst's reactions). Part of the wire protocol
 * (src/wire/protocol.ts re-exports every type here); PROTOCOL.md documents each field.
 */

/** One stored chat message. */
export interface ChatMessage {
	/** Server-assigned, strictly increasing per room (1, 2, 3, ...). */
	id: number;
	/** The sender's own id for it; `null` for messages from plain clients. */
	clientId: string | null;
	/** Display name of the author (`guest` for plain clients). */
	name: string;
	text: string;
	/** When the room stored it, in milliseconds since the Unix epoch. */
	ts: number;
	/** Signed mode: the author's user id (the token's `sub`). */
	userId?: string;
	/** The message this one answers, as it was when this was sent (its excerpt emptied if it was deleted since). */
	replyTo?: ReplyQuote;
	/** Names of members this message mentions (`@name`), as the room resolved them when it was sent. */
	mentions?: string[];
	/** In a welcome or a `history` page: the message was edited (`text` is the new one) or deleted (`text` is empty). */
	edited?: true;
	deleted?: true;
	/** In a welcome or a `history` page: its reactions as they stand now (absent: none). */
	reactions?: Reaction[];
	/** Posted by the operator's backend through the HTTP API (docs/api.md), not by a member. */
	api?: true;
}

/** What a reply shows of the message it answers, without that message at hand. */
export interface ReplyQuote {
	id: number;
	name: string;
	/** Signed mode: the original author's user id. */
	userId?: string;
	/** The original's first `REPLY_EXCERPT_LENGTH` code points (`…` added when cut). */
	excerpt: string;
}

/** One emoji's reactions on a message: how many members, and the first of them by name. */
export interface Reaction {
	emoji: string;
	count: number;
	/** The first `REACTION_NAMES_SHOWN` members who reacted, by name, in the order they did. */
	names: string[];
	/** Signed mode: their user ids, in the same order. */
	userIds?: string[];
}

/**
 * Message `target`'s reactions changed: what they are now, once per message per burst of work
 * (however many members reacted in it). An entry of the log: resume replays it.
 */
export interface ReactionsEntry {
	id: number;
	kind: "reactions";
	target: number;
	reactions: Reaction[];
	ts: number;
}

/** Signed mode: message `target` was edited; an entry of the log with an id of its own. */
export interface EditEntry {
	id: number;
	kind: "edit";
	target: number;
	text: string;
	/** The author's name and user id. */
	name: string;
	userId: string;
	ts: number;
}

/**
 * Message `target` was deleted: in signed mode by its author or a moderator (`name`, `userId`), or,
 * in either mode, by the operator's backend through the HTTP API (`api`, named `API`, no `userId`).
 */
export interface DeleteEntry {
	id: number;
	kind: "delete";
	target: number;
	name: string;
	userId?: string;
	ts: number;
	api?: true;
}

/** One entry of a room's log, in id order: a message, or an edit, delete or reactions of one. */
export type LogEntry = ChatMessage | EditEntry | DeleteEntry | ReactionsEntry;
