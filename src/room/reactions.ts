/**
 * Reactions: who reacted to which message with which emoji, and what each burst's reactions
 * come to. It owns the `reactions` table (one row per message, emoji and member: a member reacts
 * with an emoji once, by user id in signed mode and by name in open mode) and decides every
 * `react`: `on` adds the member's reaction, `off` takes it back, and either is harmless when it
 * is already so (a resend changes nothing). A message carries at most `MAX_REACTIONS_PER_MESSAGE`
 * distinct emoji; reacting to one that is not a retained, undeleted message is `not_found`.
 *
 * However many members react to a message in one burst, the burst gets one log entry for it
 * (`MessageLog.stageReactions`), filled at the commit with the message's reactions as they then
 * stand, which is also written on the message's row (so history pages carry it) and sent to
 * everyone as one `reactions` event. A room where everyone reacts at once costs one event per
 * message per burst, not one per reaction.
 *
 * The messages reacted to lately are kept in memory (`CACHED_MESSAGES`), so a storm of reactions
 * to one message reads its rows once, not once per reaction; this object is the only writer.
 */
import { utf8Length } from "../hub/text.ts";
import {
	MAX_REACTIONS_PER_MESSAGE,
	REACTION_NAMES_SHOWN,
	REACTION_SUMMARY_BYTES,
	REACTORS_PAGE,
} from "../wire/limits.ts";
import type { Reaction, ReactionsEntry } from "../wire/log-entries.ts";
import { type Actor, memberKeyOf, type Submission } from "../wire/rpc.ts";
import type { Staged } from "./burst.ts";
import type { CommitOutcome, MessageLog } from "./message-log.ts";
import type { RoomStore } from "./room-store.ts";

/** Messages whose reactions are kept in memory, most recently used last. */
const CACHED_MESSAGES = 64;

/** One member's reaction: the name it showed and its user id (signed mode). */
type Reactor = { readonly name: string; readonly userId: string | null };
/** A message's reactions: by emoji (in the order first used), by member key (in the order they reacted). */
type MessageReactions = Map<string, Map<string, Reactor>>;

/** One change of this burst, to be written at the commit. */
type ReactionChange = {
	readonly target: number;
	readonly emoji: string;
	readonly key: string;
	readonly reactor: Reactor | null;
};

/** The room's reactions. */
export class Reactions {
	readonly #store: RoomStore;
	readonly #log: MessageLog;
	/** Reactions of recently touched messages, as committed (an LRU: insertion order is use order). */
	readonly #cache = new Map<number, MessageReactions>();
	/** This burst's state of the messages it touched (copies of the committed state, changed). */
	readonly #burst = new Map<number, { reactions: MessageReactions; entry: ReactionsEntry }>();
	/** This burst's changes, in order. */
	#changes: ReactionChange[] = [];

	/** Opens the room's reactions table (once the room keeps anything); `log` says which messages exist. */
	constructor(store: RoomStore, log: MessageLog) {
		this.#store = store;
		this.#log = log;
		store.define(
			() =>
				store.sql.exec(`CREATE TABLE IF NOT EXISTS reactions (
					message_id INTEGER NOT NULL,
					emoji TEXT NOT NULL,
					member_key TEXT NOT NULL,
					name TEXT NOT NULL,
					user_id TEXT,
					PRIMARY KEY (message_id, emoji, member_key)
				)`),
			() => this.#cache.clear(),
		);
	}

