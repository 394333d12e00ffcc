/**
 * The log: a room's one order of entries, durable in the Durable Object's own SQLite database
 * (`ctx.storage.sql`, the table of src/room/log-table.ts). Ids are assigned here: 1, 2, 3, ...
 * per room, never reused. Messages are entries, and so are edits and deletes of them (signed
 * mode) and each burst's change to a message's reactions, with ids from the same sequence, so
 * history and resume carry them (PROTOCOL.md). A `clientId` is stored once per sender however
 * often it is sent (a client retries after a reconnect). Retention is bounded: once a room holds
 * more than `retention` messages the oldest are dropped, and an edit or a reactions entry drops the
 * one it supersedes, so entries are bounded too. This file writes the log; src/room/log-reader.ts
 * reads it for welcomes, history pages and shards. It knows nothing of sockets.
 *
 * Entries are written in two steps. `stageNew`, `stageChange` and `stageReactions` give an entry
 * its id at once (so the room can answer and order it), and `commit` writes everything staged in
 * one transaction. The room commits once per burst of work, just before it sends anything
 * (`Room#commitBurst`): every commit costs the runtime a SQLite transaction (and, under
 * `wrangler dev`, an fsync on the isolate's only thread), so one per burst instead of one per message is
 * what lets a busy room keep up (bench/README.md). Durability is unchanged: the Durable Object's
 * output gate holds every frame sent after a write until that write is committed, so nobody ever
 * sees a message that is not stored.
 */

import type { ChatMessage, LogEntry, ReactionsEntry, ReplyQuote } from "../wire/log-entries.ts";
import { COLUMNS, insertEntry, openLogTable, type Row, senderKey, toMessage } from "./log-table.ts";
import type { RoomStore } from "./room-store.ts";

/**
 * The result of staging a message: the message with its id, and where it stands. `new`: staged
 * now. `staged` or `stored`: a message with the same `clientId` from the same sender was already
 * staged in this burst or stored before (a retried send), and that one is returned.
 */
export interface StageOutcome {
	readonly message: ChatMessage;
	readonly status: "new" | "staged" | "stored";
}

/** What a reply, an edit, a delete or a reaction needs of the message it is about. */
export interface MessageStanding {
	readonly name: string;
	readonly userId: string | null;
	readonly text: string;
	readonly deleted: boolean;
}

/** What a commit did besides writing entries, for the parts that keep tables beside the log. */
export interface CommitOutcome {
	/** Messages deleted by this commit's entries. */
	readonly deleted: ReadonlySet<number>;
	/** Retention dropped every entry up to this id (0: none). */
	readonly droppedUpTo: number;
}

/** The extras a staged message may carry. */
export interface MessageExtras {
	readonly userId: string | null;
	readonly replyTo: ReplyQuote | null;
	readonly mentions: readonly string[];
	/** Posted through the HTTP API. */
	readonly api?: boolean;
}

/** The storage key of how far retention by age has taken the log. */
const AGED_OUT_KEY = "log:agedOutUpTo";

/** The room's log, for writing. */
export class MessageLog {
	readonly #store: RoomStore;
	readonly #retention: number;
	/** The newest id given, staged or stored. */
	#latestId = 0;
	#agedOutUpTo = 0;
	/** The newest id stored. */
	#storedId = 0;
	/** Every entry up to this id has left the log (retention by count or by age); 0: none has. */
	#floor = 0;
	/** How many messages (not edits, deletes or reactions) the log holds; counted when first needed. */
	#messages: number | null = null;
	/** Entries given an id but not yet written, oldest first. */
	#staged: LogEntry[] = [];
	/** The staged messages that carry a `clientId`, by sender and clientId (a resend can arrive before the commit). */
	readonly #stagedByClientId = new Map<string, ChatMessage>();

	/** Opens the room's log (its table exists once the room keeps anything: src/room/room-store.ts). */
	constructor(store: RoomStore, retention: number) {
		this.#store = store;
		this.#retention = retention;
		store.define(
			() => openLogTable(store.sql),
			() => {
				this.#latestId = this.#storedId = this.#floor = this.#agedOutUpTo = 0;
				this.#messages = null;
			},
		);
		if (!store.kept) return;
		this.#agedOutUpTo = store.kv.get<number>(AGED_OUT_KEY) ?? 0;
		// Ids only grow and retention keeps the newest, so max(id) is the last id given, unless
		// retention by age took every entry: then the last one it took is. Below the oldest entry
		// kept, nothing is (what superseded an entry is newer than it).
		const { latest, oldest } = store.sql
			.exec<{ latest: number | null; oldest: number | null }>(
				"SELECT max(id) AS latest, min(id) AS oldest FROM messages",
			)
			.one();
		this.#storedId = Math.max(latest ?? 0, this.#agedOutUpTo);
		this.#latestId = this.#storedId;
		this.#floor = oldest === null ? this.#storedId : Math.max(oldest - 1, this.#agedOutUpTo);
	}

	/** Entries up to this id left the log by age (`dropOlderThan`); 0 when none has. */
	get agedOutUpTo(): number {
		return this.#agedOutUpTo;
	}

