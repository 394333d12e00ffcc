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
 * `history` `after` pages. No welcome is unbounded, and no client is left with a gap it did not
 * have.
 */
import type { MessagePage, MessagesQuery } from "../wire/operator.ts";
import { HISTORY_PAGE_MAX, type HistoryEvent, type LogEntry } from "../wire/protocol.ts";
import type { Replay } from "../wire/rpc.ts";
import { COLUMNS, type Row, toEntry, toMessage } from "./log-table.ts";

/** A welcome's ask: resuming after `since` (or joining afresh), owed the log up to `upTo`. */
export interface ReplayRequest {
	readonly since: number | undefined;
	readonly upTo: number;
}

/** The room's log, for reading. */
export class LogReader {
	readonly #sql: SqlStorage;
	readonly #retention: number;
	readonly #replay: number;
	readonly #storedId: () => number;
	readonly #agedOutUpTo: () => number;

	/**
	 * Reads `sql`'s log, of which the newest `retention` entries are kept; a fresh join is replayed
	 * `replay` messages; `storedId` says the newest id committed.
	 */
	constructor(
		sql: SqlStorage,
		retention: number,
		replay: number,
		storedId: () => number,
		agedOutUpTo: () => number = () => 0,
	) {
		this.#sql = sql;
		this.#retention = retention;
		this.#replay = replay;
		this.#storedId = storedId;
		this.#agedOutUpTo = agedOutUpTo;
	}

	/** The newest id no longer retained when `latestId` was the newest: by count, or by age. */
	#floor(latestId: number): number {
		return Math.max(0, latestId - this.#retention, this.#agedOutUpTo());
	}

	/** The most entries a resuming welcome carries. */
	get resumeLimit(): number {
		return Math.max(this.#replay, HISTORY_PAGE_MAX);
	}

	/**
	 * What joining clients get, one `Replay` per request, from two queries however many there are
	 * (a reconnect storm brings hundreds of hellos in one burst). A client that resumes (its
	 * `since` is retained) gets the oldest `resumeLimit` entries after it, as written, and `more`
	 * if some remain up to `upTo`. One that joins afresh, or cannot resume (`since` no longer
	 * retained: a `gap`; newer than anything stored: the room's history was lost, a `gap` too),
	 * gets the newest `HISTORY_REPLAY` messages up to `upTo`, each as it stands now (edited,
	 * deleted, its reactions), so it needs no entry replayed. `upTo` is the newest id given when
	 * the client asked: what comes later reaches it live.
	 */
	replayAll(requests: readonly ReplayRequest[]): Replay[] {
		if (requests.length === 0) return [];
		const stored = this.#storedId();
		const windows = requests.map(({ since, upTo }) => {
			const latestId = Math.min(upTo, stored);
			// What was retained when it said hello (storage may briefly hold more).
			const floor = this.#floor(latestId);
			const gap = since !== undefined && (since > stored || since < floor);
			const resuming = since !== undefined && !gap;
			const to = resuming ? Math.min(latestId, since + this.resumeLimit) : latestId;
			return { since: resuming ? since : null, to, latestId, gap, more: to < latestId };
		});
		const resumes = windows.filter((window) => window.since !== null);
		const fresh = windows.filter((window) => window.since === null);
		// Loops, not Math.min(...spread): a reconnect storm may bring more welcomes than a call's arguments.
		let lowest = Number.POSITIVE_INFINITY;
		let highest = 0;
		for (const { since, to } of resumes) {
			lowest = Math.min(lowest, since as number);
			highest = Math.max(highest, to);
		}
		const entries = resumes.length > 0 ? this.#entries(lowest, highest) : [];
		let newestUpTo = 0;
		let oldestUpTo = Number.POSITIVE_INFINITY;
		for (const { latestId } of fresh) {
			newestUpTo = Math.max(newestUpTo, latestId);
			oldestUpTo = Math.min(oldestUpTo, latestId);
		}
		// Enough of the newest messages for every fresh welcome, whichever of the burst's ids it stops at.
		const recent = fresh.length > 0 ? this.#newestMessages(newestUpTo, this.#replay + newestUpTo - oldestUpTo) : [];
		return windows.map(({ since, to, latestId, gap, more }) => {
			if (since !== null) {
				return { messages: entries.slice(firstAfter(entries, since), firstAfter(entries, to)), gap, latestId, more };
			}
			const owed = recent.slice(0, firstAfter(recent, latestId));
			return { messages: owed.slice(Math.max(0, owed.length - this.#replay)), gap, latestId, more: false };
		});
	}

	/** The newest `count` messages up to `upTo`, as they stand now, oldest first. */
	#newestMessages(upTo: number, count: number): LogEntry[] {
		if (count === 0) return [];
		return this.#sql
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
	 * A page of history. `before`: the `limit` messages just before that id, as they stand now,
	 * oldest first, and whether older ones are retained. `after`: the `limit` entries just after
	 * that id, as written, whether newer ones exist, and whether some right after it are no longer
	 * retained (`gap`).
	 */
	page(request: { before: number | null; after: number | null; limit: number }): HistoryEvent {
		const { before, after, limit } = request;
		if (before !== null) {
			const rows = this.#sql
				.exec<Row>(
					`SELECT ${COLUMNS} FROM messages WHERE kind = 'message' AND id < ? ORDER BY id DESC LIMIT ?`,
					before,
					limit + 1,
				)
				.toArray();
			const more = rows.length > limit;
			return { type: "history", before, entries: rows.slice(0, limit).reverse().map(toEntry), more };
		}
		const from = after ?? 0;
		const stored = this.#storedId();
		const rows = this.#sql
			.exec<Row>(
				`SELECT ${COLUMNS} FROM messages WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`,
				from,
				stored,
				limit + 1,
			)
			.toArray();
		const gap = from < this.#floor(stored);
		return { type: "history", after: from, entries: rows.slice(0, limit).map(toEntry), more: rows.length > limit, gap };
	}

	/**
	 * Messages with `after` < id < `before`, as they stand now, oldest first (the HTTP API's
	 * export and scroll-back). With `after`, the page starts just after it and `more` says whether
	 * newer ones match; without, it is the newest that match and `more` says whether older ones do.
	 */
	messages({ before, after, limit }: MessagesQuery): MessagePage {
		const below = before ?? Number.MAX_SAFE_INTEGER;
		const forward = after !== null;
		const rows = this.#sql
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
	 * catches up with it), and whether some of them are no longer retained.
	 */
	between(since: number, upTo: number): { messages: LogEntry[]; gap: boolean } {
		const messages = this.#entries(since, upTo);
		const gap = since < upTo && (messages[0]?.id ?? Number.POSITIVE_INFINITY) > since + 1;
		return { messages, gap };
	}

	/** The entries after `since` up to `upTo`, oldest first. */
	#entries(since: number, upTo: number): LogEntry[] {
		return this.#sql
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
