/**
 * The conversation: what is said in the room and what is kept of it. It owns the log (its writer,
 * src/room/message-log.ts, and its reader, src/room/log-reader.ts), the reactions
 * (src/room/reactions.ts) and the read positions (src/room/reads.ts), and decides what a `send`,
 * a `react` and a `read` come to: a message with its id, the quote of the message it replies to
 * and the members it mentions; a reactions entry; a stored position. At the end of a burst it
 * commits everything staged in one transaction and answers what the burst asked of the log
 * (welcomes' history, history pages, where a user has read to).
 *
 * Who may change or remove what is moderation's (src/room/moderation.ts), which stages its edits
 * and deletes in the same log; who is present (and so who can be mentioned) is the members'.
 */
import type { Config } from "../config.ts";
import { logEvent } from "../log-event.ts";
import type { MessagePage, MessagesQuery } from "../wire/operator.ts";
import { type ErrorEvent, REPLY_EXCERPT_LENGTH, type ReplyQuote } from "../wire/protocol.ts";
import type { Submission } from "../wire/rpc.ts";
import type { Answers, Staged } from "./burst.ts";
import { LogReader } from "./log-reader.ts";
import { type CommitOutcome, MessageLog } from "./message-log.ts";
import { Reactions } from "./reactions.ts";
import { Reads } from "./reads.ts";

/** The room's conversation. */
export class Conversation {
	/** The log's writer: moderation stages edits and deletes in it, the shards' links read its newest id. */
	readonly log: MessageLog;
	readonly #reader: LogReader;
	readonly #reactions: Reactions;
	readonly #reads: Reads;
	readonly #mentionedIn: (text: string) => string[];