	/** Every entry up to this id is no longer retained (by count or by age); 0 when none has left. */
	get floor(): number {
		return this.#floor;
	}

	/**
	 * Retention by age (a room's `retentionDays`): every committed entry stored before `cutoff`
	 * (ms) leaves the log, with everything older, in one transaction that also records how far
	 * (so a client resuming from before it is told of the gap). Returns how many left.
	 */
	dropOlderThan(cutoff: number): number {
		if (!this.#store.kept) return 0;
		const sql = this.#store.sql;
		const upTo = sql
			.exec<{ upTo: number | null }>(
				"SELECT max(id) AS upTo FROM messages WHERE ts < ? AND id <= ?",
				cutoff,
				this.#storedId,
			)
			.one().upTo;
		if (upTo === null || upTo <= this.#agedOutUpTo) return 0;
		let dropped = 0;
		this.#store.transactionSync(() => {
			dropped = sql.exec("DELETE FROM messages WHERE id <= ?", upTo).rowsWritten;
			this.#store.kv.put(AGED_OUT_KEY, upTo);
		});
		this.#agedOutUpTo = upTo;
		this.#floor = Math.max(this.#floor, upTo);
		this.#messages = null;
		return dropped;
	}

	/** Id of the newest entry given (0 when the room has none). */
	get latestId(): number {
		return this.#latestId;
	}

	/** The newest id stored (what a burst's deliveries come after). */
	get storedId(): number {
		return this.#storedId;
	}

	/** Whether the log holds no entry at all (none was ever written, or every one has left). */
	get isEmpty(): boolean {
		return this.#staged.length === 0 && this.#floor >= this.#storedId;
	}

