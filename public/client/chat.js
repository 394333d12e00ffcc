// @ts-check
/**
 * One client of one room over edgechat.v1 (PROTOCOL.md): everything a client must get right,
 * written once, for the chat page, the terminal client and anyone's bot or app.
 *
 * Read as a story: the socket opens (./connection.js) and the client says `hello`, with `since`
 * set to the highest log id it has seen once it has been welcomed before; the welcome brings the
 * room and what was missed; every pending send goes (again) with its `clientId` (./sends.js);
 * events that follow are handed to listeners once each, in order; when the socket drops, it comes
 * back by itself with jittered backoff, unless the close was final (1000, a moderator's kick or
 * ban, a refused upgrade, an expired token).
 */

import { eventOfEntry, TYPING_INTERVAL_MS } from "../contract.js";
import { isExpired, readClaims } from "./claims.js";
import { Connection } from "./connection.js";
import { History } from "./history.js";
import { Pacer } from "./pacer.js";
import { Reactors } from "./reactors.js";
import { ChatError, Sends } from "./sends.js";

/**
 * @import { ChatMessage, LogEntry } from "../../src/wire/log-entries.ts"
 * @import { ClientEvent, DeleteNotice, EditNotice, ErrorEvent, HistoryEvent, MessageEvent, ReactionsNotice, ReactorsEvent, RemovedEvent, Role, ServerEvent, SingleServerEvent, WelcomeEvent } from "../../src/wire/protocol.ts"
 * @import { JoinEvent, LeaveEvent, PresenceEvent } from "../../src/wire/presence.ts"
 * @import { RoomSettings, SettingsCommand, SettingsEvent } from "../../src/wire/settings.ts"
 * @import { ConnectionState } from "./connection.js"
 */

/**
 * @typedef {object} ConnectOptions
 * @property {string} url the server, as `http(s)://host[:port]` (or `ws(s)://`)
 * @property {string} room the room's name (1 to 64 of `A-Z a-z 0-9 _ -`)
 * @property {string} [name] open mode: the name to join under; without one the socket opens once
 *   `join(name)` gives one
 * @property {string} [token] signed mode: the token your backend signed (the name is its); it goes
 *   in no URL: the socket offers it as a subprotocol, asking why as `Authorization: Bearer`
 * @property {boolean} [signedIn] the server knows who this is without a name or a token: the page's
 *   session cookie (a passkey account), Cloudflare Access, or a read-only guest; the socket opens
 *   at once and the welcome says the name
 * @property {boolean} [retryRateLimited] keep a send refused as `rate_limited` pending and send
 *   it again after `retryAfterMs`, in order (the page does); by default such a send rejects
 * @property {typeof WebSocket} [WebSocket] the WebSocket to use (the global one by default)
 */

/**
 * Where the connection stands: `connecting`; `open` (socket open, `joined` once welcomed);
 * `waiting` (dropped, retrying in `retryInMs`); `closed` for good, with the close `code` and
 * `reason` (a refused upgrade gives its HTTP status, 401 or 403, and an expired token 401).
 * @typedef {{ state: ConnectionState, retryInMs?: number, code?: number, reason?: string }} StateChange
 */