	/** Opens the room's tables; `mentionedIn` answers which present members a text mentions. */
	constructor(storage: DurableObjectStorage, config: Config, mentionedIn: (text: string) => string[]) {
		this.log = new MessageLog(storage, config.historyRetention);
		const { historyRetention, historyReplay } = config;
		this.#reader = new LogReader(
			storage.sql,
			historyRetention,
			historyReplay,
			() => this.log.storedId,
			() => this.log.agedOutUpTo,
		);
		this.#reactions = new Reactions(storage.sql, this.log);
		this.#reads = new Reads(storage.sql);
		this.#mentionedIn = mentionedIn;
	}

	/**
	 * A chat message gets its id now (with the quote of what it replies to and the names it
	 * mentions). A retried send (its `clientId` known) is not stored again, whichever part of the
	 * room it comes through; the original broadcast may have been lost with the sender's old
	 * connection, so the message is repeated to the sender, in turn. A reply to a message that is
	 * not retained (or was deleted) is refused with `not_found`. Throws if storage cannot be read.
	 */
	send(
		submission: Extract<Submission, { kind: "send" }>,
		now: number,
		admit: () => ErrorEvent | null = () => null,
	): Staged {
		const { from, name, text, clientId, userId, replyTo, api } = submission;
		const known = this.log.known(clientId);
		if (known) return { kind: "repeat", message: known.message, to: from, staged: known.status === "staged" };
		// The room's policies (src/room/policies.ts) judge a new message, never a retried one.
		const refusal = admit();
		if (refusal) return { kind: "error", to: from, error: refusal };
		const quote = replyTo === null ? null : this.#quoteOf(replyTo);
		if (quote === undefined) {
			const message = `no message ${replyTo} to reply to in this room`;
			const error = { type: "error" as const, code: "not_found" as const, message };
			return { kind: "error", to: from, error: clientId === null ? error : { ...error, clientId } };
		}
		const mentions = this.#mentionedIn(text);
		const extras = { userId, replyTo: quote, mentions, api: api === true };
		return { kind: "new", message: this.log.stageNew(name, text, clientId, now, extras).message, from };
	}

	/** What a reply shows of message `id`; `undefined` when it is not a retained, undeleted message. */
	#quoteOf(id: number): ReplyQuote | undefined {
		const original = this.log.standing(id);
		if (!original || original.deleted) return undefined;
		const characters = [...original.text];
		const excerpt =
			characters.length > REPLY_EXCERPT_LENGTH
				? `${characters.slice(0, REPLY_EXCERPT_LENGTH).join("")}…`
				: original.text;
		const quote: ReplyQuote = { id, name: original.name, excerpt };
		if (original.userId !== null) quote.userId = original.userId;
		return quote;
	}

	/** A reaction (src/room/reactions.ts). Throws if storage cannot be read. */
	react(submission: Extract<Submission, { kind: "react" }>, now: number): Staged | null {
		return this.#reactions.react(submission, now);
	}

	/** Signed mode: a user's read position moves forward (a storage failure only costs the position). */
	read({ userId, id }: Extract<Submission, { kind: "read" }>): void {
		if (userId === null) return;
		try {
			this.#reads.read(userId, id, this.log.latestId);
		} catch (error) {
			logEvent("storage_failed", { during: "read", error: String(error) });
		}
	}

	/**
	 * Stores the burst's entries in one transaction (its reactions with them) and reads what its
	 * welcomes and history requests asked, after the commit. A welcome of this burst is owed the
	 * log as it stood at its hello (`upTo`), so retention keeps that much. If the commit fails,
	 * nothing of the burst is stored; if history cannot be read, the newcomers are welcomed all
	 * the same, told it is missing (`gap`), and history requests get an empty last page.
	 * `alsoWrite`, when given, writes in the same transaction (the webhook events of the burst),
	 * which then happens even if the log has nothing new.
	 */
	commit(burst: readonly Staged[], alsoWrite: (() => void) | null = null): Answers {
		const welcomes = [];
		const requests = [];
		for (const item of burst) {
			if (item.kind === "welcome") welcomes.push(item.request);
			else if (item.kind === "history") requests.push(item.request);
		}
		let oldestWelcome = Number.POSITIVE_INFINITY;
		for (const welcome of welcomes) oldestWelcome = Math.min(oldestWelcome, welcome.upTo);
		let stored = true;
		try {
			const write = (outcome: CommitOutcome) => {
				this.#reactions.write(outcome);
				alsoWrite?.();
			};
			this.log.commit(Math.min(oldestWelcome, this.log.latestId), write, alsoWrite !== null);
		} catch (error) {
			logEvent("storage_failed", { during: "commit", items: burst.length, error: String(error) });
			stored = false;
		}
		this.#reactions.settle(stored);
		try {
			return {
				stored,
				replays: this.#reader.replayAll(welcomes),
				pages: requests.map((request) => this.#reader.page(request)),
				readUpTo: welcomes.map(({ userId }) => (userId === null ? null : this.#reads.upTo(userId))),
			};
		} catch (error) {
			logEvent("storage_failed", { during: "replay", items: welcomes.length + requests.length, error: String(error) });
			return {
				stored,
				replays: welcomes.map(({ upTo }) => ({ messages: [], gap: true, latestId: upTo, more: false })),
				pages: requests.map(({ before, after }) => ({
					type: "history" as const,
					...(before === null ? { after: after ?? 0 } : { before }),
					entries: [],
					more: false,
				})),
				readUpTo: welcomes.map(() => null),
			};
		}
	}

	/** A page of messages as they stand now, for the HTTP API (src/room/log-reader.ts `messages`). */
	messages(query: MessagesQuery): MessagePage {
		return this.#reader.messages(query);
	}

	/** The entries after `since` up to `upTo` (a shard catching up), and whether some are gone. */
	/** Retention by age: entries stored before `cutoff` (ms) leave the log (src/room/message-log.ts). */
	dropOlderThan(cutoff: number): void {
		try {
			const dropped = this.log.dropOlderThan(cutoff);
			if (dropped > 0) logEvent("retention_dropped", { entries: dropped, upTo: this.log.agedOutUpTo });
		} catch (error) {
			logEvent("storage_failed", { during: "retention", error: String(error) });
		}
	}

	between(since: number, upTo: number): ReturnType<LogReader["between"]> {
		return this.#reader.between(since, upTo);
	}
}
