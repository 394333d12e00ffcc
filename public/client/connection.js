// @ts-check
/**
 * A WebSocket that comes back by itself. After an abnormal close (a dropped network, a server
 * restart, 1006 from a reset: anything but the final codes below) it reconnects with jittered
 * exponential backoff,
 * so a room full of pages does not stampede a server that just came back. While open it sends
 * the protocol's heartbeat, which keeps idle connections alive through proxies without waking
 * the room (the runtime answers it).
 */

import { BANNED_CLOSE_CODE, KICKED_CLOSE_CODE, PING, PING_INTERVAL_MS, SUBPROTOCOL } from "./contract.js";

/** @typedef {"connecting" | "open" | "waiting" | "closed"} ConnectionState */

/**
 * @typedef {object} ConnectionEvents
 * @property {() => void} onOpen the socket is open (again): say hello
 * @property {(data: string) => void} onMessage a text frame arrived
 * @property {(state: ConnectionState, detail: { retryInMs?: number, code?: number, reason?: string }) => void} onState
 *   the connection changed state; `retryInMs` is set while waiting to reconnect, `code` and
 *   `reason` after a close
 */

/**
 * Closes after which nobody reconnects by itself: a normal close (1000), and a moderator's kick
 * or ban (signed mode), which reconnecting would only undo or run into a refusal.
 */
export const FINAL_CLOSE_CODES = new Set([1000, KICKED_CLOSE_CODE, BANNED_CLOSE_CODE]);

/** First retry waits about this long (ms); each failure doubles it. */
const BASE_DELAY_MS = 500;
/** Retries never wait longer than this (ms). */
const MAX_DELAY_MS = 30_000;

/**
 * The wait before reconnect attempt number `attempt` (0 for the first): "equal jitter", half
 * fixed and half random, so retries spread out but never fire at once.
 * @param {number} attempt
 * @param {() => number} [random]
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, random = Math.random) {
	const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
	return ceiling / 2 + (random() * ceiling) / 2;
}

/**
 * Asks the server why an upgrade failed: a browser never sees the status of a refused WebSocket,
 * so the same URL is fetched without the upgrade. In signed mode the answer to that is the
 * refusal itself (401 for the token, 403 for a ban or another room's token, PROTOCOL.md);
 * anything else means it was not a refusal (a network failure, a full room): try again.
 * @param {string} url the socket's `ws:` or `wss:` URL
 * @returns {Promise<{ code: number, reason: string } | null>}
 */
async function refusalOf(url) {
	try {
		const response = await fetch(url.replace(/^ws/, "http"));
		if (response.status !== 401 && response.status !== 403) return null;
		return { code: response.status, reason: (await response.text()).trim() };
	} catch {
		return null;
	}
}

/** An edgechat.v1 WebSocket connection to one URL that reconnects after closes that are not final. */
export class Connection {
	/** @type {string} */ #url;
	/** @type {ConnectionEvents} */ #events;
	/** @type {WebSocket | null} */ #socket = null;
	/** @type {ReturnType<typeof setTimeout> | undefined} */ #retryTimer;
	/** @type {ReturnType<typeof setInterval> | undefined} */ #heartbeat;
	#attempt = 0;
	#stopped = false;

	/**
	 * @param {string} url `ws:` or `wss:` URL
	 * @param {ConnectionEvents} events
	 */
	constructor(url, events) {
		this.#url = url;
		this.#events = events;
	}

	/** Opens the socket (or reopens it at once, skipping any pending wait). */
	connect() {
		clearTimeout(this.#retryTimer);
		this.#stopped = false;
		if (this.#socket && this.#socket.readyState <= WebSocket.OPEN) return;
		this.#events.onState("connecting", {});
		const socket = new WebSocket(this.#url, [SUBPROTOCOL]);
		let opened = false;
		socket.addEventListener("open", () => {
			opened = true;
			this.#attempt = 0;
			this.#heartbeat = setInterval(() => this.send(PING), PING_INTERVAL_MS);
			this.#events.onState("open", {});
			this.#events.onOpen();
		});
		socket.addEventListener("message", (event) => {
			if (typeof event.data === "string") this.#events.onMessage(event.data);
		});
		socket.addEventListener("close", async (event) => {
			clearInterval(this.#heartbeat);
			if (this.#socket !== socket) return;
			this.#socket = null;
			if (this.#stopped || FINAL_CLOSE_CODES.has(event.code)) {
				this.#events.onState("closed", { code: event.code, reason: event.reason });
				return;
			}
			// Never opened: perhaps refused (signed mode). A refusal is final: retrying cannot help.
			const refusal = opened ? null : await refusalOf(this.#url);
			if (refusal) {
				this.#stopped = true;
				this.#events.onState("closed", refusal);
				return;
			}
			const retryInMs = backoffDelay(this.#attempt++);
			this.#events.onState("waiting", { retryInMs, code: event.code });
			// The listener may have closed for good meanwhile (an expired token): then no retry.
			if (!this.#stopped) this.#retryTimer = setTimeout(() => this.connect(), retryInMs);
		});
		this.#socket = socket;
	}

	/**
	 * Sends a frame if the socket is open.
	 * @param {string} data
	 * @returns {boolean} whether it was sent
	 */
	send(data) {
		if (!this.#socket || this.#socket.readyState !== WebSocket.OPEN) return false;
		this.#socket.send(data);
		return true;
	}

	/** Closes and opens a fresh connection at once (for example to join under another name). */
	restart() {
		const old = this.#socket;
		this.#socket = null;
		clearInterval(this.#heartbeat);
		old?.close(1000, "rejoining");
		this.connect();
	}

	/** Closes for good (1000); no reconnect follows. */
	close() {
		this.#stopped = true;
		clearTimeout(this.#retryTimer);
		this.#socket?.close(1000, "bye");
	}
}