	/** How many entries are stored. */
	count(): number {
		if (!this.#store.kept) return 0;
		return this.#store.sql.exec<{ n: number }>("SELECT count(*) AS n FROM messages").one().n;
	}

	/**
	 * The message `sender` (`senderKey`) gave `clientId` to, staged or stored, if any. Throws if
	 * storage cannot be read.
	 */
	known(sender: string, clientId: string | null): StageOutcome | null {
		if (clientId === null) return null;
		const staged = this.#stagedByClientId.get(`${sender}\n${clientId}`);
		if (staged) return { message: staged, status: "staged" };
		if (!this.#store.kept) return null;
		const existing = this.#store.sql
			.exec<Row>(`SELECT ${COLUMNS} FROM messages WHERE sender = ? AND client_id = ?`, sender, clientId)
			.toArray()[0];
		return existing ? { message: toMessage(existing), status: "stored" } : null;
	}

	/** Gives a message whose `clientId` is not `known` the next id and stages it. */
	stageNew(name: string, text: string, clientId: string | null, ts: number, extras: MessageExtras): StageOutcome {
		const message: ChatMessage = { id: ++this.#latestId, clientId, name, text, ts };
		if (extras.userId !== null) message.userId = extras.userId;
		if (extras.replyTo !== null) message.replyTo = extras.replyTo;
		if (extras.mentions.length > 0) message.mentions = [...extras.mentions];
		if (extras.api) message.api = true;
		this.#staged.push(message);
		if (clientId !== null) this.#stagedByClientId.set(`${senderKey({ name, ...extras })}\n${clientId}`, message);
		return { message, status: "new" };
	}

	/**
	 * Where message `id` stands now, for a reply, an edit, a delete or a reaction: `null` when it
	 * is not a message of the retained log (never was, was dropped by retention, or is another
	 * kind of entry). Entries staged in this burst count.
	 */
	standing(id: number): MessageStanding | null {
		let message = this.#staged.find((entry) => entry.id === id && !("kind" in entry)) as ChatMessage | undefined;
		let deleted = false;
		if (!message && id <= this.#storedId && id > this.#floor) {
			const row = this.#store.sql.exec<Row>(`SELECT ${COLUMNS} FROM messages WHERE id = ?`, id).toArray()[0];
			if (row?.kind === "message") {
				message = toMessage(row);
				deleted = row.deleted === 1;
			}
		}
		if (!message) return null;
		let text = message.text;
		for (const entry of this.#staged) {
			if (!("kind" in entry) || entry.target !== id) continue;
			if (entry.kind === "delete") deleted = true;
			else if (entry.kind === "edit") text = entry.text;
		}
		return { name: message.name, userId: message.userId ?? null, text: deleted ? "" : text, deleted };
	}

	/**
	 * Gives an edit or a delete of message `target` the next id and stages it (the room checked who
	 * may): by user `userId`, or, with `by` `"api"`, a delete through the HTTP API (no user).
	 */
	stageChange(
		change: { kind: "edit"; text: string } | { kind: "delete" },
		target: number,
		name: string,
		by: { userId: string } | "api",
		ts: number,
	): LogEntry {
		const id = ++this.#latestId;
		const entry: LogEntry =
			by === "api"
				? { kind: "delete", id, target, name, ts, api: true }
				: { ...change, id, target, name, userId: by.userId, ts };
		this.#staged.push(entry);
		return entry;
	}

	/**
	 * Gives this burst's change to message `target`'s reactions the next id and stages it; its
	 * aggregate is filled in at the commit (src/room/reactions.ts), once the burst's last
	 * reaction to it is known.
	 */
	stageReactions(target: number, ts: number): ReactionsEntry {
		const entry: ReactionsEntry = { id: ++this.#latestId, kind: "reactions", target, reactions: [], ts };
		this.#staged.push(entry);
		return entry;
	}

	/**
	 * Writes every staged entry, applies edits and deletes to their messages' rows, runs `also`
	 * (the writes of the parts beside the log, such as reactions), and applies retention, all in
	 * one transaction. If that fails, nothing of it is written, the staged entries are forgotten
	 * (their ids will be given again) and the error is thrown: the room tells their senders.
	 *
	 * Retention counts messages, not entries: the log keeps the newest `retention` messages up to
	 * `keepUpTo` and every entry after the oldest of them, so no number of reactions, edits or
	 * deletes pushes a message out of history. What an entry says is superseded by the next
	 * entry of its kind for the same message (a reactions entry carries the message's whole
	 * reactions, an edit its whole text), so the older one is dropped as the newer is written: a
	 * client replaying the log reaches the same state, and a message has at most one edit, one
	 * delete and one reactions entry, however often it was changed. A client that said hello in this
	 * burst, when the newest id was `keepUpTo`, is replayed the log as it stood then, so messages
	 * staged after its hello must not push out ones it is owed (they reach it live).
	 *
	 * With nothing staged there is no transaction, unless `always` (the parts beside the log have
	 * writes of their own to commit, such as the webhook events of a kick).
	 */
	commit(keepUpTo = this.#latestId, also: (outcome: CommitOutcome) => void = () => {}, always = false): void {
		const staged = this.#staged;
		if (staged.length === 0 && !always) return;
		this.#staged = [];
		this.#stagedByClientId.clear();
		let droppedUpTo = 0;
		let messages = 0;
		try {
			this.#store.transactionSync(() => {
				const sql = this.#store.sql;
				messages = this.#messageCount();
				const deleted = new Set<number>();
				for (const entry of staged) {
					insertEntry(sql, entry);
					if (!("kind" in entry)) {
						messages++;
						continue;
					}
					if (entry.kind === "delete") deleted.add(entry.target);
					else {
						// The newer entry of a kind says everything the older one did.
						sql.exec(
							"DELETE FROM messages WHERE target = ? AND kind = ? AND id < ?",
							entry.target,
							entry.kind,
							entry.id,
						);
						if (entry.kind === "edit") this.#applyEdit(entry.target, entry.text);
					}
				}
				for (const target of deleted) this.#applyDelete(target);
				// Messages up to `keepUpTo` beyond `retention` leave, oldest first, with every entry before them.
				const excess = messages - (staged.length > 0 ? stagedAfter(staged, keepUpTo) : 0) - this.#retention;
				if (excess > 0) {
					droppedUpTo = sql
						.exec<{ id: number }>(
							"SELECT id FROM messages WHERE kind = 'message' ORDER BY id LIMIT 1 OFFSET ?",
							excess - 1,
						)
						.one().id;
					sql.exec("DELETE FROM messages WHERE id <= ?", droppedUpTo);
					messages -= excess;
				}
				also({ deleted, droppedUpTo });
			});
		} catch (error) {
			this.#latestId = this.#storedId;
			this.#messages = null;
			throw error;
		}
		this.#messages = messages;
		this.#storedId = this.#latestId;
		this.#floor = Math.max(this.#floor, droppedUpTo);
	}

	/** How many messages are stored (counted once per instance, then kept up to date by the commits). */
	#messageCount(): number {
		this.#messages ??= this.#store.sql
			.exec<{ n: number }>("SELECT count(*) AS n FROM messages WHERE kind = 'message'")
			.one().n;
		return this.#messages;
	}

	/** The message's row reads as it stands now; its edit's entry stays in the log for resume. */
	#applyEdit(target: number, text: string): void {
		this.#store.sql.exec("UPDATE messages SET text = ?, edited = 1 WHERE id = ? AND kind = 'message'", text, target);
	}

	/**
	 * A deleted message's words leave the log with it: its text, its edits' texts, its mentions,
	 * its reactions, and the excerpts that replies quote of it. History keeps its entry, emptied,
	 * so ids and order stay as they were.
	 */
	#applyDelete(target: number): void {
		const sql = this.#store.sql;
		sql.exec(
			"UPDATE messages SET text = '', mentions = NULL, reactions = NULL, deleted = 1 WHERE id = ? AND kind = 'message'",
			target,
		);
		sql.exec("UPDATE messages SET text = '' WHERE kind = 'edit' AND target = ?", target);
		sql.exec("UPDATE messages SET reply_excerpt = '' WHERE reply_to = ?", target);
	}
}

/** How many of a burst's staged messages came after `keepUpTo` (a welcome of the burst is not owed them). */
function stagedAfter(staged: readonly LogEntry[], keepUpTo: number): number {
	let after = 0;
	for (const entry of staged) if (!("kind" in entry) && entry.id > keepUpTo) after++;
	return after;
}
