// @ts-check
/**
 * A WebSocket that comes back by itself, the transport under the client library (./chat.js).
 * After an abnormal close (a dropped network, a server restart, 1006 from a reset: anything but
 * the final codes below) it reconnects with jittered exponential backoff, so a room full of
 * clients does not stampede a server that just came back. While open it sends the protocol's
 * heartbeat, which keeps idle connections alive through proxies without waking the room (the
 * runtime answers it). It knows nothing of the protocol's events: frames go up as text.
 *
 * Why not partysocket (the reconnecting socket PartyKit ships): what it adds over a plain
 * WebSocket is the reconnect timer and a queue of frames sent while closed. The queue cannot be
 * used here (edgechat.v1 needs `hello` first on every connection, and what to resend after a
 * reconnect depends on what the room confirmed, which ./sends.js decides), and the decisions
 * around the timer are the protocol's (close codes after which nobody reconnects, a refused
 * upgrade whose reason has to be asked for, an expired token), so it would be wrapped in as much
 * code as it replaces. It would also be the page's first dependency that must be bundled: the
 * page and this library are served as they are, with no build step.
 */

import {
	BANNED_CLOSE_CODE,
	KICKED_CLOSE_CODE,
	PING,
	PING_INTERVAL_MS,
	SUBPROTOCOL,
	TOKEN_SUBPROTOCOL_PREFIX,
} from "../contract.js";

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
 * so the same URL is fetched without the upgrade, the token (signed mode) as `Authorization:
 * Bearer`, as it is in no URL. In signed mode the answer to that is the refusal itself (401 for
 * the token, 403 for a ban or another room's token: `final`, retrying cannot help), or 429 (too
 * many connections from this address or for this user: try again, not before its
 * `Retry-After`); anything else means it was not a refusal (a network failure, a full room): try
 * again.
 * @param {string} url the socket's `ws:` or `wss:` URL
 * @param {string | undefined} token
 * @returns {Promise<{ code: number, reason: string, final: boolean, retryAfterMs: number } | null>}
 */
async function refusalOf(url, token) {
	try {
		const headers = token ? { Authorization: `Bearer ${token}` } : undefined;
		const response = await fetch(url.replace(/^ws/, "http"), { headers });
		if (response.status !== 401 && response.status !== 403 && response.status !== 429) return null;
		const retryAfterMs = Number(response.headers.get("Retry-After") ?? 0) * 1000 || 0;
		const reason = (await response.text()).trim();
		return { code: response.status, reason, final: response.status !== 429, retryAfterMs };
	} catch {
		return null;
	}
}

/**
 * The retry from which a connection that was open once asks why its attempts fail: the fourth,
 * after backoffs of about 0.4, 0.75, 1.5 and 3 s. A room that refuses it (a ban while it was
 * away) is heard about 6 s after the drop instead of at once.
 */
const ASK_AFTER_DROP = 4;

/** `WebSocket.readyState` once open (the same in every implementation; below it: connecting). */
const OPEN = 1;

/**
 * An edgechat.v1 WebSocket connection to one URL that reconnects after closes that are not final.
 * In signed mode it offers the token as a second subprotocol (`edgechat.token.<token>`, PROTOCOL.md
 * "The token"): the one place a browser lets a page put a credential on a WebSocket upgrade other
 * than the URL, which logs and proxies keep. The room answers `edgechat.v1` alone.
 */
export class Connection {
	/** @type {string} */ #url;
	/** @type {string | undefined} */ #token;
	/** @type {string[]} */ #protocols;
	/** @type {ConnectionEvents} */ #events;
	/** @type {typeof WebSocket} */ #WebSocket;
	/** @type {WebSocket | null} */ #socket = null;
	/** @type {ReturnType<typeof setTimeout> | undefined} */ #retryTimer;
	/** @type {ReturnType<typeof setInterval> | undefined} */ #heartbeat;
	#attempt = 0;
	/** Whether a socket of this connection has ever opened (then a failure is most likely the server going away). */
	#wasOpen = false;
	#stopped = false;

	/**
	 * @param {string} url `ws:` or `wss:` URL
	 * @param {ConnectionEvents} events
	 * @param {{ WebSocket?: typeof WebSocket, token?: string }} [options] the WebSocket to use (the
	 *   global one by default); signed mode: the token
	 */
	constructor(url, events, { WebSocket: WebSocketClass = globalThis.WebSocket, token } = {}) {
		// Node has a global WebSocket from version 22 on; before it, say so rather than fail later
		// with "is not a constructor".
		if (typeof WebSocketClass !== "function") {
			throw new TypeError(
				"edgechat/client needs a WebSocket: this runtime has none built in (Node has one from version 22). " +
					"Run it on Node 22 or newer, or pass one: connect({ ..., WebSocket }) with the `ws` package's.",
			);
		}
		this.#url = url;
		this.#events = events;
		this.#WebSocket = WebSocketClass;
		this.#token = token;
		this.#protocols = token ? [SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX + token] : [SUBPROTOCOL];
	}

	/** Opens the socket (or reopens it at once, skipping any pending wait). */
	connect() {
		clearTimeout(this.#retryTimer);
		this.#stopped = false;
		if (this.#socket && this.#socket.readyState <= OPEN) return;
		this.#events.onState("connecting", {});
		const socket = new this.#WebSocket(this.#url, this.#protocols);
		let opened = false;
		socket.addEventListener("open", () => {
			opened = true;
			this.#wasOpen = true;
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
			// Never opened: perhaps refused (a refusal is final: retrying cannot help). A first
			// connection asks at once. Once one was open, its failures are most likely the server
			// going away (a deploy drops every socket), and every client asking why while the server
			// restarts sends it a rush of requests the moment it is back, about as many as the
			// reconnections themselves (bench/README.md, "A room through a deploy"): it asks only
			// from its `ASK_AFTER_DROP`th retry on, about 6 s after the drop.
			const ask = !opened && (!this.#wasOpen || this.#attempt >= ASK_AFTER_DROP);
			const refusal = ask ? await refusalOf(this.#url, this.#token) : null;
			if (refusal?.final) {
				this.#stopped = true;
				this.#events.onState("closed", { code: refusal.code, reason: refusal.reason });
				return;
			}
			const retryInMs = Math.max(backoffDelay(this.#attempt++), refusal?.retryAfterMs ?? 0);
			this.#events.onState(
				"waiting",
				refusal ? { retryInMs, code: refusal.code, reason: refusal.reason } : { retryInMs, code: event.code },
			);
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
		if (!this.#socket || this.#socket.readyState !== OPEN) return false;
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
