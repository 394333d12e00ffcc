// @ts-check
/**
 * The messages a client has sent and the room has not confirmed yet, in the order sent, each
 * with the promise its `send` returned. This is the one place that decides what happens to a
 * message between `send` and the room's answer (PROTOCOL.md, "Errors"):
 *
 * - stored (its echo, or a welcome's history, carries its `clientId`): the promise resolves with
 *   the stored message, once, however many times it was sent;
 * - `server_error`: it may or may not be stored; it stays pending and is sent again, with the
 *   same `clientId` (the room stores it once);
 * - `rate_limited`: refused, unless the client asked for it to be retried after `retryAfterMs`;
 * - any other refusal (`text_too_long`, `bad_text`, `forbidden`, ...): the promise rejects with it.
 *
 * Everything still pending goes again, in order, after every welcome (a reconnect): what the
 * room had stored before the connection dropped is in that welcome's history and resolves first.
 */

/** @import { ChatMessage } from "../../src/wire/log-entries.ts"
 * @import { ErrorEvent } from "../../src/wire/protocol.ts" */

/** A refused send, or a command the room refused: the room's error code and its line for humans. */
export class ChatError extends Error {
	/**
	 * @param {ErrorEvent["code"] | "closed" | "not_connected"} code the room's error code; `closed`
	 *   when the chat was closed for good (by `close()`, a moderator or a refused token) before the
	 *   room answered; `not_connected` for a history page asked while not joined, or whose
	 *   connection dropped before the answer
	 * @param {string} message
	 * @param {{ clientId?: string, retryAfterMs?: number }} [detail]
	 */
	constructor(code, message, detail = {}) {
		super(message);
		this.name = "ChatError";
		/** @readonly */ this.code = code;
		/** @readonly */ this.clientId = detail.clientId;
		/** @readonly */ this.retryAfterMs = detail.retryAfterMs;
	}
}

/**
 * @typedef {object} Pending
 * @property {string} text
 * @property {number | undefined} replyTo
 * @property {Promise<ChatMessage>} promise
 * @property {(message: ChatMessage) => void} resolve
 * @property {(error: ChatError) => void} reject
 */

/** What the room's refusal of a pending send comes to: `retry` it later, or it was `rejected`. */
/** @typedef {{ outcome: "retry", afterMs: number } | { outcome: "rejected" }} Refusal */

/** How long a message the room could not store waits before it goes again, in ms. */
export const SERVER_ERROR_RETRY_MS = 2_000;

/** The unconfirmed sends of one client. */
export class Sends {
	/** @type {Map<string, Pending>} */ #pending = new Map();
	#retryRateLimited;

	/** @param {{ retryRateLimited: boolean }} options whether `rate_limited` keeps a send pending */
	constructor({ retryRateLimited }) {
		this.#retryRateLimited = retryRateLimited;
	}

	/**
	 * Adds a send; the same `clientId` again (a caller retrying) gets the first one's promise.
	 * @param {string} clientId
	 * @param {string} text
	 * @param {number} [replyTo]
	 * @returns {{ promise: Promise<ChatMessage>, fresh: boolean }}
	 */
	add(clientId, text, replyTo) {
		const existing = this.#pending.get(clientId);
		if (existing) return { promise: existing.promise, fresh: false };
		/** @type {(message: ChatMessage) => void} */ let resolve = () => {};
		/** @type {(error: ChatError) => void} */ let reject = () => {};
		/** @type {Promise<ChatMessage>} */
		const promise = new Promise((ok, fail) => {
			resolve = ok;
			reject = fail;
		});
		// A caller that never awaits its send must not crash Node with an unhandled rejection: the
		// rejection is marked handled here, and still reaches whoever awaits the promise.
		promise.catch(() => {});
		this.#pending.set(clientId, { text, replyTo, promise, resolve, reject });
		return { promise, fresh: true };
	}

	/**
	 * A stored message arrived (live or in a welcome's history): the send with its `clientId`,
	 * if any, resolves. Returns whether one did.
	 * @param {ChatMessage} message
	 */
	stored(message) {
		const pending = message.clientId === null ? undefined : this.#pending.get(message.clientId);
		if (!pending || message.clientId === null) return false;
		this.#pending.delete(message.clientId);
		pending.resolve(message);
		return true;
	}

	/**
	 * The room refused the send `error.clientId`: it stays pending for a retry, or rejects.
	 * `null` when no pending send has that id.
	 * @param {ErrorEvent & { clientId: string }} error
	 * @returns {Refusal | null}
	 */
	refused(error) {
		const pending = this.#pending.get(error.clientId);
		if (!pending) return null;
		if (error.code === "server_error") return { outcome: "retry", afterMs: SERVER_ERROR_RETRY_MS };
		if (error.code === "rate_limited" && this.#retryRateLimited) {
			return { outcome: "retry", afterMs: error.retryAfterMs ?? SERVER_ERROR_RETRY_MS };
		}
		this.#pending.delete(error.clientId);
		pending.reject(new ChatError(error.code, error.message, error));
		return { outcome: "rejected" };
	}

	/** Every pending send, oldest first: what goes (again) after a welcome. */
	*entries() {
		for (const [clientId, { text, replyTo }] of this.#pending) yield/** @type {const} */ ([clientId, text, replyTo]);
	}

	/** How many sends are pending. */
	get size() {
		return this.#pending.size;
	}

	/**
	 * The chat closed for good: every pending send rejects.
	 * @param {string} why
	 */
	rejectAll(why) {
		for (const [clientId, pending] of this.#pending) pending.reject(new ChatError("closed", why, { clientId }));
		this.#pending.clear();
	}
}
