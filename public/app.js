// @ts-check
/**
 * The chat page: joins the room from `?room=` under a remembered name, speaks edgechat.v1
 * (PROTOCOL.md) over a socket on the page's own host (ws: under `wrangler dev`, wss: when
 * deployed), and resumes after every reconnect from the last message it saw, resending what
 * it had not seen stored, so nothing is missed or shown twice.
 *
 * In signed mode (a link with `#token=…`, see token.js) the token is the identity: the page
 * asks no name, shows edits and deletes, offers each user the actions the room allows it
 * (moderation.js), and stays closed after a moderator's kick or ban.
 */
import { Connection } from "./connection.js";
import {
	BANNED_CLOSE_CODE,
	KICKED_CLOSE_CODE,
	MAX_ROOM_NAME_LENGTH,
	ROOM_NAME_CHARACTERS,
	TYPING_INTERVAL_MS,
} from "./contract.js";
import { MessageActions } from "./moderation.js";
import { Timeline } from "./timeline.js";
import { forgetToken, isExpired, readClaims, takeToken } from "./token.js";

/** @import { ChatMessage, ClientEvent, RemovedEvent, Role, ServerEvent, SingleServerEvent } from "../src/wire/protocol.ts" */

const room = new URLSearchParams(location.search).get("room") ?? "lobby";
// First of all: a token in the address bar leaves it before anything else happens.
const token = takeToken(room);

/** Where the display name is remembered. */
/** How long the page waits before resending a message the room could not store (`server_error`). */
const SERVER_ERROR_RETRY_MS = 2_000;
const NAME_KEY = "edgechat.name";
/** Someone's typing indicator is cleared after this long without news (PROTOCOL.md). */
const TYPING_SHOW_MS = 5_000;
/** Slack after the typing interval, for the network's jitter between two notices. */
const TYPING_MARGIN_MS = 200;

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function element(id, type) {
	const found = document.getElementById(id);
	if (!(found instanceof type)) throw new Error(`page is missing #${id}`);
	return found;
}

const ui = {
	messages: element("messages", HTMLOListElement),
	chat: element("chat", HTMLElement),
	composer: element("composer", HTMLFormElement),
	input: element("message", HTMLInputElement),
	send: element("send", HTMLButtonElement),
	composerNote: element("composer-note", HTMLElement),
	composerNoteText: element("composer-note-text", HTMLElement),
	rejoin: element("rejoin", HTMLButtonElement),
	status: element("connection", HTMLElement),
	statusText: element("connection-text", HTMLElement),
	reconnect: element("reconnect", HTMLButtonElement),
	membersPanel: element("members-panel", HTMLDetailsElement),
	members: element("members", HTMLUListElement),
	memberCount: element("member-count", HTMLElement),
	myName: element("my-name", HTMLElement),
	rename: element("rename", HTMLButtonElement),
	typing: element("typing", HTMLElement),
	joinDialog: element("join-dialog", HTMLDialogElement),
	joinForm: element("join-form", HTMLFormElement),
	nameInput: element("name", HTMLInputElement),
	joinError: element("join-error", HTMLElement),
	actionDialog: {
		dialog: element("action-dialog", HTMLDialogElement),
		title: element("action-title", HTMLElement),
		text: element("action-text", HTMLElement),
		lengthField: element("ban-length-field", HTMLElement),
		length: element("ban-length", HTMLSelectElement),
		confirm: element("action-confirm", HTMLButtonElement),
		cancel: element("action-cancel", HTMLButtonElement),
	},
};

element("room-name", HTMLElement).textContent = room;
document.title = `${room} · edgechat`;
if (matchMedia("(min-width: 48rem)").matches) ui.membersPanel.open = true;

/**
 * @param {import("./connection.js").ConnectionState | "failed"} state
 * @param {string} text
 */
function showState(state, text) {
	ui.status.dataset.state = state;
	ui.statusText.textContent = text;
	ui.reconnect.hidden = state !== "waiting";
}