/**
 * What listeners hear, by event name:
 * - `welcome`: joined (again): the welcome itself, whether it `resumed` an earlier connection,
 *   and `reset` when the room holds fewer messages than were seen (its storage was reset: start
 *   over from its history);
 * - `message`, `edit`, `delete`, `reactions`: a log entry, each once, in id order (after a
 *   welcome that said `more`, the entries it did not carry come first, fetched page by page);
 * - `join`, `leave`, and `members` (the names listed and the count, after any of them); in a room
 *   past the server's `PRESENCE_LIMIT`, `presence` instead of `join` and `leave`: who came and went
 *   in the last second and how many are present (PROTOCOL.md, "Presence"), then `members`;
 * - `typing`, `removed` (a moderator kicked or banned someone);
 * - `settings`: the room's settings changed (slow mode, who may post, retention);
 * - `error`: a refusal not tied to a send (those reject the send's promise instead);
 * - `waiting`: what you asked faster than the room's allowance waits for it (`frames`, the
 *   `clientIds` of the sends among them, and `nextInMs`), and again as it goes (`frames: 0`
 *   when nothing waits): the library paces itself by the allowance the welcome says, so the
 *   room never refuses or closes it for flooding;
 * - `state`: the connection's state changed.
 * @typedef {object} ChatEvents
 * @property {{ welcome: WelcomeEvent, resumed: boolean, reset: boolean }} welcome
 * @property {MessageEvent} message
 * @property {EditNotice} edit
 * @property {DeleteNotice} delete
 * @property {ReactionsNotice} reactions
 * @property {JoinEvent} join
 * @property {LeaveEvent} leave
 * @property {PresenceEvent} presence
 * @property {{ names: string[], count: number }} members
 * @property {{ type: "typing", name: string }} typing
 * @property {RemovedEvent} removed
 * @property {SettingsEvent} settings
 * @property {ErrorEvent} error
 * @property {{ frames: number, clientIds: string[], nextInMs: number }} waiting
 * @property {StateChange} state
 */

/** Slack after the typing interval, for the network's jitter between two notices. */
const TYPING_MARGIN_MS = 200;

