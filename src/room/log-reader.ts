/**
 * Reading the room's log (the table of src/room/log-table.ts; src/room/message-log.ts writes
 * it): the history a welcome carries, pages of history a client asks for, and the entries a
 * shard that missed a push fetches. Only what is committed is read: the room commits the burst
 * before it answers any of these.
 *
 * How much a welcome carries, and how a client catches up from far back (PROTOCOL.md,
 * "History"): a fresh join gets the newest `HISTORY_REPLAY` messages as they stand now; a resume
 * gets the oldest entries after its `since`, at most the larger of `HISTORY_REPLAY` and
 * `HISTORY_PAGE_MAX`, with `more` when there are more up to its `latestId`, which it fetches with
 * `history` `after` pages. Every answer also stops at its byte budget (src/wire/limits.ts
 * `HISTORY_BYTES`, or less when a burst answers many), carrying at least one entry. No welcome is
 * unbounded, and no client is left with a gap it did not have.
 */
import { utf8Length } from "../hub/text.ts";
import { CALL_BYTES, HISTORY_BYTES, HISTORY_PAGE_MAX } from "../wire/limits.ts";
import type { LogEntry } from "../wire/log-entries.ts";
import type { MessagePage, MessagesQuery } from "../wire/operator.ts";
import type { HistoryEvent } from "../wire/protocol.ts";
import type { Replay } from "../wire/rpc.ts";
import type { PageRequest } from "./burst.ts";
import { COLUMNS, type Row, toEntry, toMessage } from "./log-table.ts";
import type { MessageLog } from "./message-log.ts";
import type { RoomStore } from "./room-store.ts";

/**
 * A welcome's ask: resuming after `since` (or joining afresh), owed the log up to `upTo`, in at
 * most `bytes` (`HISTORY_BYTES` unless the burst has less to give).
 */
export interface ReplayRequest {
	readonly since: number | undefined;
	readonly upTo: number;
	readonly bytes?: number;
}

/** The bytes each entry read is sent as (entries a burst's fresh welcomes share are measured once). */
const sizes = new WeakMap<LogEntry, number>();

/** The bytes `entry` takes on the wire: its JSON, in UTF-8. */
export function entryBytes(entry: LogEntry): number {
	let size = sizes.get(entry);
	if (size === undefined) {
		size = utf8Length(JSON.stringify(entry));
		sizes.set(entry, size);
	}
	return size;
}

/**
 * How many of `entries`, taken in order, fit in `bytes` (at least one, when there is one), and
 * the bytes they take; `fromEnd`: taken from the last backwards.
 */
export function fitting(
	entries: readonly LogEntry[],
	bytes: number,
	{ fromEnd = false }: { fromEnd?: boolean } = {},
): { count: number; bytes: number } {
	let used = 0;
	let count = 0;
	for (; count < entries.length; count++) {
		const entry = entries[fromEnd ? entries.length - 1 - count : count] as LogEntry;
		const size = entryBytes(entry);
		if (count > 0 && used + size > bytes) break;
		used += size;
	}
	return { count, bytes: used };
}

/** The room's log, for reading. */
export class LogReader {
	readonly #store: RoomStore;
	readonly #log: MessageLog;
	readonly #replay: number;

	/** Reads `log`'s table in `store`; a fresh join is replayed `replay` messages. */
	constructor(store: RoomStore, log: MessageLog, replay: number) {
		this.#store = store;
		this.#log = log;
		this.#replay = replay;
	}

