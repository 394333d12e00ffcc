// @ts-check
/**
 * Who reacted, for the client library: a message's reactions list the first few names of each
 * emoji (within a byte budget, PROTOCOL.md "Reactions"), and the rest are asked for a page at a
 * time (`reactors`). Each request is answered once; one over the room's pace for such reads is
 * asked again after the wait the room gave.
 */

import { ChatError } from "./sends.js";

/**
 * @import { ClientEvent, ReactorsEvent } from "../../src/wire/protocol.ts"
 */

/** One client's `reactors` requests. */
export class Reactors {
	/** @type {(event: ClientEvent) => boolean} */ #send;
	/** Requests not answered yet, by what was asked. @type {Map<string, { resolve: (page: ReactorsEvent) => void, reject: (error: ChatError) => void }[]>} */
	#pending = new Map();
	/** Requests to ask again once the room's pace allows. @type {Set<ReturnType<typeof setTimeout>>} */
	#retries = new Set();

	/** @param {(event: ClientEvent) => boolean} send sends an event on the current connection */
	constructor(send) {
		this.#send = send;
	}

	/**
	 * Asks who reacted to message `id` with `emoji`, from `offset`; resolves with the room's
	 * answer, rejects with `not_connected` if it could not be asked or the connection dropped first.
	 * @param {number} id
	 * @param {string} emoji
	 * @param {number} offset
	 * @returns {Promise<ReactorsEvent>}
	 */
	request(id, emoji, offset) {
		return new Promise((resolve, reject) => {
			if (!this.#send({ type: "reactors", id, emoji, offset })) {
				reject(new ChatError("not_connected", "not connected: ask again once joined"));
				return;
			}
			const key = keyOf(id, emoji, offset);
			this.#pending.set(key, [...(this.#pending.get(key) ?? []), { resolve, reject }]);
		});
	}

	/**
	 * A `reactors` event arrived: the request it answers resolves, or, over the room's pace, is
	 * asked again after `retryAfterMs`.
	 * @param {ReactorsEvent} page
	 */
	answered(page) {
		const { id, emoji, offset } = page;
		if (page.retryAfterMs !== undefined) {
			const timer = setTimeout(() => {
				this.#retries.delete(timer);
				this.#send({ type: "reactors", id, emoji, offset });
			}, page.retryAfterMs);
			this.#retries.add(timer);
			return;
		}
		const key = keyOf(id, emoji, offset);
		const waiting = this.#pending.get(key);
		waiting?.shift()?.resolve(page);
		if (waiting?.length === 0) this.#pending.delete(key);
	}

	/** The connection dropped: requests still unanswered reject. */
	dropped() {
		for (const timer of this.#retries) clearTimeout(timer);
		this.#retries.clear();
		for (const waiting of this.#pending.values()) {
			for (const { reject } of waiting) reject(new ChatError("not_connected", "the connection dropped: ask again"));
		}
		this.#pending.clear();
	}
}

/**
 * @param {number} id
 * @param {string} emoji
 * @param {number} offset
 */
function keyOf(id, emoji, offset) {
	return `${id} ${emoji} ${offset}`;
}
