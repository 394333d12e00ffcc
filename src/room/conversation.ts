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
import type { Config } from "../deployment/config.ts";
import { logEvent } from "../deployment/log-event.ts";
import {
	BURST_HISTORY_BYTES,
	CONNECTION_HISTORY_BYTES,
	HISTORY_BYTES,
	HISTORY_PER_SECOND,
	REPLY_EXCERPT_LENGTH,
} from "../wire/limits.ts";
import type { LogEntry, ReplyQuote } from "../wire/log-entries.ts";
import type { MessagePage, MessagesQuery } from "../wire/operator.ts";
import type { ErrorEvent, HistoryEvent } from "../wire/protocol.ts";
import type { Submission } from "../wire/rpc.ts";
import type { Answers, PageRequest, Staged } from "./burst.ts";
import { entryBytes, LogReader } from "./log-reader.ts";
import { senderKey } from "./log-table.ts";
import { type CommitOutcome, MessageLog } from "./message-log.ts";
import { Reactions } from "./reactions.ts";
import { Reads } from "./reads.ts";
import type { RoomStore } from "./room-store.ts";

/** The room's conversation. */
export class Conversation {
	/** The log's writer: moderation stages edits and deletes in it, the shards' links read its newest id. */
	readonly log: MessageLog;
	readonly #reader: LogReader;
	readonly #reactions: Reactions;
	readonly #reads: Reads;
	readonly #mentionedIn: (text: string) => string[];

	/** Opens the room's tables (src/room/room-store.ts); `mentionedIn` answers which present members a text mentions. */
	constructor(store: RoomStore, config: Config, mentionedIn: (text: string) => string[]) {
		this.log = new MessageLog(store, config.historyRetention);
		this.#reader = new LogReader(store, this.log, config.historyReplay);
		this.#reactions = new Reactions(store, this.log);
		this.#reads = new Reads(store);
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
		const known = this.log.known(senderKey(submission), clientId);
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

	/** Who reacted to a message with an emoji, a page of them (src/room/reactions.ts). Throws if storage cannot be read. */
	reactors(submission: Extract<Submission, { kind: "reactors" }>): Staged {
		return this.#reactions.reactors(submission);
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
	 * welcomes and history requests asked, after the commit, within the byte budgets of
	 * src/wire/limits.ts (`historyBudget`). A welcome of this burst is owed the log as it stood at
	 * its hello (`upTo`), so retention keeps that much. If the commit fails, nothing of the burst
	 * is stored; if history cannot be read, the newcomers are welcomed all the same, told it is
	 * missing (`gap`), and history requests get an empty last page. `alsoWrite`, when given,
	 * writes in the same transaction (the webhook events of the burst), which then happens even
	 * if the log has nothing new.
	 */
	commit(burst: readonly Staged[], alsoWrite: (() => void) | null = null): Answers {
		const welcomes: Extract<Staged, { kind: "welcome" }>[] = [];
		const requests: Extract<Staged, { kind: "history" }>[] = [];
		for (const item of burst) {
			if (item.kind === "welcome") welcomes.push(item);
			else if (item.kind === "history") requests.push(item);
		}
		let oldestWelcome = Number.POSITIVE_INFINITY;
		for (const { request } of welcomes) oldestWelcome = Math.min(oldestWelcome, request.upTo);
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
			const budget = historyBudget(welcomes.length + requests.length);
			const replays = this.#reader.replayAll(
				welcomes.map(({ request: { since, upTo } }) => ({ since, upTo, bytes: budget.share })),
			);
			for (const [index, { to }] of welcomes.entries()) budget.spend(to, replays[index]?.messages ?? []);
			return {
				stored,
				replays,
				pages: requests.map(({ to, request }) => {
					const bytes = budget.left(to);
					if (bytes <= 0) return deferred(request);
					const page = this.#reader.page(request, bytes);
					budget.spend(to, page.entries);
					return page;
				}),
				readUpTo: welcomes.map(({ request: { userId } }) => (userId === null ? null : this.#reads.upTo(userId))),
			};
		} catch (error) {
			logEvent("storage_failed", { during: "replay", items: welcomes.length + requests.length, error: String(error) });
			return {
				stored,
				replays: welcomes.map(({ request: { upTo } }) => ({ messages: [], gap: true, latestId: upTo, more: false })),
				pages: requests.map(({ request: { before, after } }) => ({
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

	/** Retention by age: entries stored before `cutoff` (ms) leave the log (src/room/message-log.ts). */
	dropOlderThan(cutoff: number): void {
		try {
			const dropped = this.log.dropOlderThan(cutoff);
			if (dropped > 0) logEvent("retention_dropped", { entries: dropped, upTo: this.log.agedOutUpTo });
		} catch (error) {
			logEvent("storage_failed", { during: "retention", error: String(error) });
		}
	}

	/** The entries after `since` up to `upTo` (a shard catching up), and whether some are gone. */
	between(since: number, upTo: number): ReturnType<LogReader["between"]> {
		return this.#reader.between(since, upTo);
	}
}

/**
 * How a burst's history answers share their byte budgets (src/wire/limits.ts): each gets an equal
 * share of `BURST_HISTORY_BYTES` (at most `HISTORY_BYTES`), and a connection's answers together stop
 * at `CONNECTION_HISTORY_BYTES`, counted as they are read: a reconnect storm's welcomes get smaller
 * histories (resumes page on), and a connection asking many pages at once gets the rest later.
 */
function historyBudget(answers: number) {
	const share = Math.min(HISTORY_BYTES, Math.floor(BURST_HISTORY_BYTES / Math.max(1, answers)));
	const used = new Map<string, number>();
	return {
		share,
		/** What connection `to`'s next answer may carry. */
		left: (to: string) => Math.min(share, CONNECTION_HISTORY_BYTES - (used.get(to) ?? 0)),
		/** Connection `to` was answered `entries`. */
		spend(to: string, entries: readonly LogEntry[]) {
			let bytes = used.get(to) ?? 0;
			for (const entry of entries) bytes += entryBytes(entry);
			used.set(to, bytes);
		},
	};
}

/** A page this burst has no budget left for: none now, ask again shortly (as over the pace of pages). */
function deferred({ before, after }: PageRequest): HistoryEvent {
	const asked = before === null ? { after: after ?? 0 } : { before };
	return { type: "history", ...asked, entries: [], more: true, retryAfterMs: Math.ceil(1000 / HISTORY_PER_SECOND) };
}
