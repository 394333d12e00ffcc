// @ts-check
/**
 * History for the client library: the pages a client asks for (`history`, PROTOCOL.md
 * "History"), each answered once, and catching up after a welcome that said `more`. While it
 * catches up, the room's live log events (all newer than the welcome's `latestId`) are held
 * here, and let go once the pages have reached that id, so listeners get every entry once and in
 * id order however far back the client resumed from.
 */

import { ChatError } from "./sends.js";

/**
 * @import { ClientEvent, HistoryEvent, SingleServerEvent } from "../../src/wire/protocol.ts"
 * @import { LogEntry } from "../../src/wire/log-entries.ts"
 */

/** The most entries the client asks for per page while catching up (the protocol's largest page). */
const CATCH_UP_PAGE = 100;

/** The log events a client holds while it catches up. */
const LOG_EVENTS = new Set(["message", "edit", "delete", "reactions"]);

/**
 * What a `history` event means for the client: entries of its catch-up to apply now (`apply`),
 * and, when the catch-up is done, the live events held meanwhile (`release`). A page answered
 * with `retryAfterMs` (over the room's pace for pages) is asked again after that long.
 * @typedef {{ apply: LogEntry[], release: SingleServerEvent[] }} Answered
 */

/** One client's history requests and catch-up. */
export class History {
	/** @type {(event: ClientEvent) => boolean} */ #send;
	/** Pages asked for and not answered yet, by what was asked (`before:ID`, `after:ID`). @type {Map<string, { resolve: (page: HistoryEvent) => void, reject: (error: ChatError) => void }[]>} */
	#pending = new Map();
	/** Pages to ask again once the room's pace allows. @type {Set<ReturnType<typeof setTimeout>>} */
	#retries = new Set();
	/** While catching up: the id to reach and the live events held meanwhile. @type {{ upTo: number, held: SingleServerEvent[] } | null} */
	#catchUp = null;

	/** @param {(event: ClientEvent) => boolean} send sends an event on the current connection */
	constructor(send) {
		this.#send = send;
	}

	/**
	 * Asks for a page; resolves with the room's answer, rejects with `not_connected` if it could
	 * not be asked (not joined) or the connection dropped before the answer.
	 * @param {{ before?: number, after?: number, limit?: number }} request
	 * @returns {Promise<HistoryEvent>}
	 */
	request(request) {
		const key = request.before !== undefined ? `before:${request.before}` : `after:${request.after ?? 0}`;
		return new Promise((resolve, reject) => {
			if (!this.#send({ type: "history", ...request })) {
				reject(new ChatError("not_connected", "not connected: ask again once joined"));
				return;
			}
			const waiting = this.#pending.get(key) ?? [];
			waiting.push({ resolve, reject });
			this.#pending.set(key, waiting);
		});
	}

	/** Whether live log events are being held until the catch-up reaches the welcome's `latestId`. */
	get catchingUp() {
		return this.#catchUp !== null;
	}

	/**
	 * A welcome said `more`: pages forward after `from` until `upTo` (its `latestId`).
	 * @param {number} from
	 * @param {number} upTo
	 */
	catchUp(from, upTo) {
		this.#catchUp = { upTo, held: [] };
		this.#send({ type: "history", after: from, limit: CATCH_UP_PAGE });
	}

	/**
	 * Holds a live event while catching up; returns whether it was held (only log events are).
	 * @param {SingleServerEvent} event
	 */
	hold(event) {
		if (!this.#catchUp || !LOG_EVENTS.has(event.type)) return false;
		this.#catchUp.held.push(event);
		return true;
	}

	/**
	 * A `history` event arrived: the page it answers resolves, and if it is the catch-up's, its
	 * entries up to the target are to be applied, the next page asked, or, at the end, the held
	 * events let go.
	 * @param {HistoryEvent} page
	 * @returns {Answered}
	 */
	answered(page) {
		if (page.retryAfterMs !== undefined) {
			// Over the room's pace for history pages: the same page, again, once it allows.
			const request = page.before !== undefined ? { before: page.before } : { after: page.after ?? 0 };
			const timer = setTimeout(() => {
				this.#retries.delete(timer);
				this.#send({ type: "history", ...request, limit: CATCH_UP_PAGE });
			}, page.retryAfterMs);
			this.#retries.add(timer);
			return { apply: [], release: [] };
		}
		const key = page.before !== undefined ? `before:${page.before}` : `after:${page.after ?? 0}`;
		const waiting = this.#pending.get(key);
		const next = waiting?.shift();
		if (waiting?.length === 0) this.#pending.delete(key);
		if (next) {
			next.resolve(page);
			return { apply: [], release: [] };
		}
		const catchUp = this.#catchUp;
		if (!catchUp || page.after === undefined) return { apply: [], release: [] };
		const apply = page.entries.filter((entry) => entry.id <= catchUp.upTo);
		const reached = apply.at(-1)?.id ?? page.after;
		if (reached < catchUp.upTo && page.more) {
			this.#send({ type: "history", after: reached, limit: CATCH_UP_PAGE });
			return { apply, release: [] };
		}
		this.#catchUp = null;
		return { apply, release: catchUp.held };
	}

	/** The connection dropped: pages still unanswered reject, and a catch-up starts over with the next welcome. */
	dropped() {
		for (const timer of this.#retries) clearTimeout(timer);
		this.#retries.clear();
		for (const waiting of this.#pending.values()) {
			for (const { reject } of waiting) reject(new ChatError("not_connected", "the connection dropped: ask again"));
		}
		this.#pending.clear();
		this.#catchUp = null;
	}
}