/** A fresh `clientId`: random, URL-safe, and available outside secure contexts too. */
export function newClientId() {
	return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The socket URL of `room` on the server at `url`. It never carries a token: logs keep URLs, so
 * a signed-mode connection offers its token as a subprotocol instead (./connection.js).
 * @param {string} url
 * @param {string} room
 */
export function socketUrl(url, room) {
	const socket = new URL(`/api/rooms/${encodeURIComponent(room)}/websocket`, url);
	socket.protocol = socket.protocol.replace(/^http/, "ws");
	return socket.href;
}

/**
 * A `send` event, with `replyTo` only when there is one.
 * @param {string} clientId
 * @param {string} text
 * @param {number | undefined} replyTo
 * @returns {ClientEvent}
 */
function sendEvent(clientId, text, replyTo) {
	return replyTo === undefined ? { type: "send", clientId, text } : { type: "send", clientId, text, replyTo };
}

/** A client of one room. Create it with `connect()`. */
export class Chat {
	/** @type {Connection} */ #connection;
	/** @type {{ [K in keyof ChatEvents]?: Set<(event: ChatEvents[K]) => void> }} */ #listeners = {};
	/** @type {string | undefined} */ #token;
	#signedIn = false;
	#name = "";
	/** @type {ConnectionState} */ #state = "connecting";
	/** Closed for good: nothing reconnects, sends reject. */
	#final = false;
	/** Open mode: asked to open before it had a name, so it opens on `join(name)`. */
	#openOnJoin = false;
	/** Welcomed on the current socket. */
	#joined = false;
	/** Welcomed on any socket before: from then on, every hello resumes with `since`. */
	#welcomedBefore = false;
	/** The highest log id handed to listeners: what to resume from, and what not to hand again. */
	#highestId = 0;
	/** @type {string | null} */ #userId = null;
	/** @type {Role | null} */ #role = null;
	#messageCap = Number.POSITIVE_INFINITY;
	/** The room's settings, from the welcome and every `settings` event since. @type {RoomSettings | null} */
	#settings = null;
	/** @type {Set<string>} */ #members = new Set();
	#memberCount = 0;
	/** @type {Sends} */ #sends;
	/** Frames that cost the room's allowance wait here for it, instead of being refused. */
	#pacer = new Pacer(
		(frame) => this.#connection.send(frame),
		() => this.#emit("waiting", this.#pacer.waitingFor),
	);
	/** @type {History} */ #history = new History((event) => this.#joined && this.#send(event));
	/** @type {Reactors} */ #reactors = new Reactors((event) => this.#joined && this.#send(event));
	/** @type {ReturnType<typeof setTimeout> | undefined} */ #resendTimer;
	#lastTypingSent = 0;
	/** @type {ReturnType<typeof setTimeout> | undefined} */ #typingLater;

	/** @param {ConnectOptions} options */
	constructor(options) {
		this.#token = options.token;
		this.#signedIn = options.signedIn ?? false;
		this.#name = options.token ? (readClaims(options.token).name ?? "") : (options.name ?? "");
		this.#sends = new Sends({ retryRateLimited: options.retryRateLimited ?? false });
		this.#connection = new Connection(
			socketUrl(options.url, options.room),
			{
				onOpen: () => this.#onOpen(),
				onMessage: (data) => this.#onFrame(data),
				onState: (state, detail) => this.#onState(state, detail),
			},
			{ WebSocket: options.WebSocket, token: options.token },
		);
	}

	/**
	 * Opens the connection (`connect()` does). Called again it skips the wait of a pending retry,
	 * and after a final close it opens anew (a kicked user coming back), resuming where it was. In
	 * open mode without a name it opens once `join(name)` gives one: a socket must say hello at
	 * once (the room closes one that has not within 10 s, PROTOCOL.md "Closing").
	 */
	open() {
		if (this.#tokenExpired()) return;
		this.#final = false;
		this.#openOnJoin = !this.#name && !this.#token && !this.#signedIn;
		if (!this.#openOnJoin) this.#connection.connect();
	}

	// -- listening ---------------------------------------------------------------------------------

	/**
	 * Calls `listener` for every event of `type`; returns the function that stops it.
	 * @template {keyof ChatEvents} K
	 * @param {K} type
	 * @param {(event: ChatEvents[K]) => void} listener
	 * @returns {() => void}
	 */
	on(type, listener) {
		const listeners = /** @type {Set<(event: ChatEvents[K]) => void>} */ (this.#listeners[type] ?? new Set());
		this.#listeners[type] = /** @type {never} */ (listeners);
		listeners.add(listener);
		return () => listeners.delete(listener);
	}

	/**
	 * @template {keyof ChatEvents} K
	 * @param {K} type
	 * @param {ChatEvents[K]} event
	 */
	#emit(type, event) {
		for (const listener of this.#listeners[type] ?? []) listener(event);
	}

	// -- what the client knows -----------------------------------------------------------------

	/** The connection's state. */
	get state() {
		return this.#state;
	}

	/** Whether the room has welcomed this connection (sends go out at once). */
	get joined() {
		return this.#joined;
	}

	/** The name shown (the room's normalised one once welcomed; signed mode: the token's). */
	get name() {
		return this.#name;
	}

	/** Signed mode: the user id and role the room knows this client by (`null` in open mode). */
	get userId() {
		return this.#userId;
	}

	get role() {
		return this.#role;
	}

	/** The longest text the room takes, in code points (infinity until welcomed). */
	get messageCap() {
		return this.#messageCap;
	}

	/**
	 * The room's message allowance, as its welcome said (`null` before it, or when the room has
	 * no flood control): sends and commands past it wait their turn here (`waiting` events).
	 */
	get allowance() {
		return this.#pacer.limit;
	}

	/** The room's settings as last heard (`null` before the first welcome). */
	get settings() {
		return this.#settings;
	}

	/**
	 * Whether this client may post now, as the room's settings say: `false` for a member in an
	 * announcement room (`postingRole: "moderators"`) or with a read-only token.
	 */
	get mayPost() {
		if (this.#role === "readonly") return false;
		return this.#settings?.postingRole !== "moderators" || this.#role === "moderator";
	}

	/** The names listed (all of them, or in a big room the first 100 to arrive), sorted. */
	get members() {
		return [...this.#members].sort();
	}

	/** How many names are present. */
	get memberCount() {
		return Math.max(this.#memberCount, this.#members.size);
	}

	/** The highest log id seen: a reconnect resumes after it. */
	get highestId() {
		return this.#highestId;
	}

	/** How many sends wait for the room's confirmation. */
	get pendingCount() {
		return this.#sends.size;
	}

	// -- doing -----------------------------------------------------------------------------------

	/**
	 * Sends a chat message. Resolves with the message as the room stored it (its id), once, even
	 * if it had to go again after a reconnect; rejects with a `ChatError` carrying the room's code
	 * (`text_too_long`, `rate_limited`, ...). Sent while not joined, it waits and goes on return.
	 * @param {string} text
	 * @param {{ clientId?: string, replyTo?: number }} [options] your own id for it (to match it
	 *   before it is stored); the id of the message it answers
	 * @returns {Promise<ChatMessage>}
	 */
	send(text, { clientId = newClientId(), replyTo } = {}) {
		if (this.#final) return Promise.reject(new ChatError("closed", "this chat is closed", { clientId }));
		const { promise, fresh } = this.#sends.add(clientId, text, replyTo);
		if (fresh && this.#joined) this.#spend(sendEvent(clientId, text, replyTo));
		return promise;
	}

	/**
	 * A page of history (PROTOCOL.md, "History"): `before` an id for scroll-back (messages as they
	 * stand now), `after` one for what followed it. Rejects with `not_connected` when not joined.
	 * @param {{ before: number, limit?: number } | { after: number, limit?: number }} request
	 * @returns {Promise<HistoryEvent>}
	 */
	history(request) {
		return this.#history.request(request);
	}

	/**
	 * Adds (`on`) or takes back your reaction `emoji` to message `id`; returns whether it went.
	 * Everyone, you included, then gets a `reactions` event; a refusal comes as an `error`.
	 * @param {number} id
	 * @param {string} emoji
	 * @param {boolean} on
	 */
	react(id, emoji, on) {
		return this.#command({ type: "react", id, emoji, on });
	}

	/**
	 * Who reacted to message `id` with `emoji`, a page of 100 from `offset` (PROTOCOL.md,
	 * "Reactions"): a message's reactions list the first few names only. Rejects with
	 * `not_connected` when not joined.
	 * @param {number} id
	 * @param {string} emoji
	 * @param {number} [offset]
	 * @returns {Promise<ReactorsEvent>}
	 */
	reactors(id, emoji, offset = 0) {
		return this.#reactors.request(id, emoji, offset);
	}

	/**
	 * Signed mode: tells the room this user has read up to log id `id` (its other devices are
	 * welcomed with it). Returns whether it went.
	 * @param {number} id
	 */
	read(id) {
		return this.#command({ type: "read", id });
	}

	/**
	 * Says "I am typing" (call it on every keystroke): it goes at most once per interval, as the
	 * room passes it on; a keystroke inside the interval is announced when the interval ends,
	 * unless `stopTyping` came first.
	 */
	typing() {
		if (!this.#joined || this.#role === "readonly") return;
		const wait = this.#lastTypingSent + TYPING_INTERVAL_MS + TYPING_MARGIN_MS - Date.now();
		if (wait > 0) {
			this.#typingLater ??= setTimeout(() => {
				this.#typingLater = undefined;
				this.typing();
			}, wait);
			return;
		}
		this.#lastTypingSent = Date.now();
		this.#send({ type: "typing" });
	}

	/** Drops a typing notice waiting for its interval (the text was sent or cleared). */
	stopTyping() {
		clearTimeout(this.#typingLater);
		this.#typingLater = undefined;
	}

	/**
	 * Signed mode: edits your message `id`. Returns whether it went (it needs the room's welcome);
	 * the room's refusal, if any, comes as an `error` event (`forbidden`, `not_found`).
	 * @param {number} id
	 * @param {string} text
	 */
	edit(id, text) {
		return this.#command({ type: "edit", id, text });
	}

	/**
	 * Signed mode: deletes message `id` (yours, or anyone's as a moderator).
	 * @param {number} id
	 */
	delete(id) {
		return this.#command({ type: "delete", id });
	}

	/**
	 * Signed mode, moderators: closes every connection of `userId` (4001).
	 * @param {string} userId
	 */
	kick(userId) {
		return this.#command({ type: "kick", userId });
	}

	/**
	 * Signed mode, moderators: bans `userId` from the room for `seconds` (4003).
	 * @param {string} userId
	 * @param {number} seconds
	 */
	ban(userId, seconds) {
		return this.#command({ type: "ban", userId, seconds });
	}

	/**
	 * Signed mode, moderators: changes some of the room's settings; everyone hears `settings`.
	 * @param {Omit<SettingsCommand, "type">} change
	 */
	changeSettings(change) {
		return this.#command({ type: "settings", ...change });
	}

	/**
	 * Open mode: joins as `name`, or, once joined, rejoins under it on a fresh connection (a
	 * connection says hello once; the new one resumes, losing nothing).
	 * @param {string} name
	 */
	join(name) {
		const renaming = this.#joined && name !== this.#name;
		this.#name = name;
		if (this.#openOnJoin) this.open();
		else if (renaming) this.#connection.restart();
		else if (!this.#joined && this.#state === "open") this.#hello();
	}

	/** Closes for good (1000): nothing reconnects (until `open()`), and pending sends reject with `closed`. */
	close() {
		this.#connection.close();
		this.#finish("closed by the client");
	}

	// -- the story of a connection ---------------------------------------------------------------

	/** @param {ClientEvent} event */
	#send(event) {
		return this.#connection.send(JSON.stringify(event));
	}

	/**
	 * Sends an event that costs the room's allowance (all but `hello`, `typing`, `read`,
	 * `history`, `reactors`), now or when the allowance has room for it.
	 * @param {ClientEvent} event
	 */
	#spend(event) {
		return this.#pacer.send(JSON.stringify(event), event.type === "send" ? event.clientId : undefined);
	}

	/** @param {ClientEvent} event */
	#command(event) {
		if (!this.#joined) return false;
		return event.type === "read" ? this.#send(event) : this.#spend(event);
	}

	#onOpen() {
		// Signed mode: the token says who we are and the room ignores a hello's name.
		if (this.#name || this.#token || this.#signedIn) this.#hello();
	}

	#hello() {
		const name = this.#name;
		this.#send(this.#welcomedBefore ? { type: "hello", name, since: this.#highestId } : { type: "hello", name });
	}

	/**
	 * @param {ConnectionState} state
	 * @param {{ retryInMs?: number, code?: number, reason?: string }} detail
	 */
	#onState(state, detail) {
		if (state !== "open") {
			this.#joined = false;
			this.#history.dropped();
			this.#reactors.dropped();
			this.#pacer.dropped();
		}
		if (state === "waiting" && this.#tokenExpired()) {
			this.#connection.close();
			return;
		}
		this.#state = state;
		if (state === "closed") this.#finish(detail.reason ?? "closed");
		this.#emit("state", { state, ...detail });
	}

	/** Whether the token has expired; if so the chat closes for good (401), as the Worker would refuse it. */
	#tokenExpired() {
		if (!this.#token || !isExpired(readClaims(this.#token))) return false;
		this.#state = "closed";
		this.#finish("token expired");
		this.#emit("state", { state: "closed", code: 401, reason: "token expired" });
		return true;
	}

	/** @param {string} why */
	#finish(why) {
		this.#final = true;
		this.#joined = false;
		clearTimeout(this.#resendTimer);
		this.stopTyping();
		this.#sends.rejectAll(why);
	}

	/** @param {string} data */
	#onFrame(data) {
		/** @type {ServerEvent} */
		let event;
		try {
			event = JSON.parse(data);
		} catch {
			return;
		}
		for (const single of event.type === "batch" ? event.events : [event]) this.#onEvent(single);
	}

	/** @param {SingleServerEvent} event */
	#onEvent(event) {
		// Catching up after a welcome that said `more`: what happens live now waits its turn.
		if (!this.#history.hold(event)) this.#take(event);
	}

	/**
	 * One event, in its turn: a catch-up page's entries come here straight (they are that turn;
	 * held, they would wait behind the live events they precede).
	 * @param {SingleServerEvent} event
	 */
	#take(event) {
		switch (event.type) {
			case "welcome":
				return this.#welcome(event);
			case "message": {
				// A retried send the room had stored already comes back with its old id, perhaps one
				// this client skipped (a gap): listeners have not heard of it, so they do now.
				const ours = this.#sends.stored(event);
				if (!ours && event.id <= this.#highestId) return;
				this.#highestId = Math.max(this.#highestId, event.id);
				return this.#emit("message", event);
			}
			case "edit":
			case "delete":
			case "reactions":
				if (event.id <= this.#highestId) return;
				this.#highestId = event.id;
				if (event.type === "edit") return this.#emit("edit", event);
				return event.type === "delete" ? this.#emit("delete", event) : this.#emit("reactions", event);
			case "history": {
				const { apply, release } = this.#history.answered(event);
				for (const entry of apply) this.#take(eventOfEntry(entry));
				for (const held of release) this.#take(held);
				return;
			}
			case "reactors":
				return this.#reactors.answered(event);
			case "join":
				this.#members.add(event.name);
				this.#memberCount++;
				this.#emit("join", event);
				return this.#emitMembers();
			case "leave":
				this.#members.delete(event.name);
				this.#memberCount = Math.max(this.#members.size, this.#memberCount - 1);
				this.#emit("leave", event);
				return this.#emitMembers();
			case "presence":
				for (const { name } of event.joins) this.#members.add(name);
				for (const { name } of event.leaves) this.#members.delete(name);
				this.#memberCount = event.memberCount;
				this.#emit("presence", event);
				return this.#emitMembers();
			case "typing":
				return this.#emit("typing", event);
			case "removed":
				return this.#emit("removed", event);
			case "settings":
				this.#settings = event.settings;
				return this.#emit("settings", event);
			case "error":
				return this.#error(event);
		}
	}

	/** @param {WelcomeEvent} welcome */
	#welcome(welcome) {
		const resumed = this.#welcomedBefore;
		// The room holds fewer messages than we saw: its storage was reset. Start over from it.
		const reset = resumed && welcome.latestId < this.#highestId;
		if (reset) this.#highestId = 0;
		this.#joined = this.#welcomedBefore = true;
		this.#name = welcome.name;
		this.#userId = welcome.userId ?? null;
		this.#role = welcome.role ?? null;
		this.#messageCap = welcome.messageCap;
		this.#settings = welcome.settings;
		this.#members = new Set(welcome.members);
		this.#memberCount = welcome.memberCount;
		for (const entry of welcome.history) {
			if (!("kind" in entry)) this.#sends.stored(entry);
			this.#highestId = Math.max(this.#highestId, entry.id);
		}
		this.#pacer.welcomed(welcome.allowance, Date.now());
		this.#emit("welcome", { welcome, resumed, reset });
		this.#emitMembers();
		// A resume from far back: what the welcome could not carry comes in pages, before anything live.
		if (welcome.more) this.#history.catchUp(this.#highestId, welcome.latestId);
		// Anything still pending may or may not have been stored: resending is safe (same clientId).
		this.#resendPending();
	}

	/** @param {ErrorEvent} error */
	#error(error) {
		const refusal = error.clientId === undefined ? null : this.#sends.refused({ ...error, clientId: error.clientId });
		if (refusal === null) return this.#emit("error", error);
		if (refusal.outcome === "retry" && this.#resendTimer === undefined) {
			// Everything pending goes again, in order, once the room will take it.
			this.#resendTimer = setTimeout(() => {
				this.#resendTimer = undefined;
				this.#resendPending();
			}, refusal.afterMs);
		}
	}

	#resendPending() {
		if (!this.#joined) return;
		for (const [clientId, text, replyTo] of this.#sends.entries()) this.#spend(sendEvent(clientId, text, replyTo));
	}

	#emitMembers() {
		this.#emit("members", { names: this.members, count: this.memberCount });
	}
}