	/** The most entries a resuming welcome carries. */
	get resumeLimit(): number {
		return Math.max(this.#replay, HISTORY_PAGE_MAX);
	}

	/**
	 * What joining clients get, one `Replay` per request. A client that resumes (its `since` is
	 * retained) gets the oldest entries after it, at most `resumeLimit` and its `bytes`, as
	 * written, and `more` if some remain up to `upTo`. One that joins afresh, or cannot resume
	 * (`since` no longer retained: a `gap`; newer than anything stored: the room's history was
	 * lost, a `gap` too), gets the newest `HISTORY_REPLAY` messages up to `upTo` that fit its
	 * `bytes`, each as it stands now (edited, deleted, its reactions), so it needs no entry
	 * replayed. `upTo` is the newest id given when the client asked: what comes later reaches it live.
	 *
	 * A reconnect storm brings hundreds of hellos in one burst, so they are read together: every
	 * fresh join from one query, and the resumes from one query per run of overlapping windows (a
	 * storm's clients resume from about the same place). Each window is read with its own limit:
	 * two hellos far apart read their two windows, never everything between them.
	 */
	replayAll(requests: readonly ReplayRequest[]): Replay[] {
		if (requests.length === 0) return [];
		const stored = this.#log.storedId;
		const floor = this.#log.floor;
		const windows = requests.map(({ since, upTo, bytes = HISTORY_BYTES }) => {
			const latestId = Math.min(upTo, stored);
			const gap = since !== undefined && (since > stored || since < floor);
			const resuming = since !== undefined && !gap;
			const to = resuming ? Math.min(latestId, since + this.resumeLimit) : latestId;
			return { since: resuming ? since : null, to, latestId, gap, bytes };
		});
		const resumed = this.#readResumes(windows);
		let newestUpTo = 0;
		let oldestUpTo = Number.POSITIVE_INFINITY;
		for (const { since, latestId } of windows) {
			if (since !== null) continue;
			newestUpTo = Math.max(newestUpTo, latestId);
			oldestUpTo = Math.min(oldestUpTo, latestId);
		}
		// Enough of the newest messages for every fresh welcome, whichever of the burst's ids it stops at.
		const recent = newestUpTo > 0 ? this.#newestMessages(newestUpTo, this.#replay + newestUpTo - oldestUpTo) : [];
		return windows.map(({ since, to, latestId, gap, bytes }, index) => {
			if (since !== null) {
				const entries = resumed.get(index) as LogEntry[];
				const { count } = fitting(entries, bytes);
				return { messages: entries.slice(0, count), gap, latestId, more: count < entries.length || to < latestId };
			}
			const owed = recent.slice(0, firstAfter(recent, latestId));
			const newest = owed.slice(Math.max(0, owed.length - this.#replay));
			const { count } = fitting(newest, bytes, { fromEnd: true });
			return { messages: newest.slice(newest.length - count), gap, latestId, more: false };
		});
	}

	/** Each resuming window's entries (by its index), read by runs of overlapping windows. */
	#readResumes(windows: readonly { since: number | null; to: number }[]): Map<number, LogEntry[]> {
		const resumes = windows
			.map((window, index) => ({ since: window.since as number, to: window.to, index }))
			.filter((_, index) => windows[index]?.since !== null)
			.sort((a, b) => a.since - b.since);
		const read = new Map<number, LogEntry[]>();
		for (let start = 0; start < resumes.length; ) {
			// A run: windows that overlap the one before, so one query reads them all.
			let end = start + 1;
			let to = (resumes[start] as (typeof resumes)[number]).to;
			while (end < resumes.length && (resumes[end] as (typeof resumes)[number]).since <= to) {
				to = Math.max(to, (resumes[end] as (typeof resumes)[number]).to);
				end++;
			}
			const entries = this.#entries((resumes[start] as (typeof resumes)[number]).since, to);
			for (const { since, to: upTo, index } of resumes.slice(start, end)) {
				read.set(index, entries.slice(firstAfter(entries, since), firstAfter(entries, upTo)));
			}
			start = end;
		}
		return read;
	}

	/** The newest `count` messages up to `upTo`, as they stand now, oldest first. */
	#newestMessages(upTo: number, count: number): LogEntry[] {
		if (count === 0 || !this.#store.kept) return [];
		return this.#store.sql
			.exec<Row>(
				`SELECT ${COLUMNS} FROM messages WHERE kind = 'message' AND id <= ? ORDER BY id DESC LIMIT ?`,
				upTo,
				count,
			)
			.toArray()
			.reverse()
			.map(toEntry);
	}

	/**
	 * A page of history, of at most `limit` entries and `bytes` bytes (at least one entry). `before`:
	 * the messages just before that id, as they stand now, oldest first, and whether older ones
	 * are retained. `after`: the entries just after that id, as written, whether newer ones exist,
	 * and whether some right after it are no longer retained (`gap`).
	 */
	page({ before, after, limit }: PageRequest, bytes = HISTORY_BYTES): HistoryEvent {
		const kept = this.#store.kept;
		if (before !== null) {
			const rows = kept
				? this.#store.sql
						.exec<Row>(
							`SELECT ${COLUMNS} FROM messages WHERE kind = 'message' AND id < ? ORDER BY id DESC LIMIT ?`,
							before,
							limit + 1,
						)
						.toArray()
				: [];
			const newestFirst = rows.slice(0, limit).map(toEntry);
			const { count } = fitting(newestFirst, bytes);
			const entries = newestFirst.slice(0, count).reverse();
			return { type: "history", before, entries, more: rows.length > count };
		}
		const from = after ?? 0;
		const stored = this.#log.storedId;
		const rows = kept
			? this.#store.sql
					.exec<Row>(
						`SELECT ${COLUMNS} FROM messages WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`,
						from,
						stored,
						limit + 1,
					)
					.toArray()
			: [];
		const read = rows.slice(0, limit).map(toEntry);
		const { count } = fitting(read, bytes);
		const gap = from < this.#log.floor;
		return { type: "history", after: from, entries: read.slice(0, count), more: rows.length > count, gap };
	}

	/**
	 * Messages with `after` < id < `before`, as they stand now, oldest first (the HTTP API's
	 * export and scroll-back). With `after`, the page starts just after it and `more` says whether
	 * newer ones match; without, it is the newest that match and `more` says whether older ones do.
	 */
	messages({ before, after, limit }: MessagesQuery): MessagePage {
		if (!this.#store.kept) return { messages: [], more: false };
		const below = before ?? Number.MAX_SAFE_INTEGER;
		const forward = after !== null;
		const rows = this.#store.sql
			.exec<Row>(
				`SELECT ${COLUMNS} FROM messages WHERE kind = 'message' AND id > ? AND id < ? ORDER BY id ${forward ? "ASC" : "DESC"} LIMIT ?`,
				after ?? 0,
				below,
				limit + 1,
			)
			.toArray();
		const page = rows.slice(0, limit);
		if (!forward) page.reverse();
		return { messages: page.map(toMessage), more: rows.length > limit };
	}

	/**
	 * Every retained entry after `since` up to `upTo`, oldest first (a shard that missed a push
	 * catches up with it), and whether some of them are no longer retained. What does not fit in
	 * one call (`CALL_BYTES`) is not sent: the answer is a gap, and the shard's clients resume on
	 * their own (each welcome within its own budget).
	 */
	between(since: number, upTo: number): { messages: LogEntry[]; gap: boolean } {
		const entries = this.#entries(since, upTo);
		const { count } = fitting(entries, CALL_BYTES);
		if (count < entries.length) return { messages: [], gap: true };
		return { messages: entries, gap: since < upTo && since < this.#log.floor };
	}

	/** The entries after `since` up to `upTo`, oldest first. */
	#entries(since: number, upTo: number): LogEntry[] {
		if (!this.#store.kept || upTo <= since) return [];
		return this.#store.sql
			.exec<Row>(`SELECT ${COLUMNS} FROM messages WHERE id > ? AND id <= ? ORDER BY id`, since, upTo)
			.toArray()
			.map(toEntry);
	}
}

/** Index of the first entry with an id above `id` (entries sorted by id). */
function firstAfter(entries: readonly LogEntry[], id: number): number {
	let low = 0;
	let high = entries.length;
	while (low < high) {
		const middle = (low + high) >>> 1;
		if ((entries[middle] as LogEntry).id <= id) low = middle + 1;
		else high = middle;
	}
	return low;
}