/** A client message id: random, URL-safe, and available outside secure contexts too. */
function newClientId() {
	return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** @param {string} text */
function codePoints(text) {
	return [...text].length;
}

/** @param {number} ms since the epoch */
function when(ms) {
	return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * The line everyone sees when a moderator kicks or bans someone.
 * @param {RemovedEvent} event
 */
function removedNotice({ name, by, until }) {
	const who = name ?? "A user";
	return until === undefined ? `${who} was kicked by ${by}.` : `${who} was banned by ${by} until ${when(until)}.`;
}

/**
 * The composer: usable, or disabled with a note saying why (read-only, removed).
 * @param {string | null} note
 * @param {{ rejoin?: boolean }} [options]
 */
function setComposer(note, { rejoin = false } = {}) {
	ui.input.disabled = ui.send.disabled = note !== null;
	ui.composerNote.hidden = note === null;
	ui.composerNoteText.textContent = note ?? "";
	ui.rejoin.hidden = !rejoin;
	if (note === null) ui.input.removeAttribute("aria-describedby");
	else ui.input.setAttribute("aria-describedby", "composer-note-text");
}

class ChatPage {
	/** @type {Connection} */ #connection;
	/** The signed-mode token, or `null` in open mode. @type {string | null} */ #token;
	/** Signed mode: who the room says we are (from the welcome). @type {string | null} */ #userId = null;
	/** @type {Role | null} */ #role = null;
	/** Closed by a moderator (kick or ban): nothing reconnects until the user says so. */
	#removed = false;
	#actions = new MessageActions(
		ui.actionDialog,
		{
			edit: (id, text) => {
				if (codePoints(text) > this.#messageCap) {
					this.#timeline.addNotice(`Messages can be at most ${this.#messageCap} characters.`, true);
					return false;
				}
				return this.#command({ type: "edit", id, text });
			},
			delete: (id) => this.#command({ type: "delete", id }),
			kick: (userId) => this.#command({ type: "kick", userId }),
			ban: (userId, seconds) => this.#command({ type: "ban", userId, seconds }),
		},
		ui.input,
	);
	#timeline = new Timeline(ui.messages, ui.chat, (item, message) => this.#actions.decorate(item, message));
	/** Whether a message is this page's user's: by user id in signed mode, by name in open mode. */
	#isMine = (/** @type {ChatMessage} */ message) =>
		this.#userId !== null ? message.userId === this.#userId : message.name === this.#name;
	#name = "";
	/** Whether this connection's hello has been welcomed. */
	#joined = false;
	/** Whether any hello was ever welcomed: from then on, reconnects resume with `since`. */
	#welcomedBefore = false;
	#messageCap = Number.POSITIVE_INFINITY;
	/** Messages sent (or queued) but not yet seen stored, in order: resent after a reconnect. @type {Map<string, string>} */
	#unconfirmed = new Map();
	/** @type {Set<string>} */ #members = new Set();
	/** Names present in the room: a big room's welcome lists only some of them (PROTOCOL.md). */
	#memberCount = 0;
	/** @type {Map<string, ReturnType<typeof setTimeout>>} */ #typing = new Map();
	#lastTypingSent = 0;
	/** A keystroke inside the typing interval, announced when the interval ends. @type {ReturnType<typeof setTimeout> | undefined} */ #typingLater;
	/** @type {ReturnType<typeof setTimeout> | undefined} */ #resendTimer;

	/**
	 * @param {string} url
	 * @param {string | null} token
	 */
	constructor(url, token) {
		this.#token = token;
		// Signed mode: the name is the token's (the room says so in its welcome; this is only a preview).
		this.#name = token ? (readClaims(token).name ?? "") : (localStorage.getItem(NAME_KEY) ?? "");
		ui.rename.hidden = token !== null;
		this.#connection = new Connection(url, {
			onOpen: () => this.#onOpen(),
			onMessage: (data) => this.#onFrame(data),
			onState: (state, { retryInMs, code, reason }) => {
				if (state !== "open") this.#joined = false;
				if (state === "connecting") showState(state, "Connecting…");
				else if (state === "open") showState(state, "Connected");
				else if (code === KICKED_CLOSE_CODE || code === BANNED_CLOSE_CODE) this.#onRemoved(code, reason ?? "");
				else if (code === 401 || code === 403) this.#onRefused(reason ?? "");
				else if (state === "closed") showState(state, `Disconnected (${code})`);
				else if (this.#tokenExpired()) this.#connection.close();
				else showState(state, `Connection lost; retrying in ${Math.ceil((retryInMs ?? 0) / 1000)} s`);
			},
		});
		ui.composer.addEventListener("submit", (event) => {
			event.preventDefault();
			this.#submit();
		});
		ui.input.addEventListener("input", () => this.#maybeSendTyping());
		ui.reconnect.addEventListener("click", () => this.#connection.connect());
		ui.rejoin.addEventListener("click", () => {
			this.#removed = false;
			ui.rejoin.hidden = true;
			this.#connection.connect();
		});
		ui.rename.addEventListener("click", () => this.#askName(""));
		ui.joinForm.addEventListener("submit", (event) => {
			event.preventDefault();
			this.#chooseName(ui.nameInput.value);
		});
		// Back online: no need to sit out the rest of the backoff (unless a moderator removed us).
		addEventListener("online", () => {
			if (!this.#removed) this.#connection.connect();
		});
		ui.myName.textContent = this.#name || "…";
		if (this.#tokenExpired()) return;
		this.#connection.connect();
		ui.input.focus();
	}

	/** @param {ClientEvent} event */
	#send(event) {
		return this.#connection.send(JSON.stringify(event));
	}

	/**
	 * Sends an edit, delete, kick or ban, or says why it cannot go now.
	 * @param {ClientEvent} event
	 */
	#command(event) {
		if (this.#joined && this.#send(event)) return true;
		this.#timeline.addNotice("Not connected: try again once the page is connected.", true);
		return false;
	}

	#onOpen() {
		// Signed mode: the token says who we are; the room ignores a hello's name.
		if (this.#name || this.#token) this.#hello();
		else this.#askName("");
	}

	/**
	 * Whether this page's token has expired; if so, says so and forgets it (no reconnecting with it).
	 */
	#tokenExpired() {
		if (!this.#token || !isExpired(readClaims(this.#token))) return false;
		forgetToken(room);
		showState("failed", "Link expired");
		this.#timeline.addNotice("Your sign-in link has expired. Ask for a new one to join again.", true);
		setComposer("Your sign-in link has expired.");
		return true;
	}

	/**
	 * A moderator closed this connection: say so, and stay closed (Connection does not retry).
	 * @param {number} code
	 * @param {string} reason `banned until <ISO time>` for a ban
	 */
	#onRemoved(code, reason) {
		this.#removed = true;
		this.#actions.viewer = null;
		if (code === KICKED_CLOSE_CODE) {
			showState("closed", "Removed by a moderator");
			this.#timeline.addNotice("A moderator removed you from this room.", true);
			setComposer("A moderator removed you from this room. You may come back.", { rejoin: true });
		} else {
			const until = Date.parse(reason.replace(/^banned until\s*/, ""));
			const text = Number.isNaN(until)
				? "A moderator banned you from this room."
				: `A moderator banned you from this room until ${when(until)}.`;
			showState("closed", "Banned by a moderator");
			this.#timeline.addNotice(text, true);
			setComposer(text);
		}
	}

	/**
	 * Signed mode: the room refused this page's upgrade (its token, or a ban); say why and stay
	 * closed (Connection does not retry a refusal).
	 * @param {string} reason the server's one-line reason
	 */
	#onRefused(reason) {
		this.#removed = true;
		showState("failed", "Not let in");
		const text = `The room did not let you in: ${reason}.`;
		this.#timeline.addNotice(text, true);
		setComposer(text);
	}

	#hello() {
		this.#send(
			this.#welcomedBefore
				? { type: "hello", name: this.#name, since: this.#timeline.highestId }
				: { type: "hello", name: this.#name },
		);
	}

	/** @param {string} error */
	#askName(error) {
		ui.nameInput.value = this.#name;
		ui.joinError.textContent = error;
		if (!ui.joinDialog.open) ui.joinDialog.showModal();
		ui.nameInput.focus();
	}

	/** @param {string} raw */
	#chooseName(raw) {
		const name = raw.trim();
		if (!name) return this.#askName("Please enter a name.");
		const renaming = this.#joined && name !== this.#name;
		this.#name = name;
		ui.joinDialog.close();
		ui.input.focus();
		// A connection says hello once: a new name needs a new connection (it resumes, losing nothing).
		if (renaming) this.#connection.restart();
		else if (!this.#joined) this.#hello();
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
		switch (event.type) {
			case "welcome": {
				const resumed = this.#welcomedBefore;
				this.#joined = this.#welcomedBefore = true;
				this.#name = event.name;
				// A signed name is the token's, not a choice to remember for open rooms.
				if (!this.#token) localStorage.setItem(NAME_KEY, event.name);
				ui.myName.textContent = event.name;
				this.#userId = event.userId ?? null;
				this.#role = event.role ?? null;
				this.#actions.viewer = event.userId && event.role ? { userId: event.userId, role: event.role } : null;
				setComposer(this.#role === "readonly" ? "Read-only: you can follow this room but not write in it." : null);
				this.#messageCap = event.messageCap;
				this.#members = new Set(event.members);
				this.#memberCount = event.memberCount;
				this.#renderMembers();
				if (resumed && event.latestId < this.#timeline.highestId) {
					// The room has fewer messages than we saw: its storage was reset. Start over from it.
					this.#timeline.clearStored();
					this.#timeline.addNotice("The room's history was reset.");
				} else if (event.gap && resumed) {
					this.#timeline.addNotice("Some messages from while you were away are no longer kept.");
				}
				// A screen reader hears the live conversation, not a replay of the whole history.
				ui.messages.setAttribute("aria-busy", "true");
				this.#timeline.addEntries(event.history, this.#isMine);
				ui.messages.setAttribute("aria-busy", "false");
				// Edits and deletes (signed mode) are entries with a `kind`; messages have none.
				for (const entry of event.history) {
					if (!("kind" in entry) && entry.clientId) this.#unconfirmed.delete(entry.clientId);
				}
				// Anything still unconfirmed may or may not have been stored: resending is safe (same clientId).
				for (const [clientId, text] of this.#unconfirmed) this.#send({ type: "send", clientId, text });
				break;
			}
			case "message":
				this.#timeline.addEntries([event], this.#isMine);
				if (event.clientId) this.#unconfirmed.delete(event.clientId);
				this.#setTyping(event.name, false);
				break;
			case "join":
				this.#members.add(event.name);
				this.#memberCount++;
				this.#renderMembers();
				break;
			case "leave":
				this.#members.delete(event.name);
				this.#memberCount = Math.max(this.#members.size, this.#memberCount - 1);
				this.#renderMembers();
				this.#setTyping(event.name, false);
				break;
			case "typing":
				if (event.name !== this.#name) this.#setTyping(event.name, true);
				break;
			case "edit": {
				const { type: _, ...entry } = event;
				this.#timeline.addEntries([{ ...entry, kind: "edit" }], this.#isMine);
				break;
			}
			case "delete": {
				const { type: _, ...entry } = event;
				this.#timeline.addEntries([{ ...entry, kind: "delete" }], this.#isMine);
				break;
			}
			case "removed":
				// Our own removal is told by the close that follows (4001 or 4003).
				if (event.userId !== this.#userId) this.#timeline.addNotice(removedNotice(event));
				break;
			case "error":
				if (event.code === "bad_name") {
					localStorage.removeItem(NAME_KEY);
					this.#askName(event.message);
				} else if ((event.code === "rate_limited" || event.code === "server_error") && event.clientId) {
					// Still pending: send what is pending again, in order, once the room will take it
					// (a storage failure, or a shard that could not reach the room: PROTOCOL.md says
					// retry later with the same clientId, which the room stores once).
					this.#scheduleResend(event.retryAfterMs ?? SERVER_ERROR_RETRY_MS);
				} else if (event.clientId) {
					this.#unconfirmed.delete(event.clientId);
					this.#timeline.markFailed(event.clientId, event.message);
				} else if (event.code === "forbidden") {
					this.#timeline.addNotice(`Not allowed: ${event.message}`, true);
				} else if (event.code === "not_found") {
					this.#timeline.addNotice(`That message is gone: ${event.message}`, true);
				} else {
					this.#timeline.addNotice(`The room refused that: ${event.message}`);
				}
				break;
		}
	}

	/**
	 * Sends every unconfirmed message again after `delayMs`, oldest first, so messages held back
	 * by flood control keep their order. Same clientIds: the room stores each at most once.
	 * @param {number} delayMs
	 */
	#scheduleResend(delayMs) {
		if (this.#resendTimer !== undefined) return;
		this.#resendTimer = setTimeout(() => {
			this.#resendTimer = undefined;
			if (!this.#joined) return;
			for (const [clientId, text] of this.#unconfirmed) this.#send({ type: "send", clientId, text });
		}, delayMs);
	}

	#submit() {
		const text = ui.input.value;
		if (text.trim() === "") return;
		if (codePoints(text) > this.#messageCap) {
			this.#timeline.addNotice(`Messages can be at most ${this.#messageCap} characters.`);
			return;
		}
		const clientId = newClientId();
		this.#unconfirmed.set(clientId, text);
		this.#timeline.addPending(clientId, this.#name, text);
		// Offline, it waits (marked pending) and goes out when the room welcomes us back.
		if (this.#joined) this.#send({ type: "send", clientId, text });
		ui.input.value = "";
		ui.input.focus();
	}

	/**
	 * Announces typing at most once per interval, as the room passes it on (a send does not reset
	 * the room's interval, PROTOCOL.md). A keystroke inside the interval is announced when it
	 * ends, a little after so the room surely counts the interval as over, if the box still has
	 * text: typing right after sending still shows.
	 */
	#maybeSendTyping() {
		if (!this.#joined || this.#role === "readonly" || ui.input.value === "") return;
		const wait = this.#lastTypingSent + TYPING_INTERVAL_MS + TYPING_MARGIN_MS - Date.now();
		if (wait > 0) {
			this.#typingLater ??= setTimeout(() => {
				this.#typingLater = undefined;
				this.#maybeSendTyping();
			}, wait);
			return;
		}
		this.#lastTypingSent = Date.now();
		this.#send({ type: "typing" });
	}

	/**
	 * @param {string} name
	 * @param {boolean} typing
	 */
	#setTyping(name, typing) {
		clearTimeout(this.#typing.get(name));
		this.#typing.delete(name);
		if (typing)
			this.#typing.set(
				name,
				setTimeout(() => this.#setTyping(name, false), TYPING_SHOW_MS),
			);
		const names = [...this.#typing.keys()];
		ui.typing.textContent =
			names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : `${names.join(", ")} are typing…`;
	}

	#renderMembers() {
		const names = [...this.#members].sort();
		ui.members.replaceChildren(
			...names.map((name) => {
				const item = document.createElement("li");
				item.textContent = name;
				if (name === this.#name) item.classList.add("me");
				return item;
			}),
		);
		ui.memberCount.textContent = `${Math.max(this.#memberCount, names.length)} online`;
	}
}

if (room.length > MAX_ROOM_NAME_LENGTH || !ROOM_NAME_CHARACTERS.test(room)) {
	showState("failed", "Invalid room name");
	const timeline = new Timeline(ui.messages, ui.chat);
	timeline.addNotice(`Room names are 1 to ${MAX_ROOM_NAME_LENGTH} letters, digits, '_' or '-'. Try ?room=lobby.`);
	ui.input.disabled = ui.send.disabled = true;
} else {
	const scheme = location.protocol === "https:" ? "wss:" : "ws:";
	// Browsers cannot put headers on a WebSocket: the token goes as a query parameter (PROTOCOL.md).
	const query = token ? `?token=${encodeURIComponent(token)}` : "";
	new ChatPage(`${scheme}//${location.host}/api/rooms/${room}/websocket${query}`, token);
}