	/**
	 * A member reacts (or takes a reaction back). Returns what the burst gets: a refusal for the
	 * sender, the entry of the first change to this message in this burst, or `null` (nothing
	 * new: a later change in the same burst, or one that changes nothing). Throws if storage
	 * cannot be read.
	 */
	react(submission: Extract<Submission, { kind: "react" }>, now: number): Staged | null {
		const { from, id, emoji, on } = submission;
		const standing = this.#log.standing(id);
		if (!standing || standing.deleted) {
			return refusal(from, "not_found", `no message ${id} to react to in this room`);
		}
		const touched = this.#burst.get(id);
		const reactions = touched?.reactions ?? copy(this.#committed(id));
		const key = memberKeyOf(submission);
		const reactors = reactions.get(emoji);
		if (on === (reactors?.has(key) ?? false)) return null;
		if (on) {
			if (!reactors && reactions.size >= MAX_REACTIONS_PER_MESSAGE) {
				const message = `message ${id} has ${MAX_REACTIONS_PER_MESSAGE} different reactions already`;
				return refusal(from, "too_many_reactions", message);
			}
			const reactor = reactorOf(submission);
			if (reactors) reactors.set(key, reactor);
			else reactions.set(emoji, new Map([[key, reactor]]));
			this.#changes.push({ target: id, emoji, key, reactor });
		} else {
			reactors?.delete(key);
			if (reactors?.size === 0) reactions.delete(emoji);
			this.#changes.push({ target: id, emoji, key, reactor: null });
		}
		if (touched) return null;
		const entry = this.#log.stageReactions(id, now);
		this.#burst.set(id, { reactions, entry });
		return { kind: "change", entry, from };
	}

	/**
	 * Who reacted to message `id` with `emoji`, in the order they did, a page of `REACTORS_PAGE`
	 * from `offset` (what the message's summary does not list: `aggregate`), for the member who
	 * asked. Read from what is committed; a message not retained, or deleted, has none.
	 */
	reactors({ from, id, emoji, offset }: Extract<Submission, { kind: "reactors" }>): Staged {
		const standing = this.#log.standing(id);
		const rows =
			standing && !standing.deleted && this.#store.kept
				? this.#store.sql
						.exec<{ name: string; user_id: string | null }>(
							"SELECT name, user_id FROM reactions WHERE message_id = ? AND emoji = ? ORDER BY rowid LIMIT ? OFFSET ?",
							id,
							emoji,
							REACTORS_PAGE + 1,
							offset,
						)
						.toArray()
				: [];
		const reactors = rows
			.slice(0, REACTORS_PAGE)
			.map(({ name, user_id }) => (user_id === null ? { name } : { name, userId: user_id }));
		const event = { type: "reactors" as const, id, emoji, offset, reactors, more: rows.length > REACTORS_PAGE };
		return { kind: "reactors", to: from, event };
	}

	/**
	 * The commit's part, inside its transaction: this burst's changes written, every entry filled
	 * with its message's reactions as they now stand (none for a message deleted in the same
	 * burst), the messages' rows updated, and reactions to messages dropped by retention removed.
	 */
	write({ deleted, droppedUpTo }: CommitOutcome): void {
		const sql = this.#store.sql;
		for (const { target, emoji, key, reactor } of this.#changes) {
			if (reactor === null) {
				sql.exec("DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND member_key = ?", target, emoji, key);
			} else {
				sql.exec(
					"INSERT OR REPLACE INTO reactions (message_id, emoji, member_key, name, user_id) VALUES (?, ?, ?, ?, ?)",
					target,
					emoji,
					key,
					reactor.name,
					reactor.userId,
				);
			}
		}
		for (const [target, { reactions, entry }] of this.#burst) {
			if (deleted.has(target)) reactions.clear();
			entry.reactions = aggregate(reactions);
			const json = entry.reactions.length === 0 ? null : JSON.stringify(entry.reactions);
			sql.exec("UPDATE messages SET reactions = ? WHERE id = ? AND kind = 'message'", json, target);
		}
		for (const target of deleted) sql.exec("DELETE FROM reactions WHERE message_id = ?", target);
		if (droppedUpTo > 0) sql.exec("DELETE FROM reactions WHERE message_id <= ?", droppedUpTo);
	}

	/**
	 * The burst is over: committed (what it changed becomes what is cached) or not (it is
	 * forgotten, and the cache, which only ever holds committed state, is still right).
	 */
	settle(committed: boolean): void {
		for (const [target, { reactions }] of this.#burst) {
			this.#cache.delete(target);
			if (committed) this.#remember(target, reactions);
		}
		this.#burst.clear();
		this.#changes = [];
	}

	/** A message's committed reactions, from memory or from its rows. */
	#committed(id: number): MessageReactions {
		const cached = this.#cache.get(id);
		if (cached) {
			this.#cache.delete(id);
			this.#cache.set(id, cached);
			return cached;
		}
		const reactions: MessageReactions = new Map();
		if (!this.#store.kept) return reactions;
		const rows = this.#store.sql.exec<{ emoji: string; member_key: string; name: string; user_id: string | null }>(
			"SELECT emoji, member_key, name, user_id FROM reactions WHERE message_id = ? ORDER BY rowid",
			id,
		);
		for (const row of rows) {
			const reactors = reactions.get(row.emoji) ?? new Map<string, Reactor>();
			reactors.set(row.member_key, { name: row.name, userId: row.user_id });
			reactions.set(row.emoji, reactors);
		}
		this.#remember(id, reactions);
		return reactions;
	}

	#remember(id: number, reactions: MessageReactions): void {
		this.#cache.set(id, reactions);
		if (this.#cache.size > CACHED_MESSAGES) this.#cache.delete(this.#cache.keys().next().value as number);
	}
}

/** A refusal of a `react`, for its sender alone. */
function refusal(to: string, code: "not_found" | "too_many_reactions", message: string): Staged {
	return { kind: "error", to, error: { type: "error", code, message } };
}

function reactorOf(actor: Actor): Reactor {
	return { name: actor.name, userId: actor.userId };
}

/** A deep copy, so a burst's changes touch the cache only once committed. */
function copy(reactions: MessageReactions): MessageReactions {
	return new Map([...reactions].map(([emoji, reactors]) => [emoji, new Map(reactors)]));
}

/**
 * What clients see of a message's reactions: per emoji, the count and the first names (at most
 * `REACTION_NAMES_SHOWN`), the names of all emoji together within `REACTION_SUMMARY_BYTES` (so a
 * message row, every welcome and page that carries it, and each `reactions` event stay small
 * however long the names are). `count` covers everyone; the rest are asked for (`reactors`).
 */
function aggregate(reactions: MessageReactions): Reaction[] {
	let budget = REACTION_SUMMARY_BYTES;
	return [...reactions].map(([emoji, reactors]) => {
		const shown: Reactor[] = [];
		for (const reactor of reactors.values()) {
			if (shown.length === REACTION_NAMES_SHOWN) break;
			// Each name and user id as the JSON strings they are sent as, with a comma.
			const json = (text: string) => utf8Length(JSON.stringify(text)) + 1;
			const cost = json(reactor.name) + (reactor.userId === null ? 0 : json(reactor.userId));
			if (cost > budget) break;
			budget -= cost;
			shown.push(reactor);
		}
		const reaction: Reaction = { emoji, count: reactors.size, names: shown.map(({ name }) => name) };
		if (shown.some(({ userId }) => userId !== null)) reaction.userIds = shown.map(({ userId }) => userId ?? "");
		return reaction;
	});
}
