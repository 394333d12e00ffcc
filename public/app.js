// @ts-check
/**
 * The chat page: joins the room from `?room=` under a remembered name, speaks edgechat.v1
 * (PROTOCOL.md) over a socket on the page's own host (ws: under `wrangler dev`, wss: when
 * deployed), and resumes after every reconnect from the last message it saw, resending what
 * it had not seen stored, so nothing is missed or shown twice.
 */
import { Connection } from "./connection.js";
import { MAX_ROOM_NAME_LENGTH, ROOM_NAME_CHARACTERS, TYPING_INTERVAL_MS } from "./contract.js";
import { Timeline } from "./timeline.js";

/** @import { ChatMessage, ClientEvent, ServerEvent, SingleServerEvent } from "../src/protocol.ts" */

/** Where the display name is remembered. */
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
};

const room = new URLSearchParams(location.search).get("room") ?? "lobby";
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

class ChatPage {
	/** @type {Connection} */ #connection;
	#timeline = new Timeline(ui.messages, ui.chat);
	#name = localStorage.getItem(NAME_KEY) ?? "";
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

	/** @param {string} url */
	constructor(url) {
		this.#connection = new Connection(url, {
			onOpen: () => this.#onOpen(),
			onMessage: (data) => this.#onFrame(data),
			onState: (state, { retryInMs, code }) => {
				if (state !== "open") this.#joined = false;
				if (state === "connecting") showState(state, "Connecting…");
				else if (state === "open") showState(state, "Connected");
				else if (state === "closed") showState(state, `Disconnected (${code})`);
				else showState(state, `Connection lost; retrying in ${Math.ceil((retryInMs ?? 0) / 1000)} s`);
			},
		});
		ui.composer.addEventListener("submit", (event) => {
			event.preventDefault();
			this.#submit();
		});
		ui.input.addEventListener("input", () => this.#maybeSendTyping());
		ui.reconnect.addEventListener("click", () => this.#connection.connect());
		ui.rename.addEventListener("click", () => this.#askName(""));
		ui.joinForm.addEventListener("submit", (event) => {
			event.preventDefault();
			this.#chooseName(ui.nameInput.value);
		});
		// Back online: no need to sit out the rest of the backoff.
		addEventListener("online", () => this.#connection.connect());
		ui.myName.textContent = this.#name || "…";
		this.#connection.connect();
		ui.input.focus();
	}

	/** @param {ClientEvent} event */
	#send(event) {
		return this.#connection.send(JSON.stringify(event));
	}

	#onOpen() {
		if (this.#name) this.#hello();
		else this.#askName("");
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
				localStorage.setItem(NAME_KEY, event.name);
				ui.myName.textContent = event.name;
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
				// Edits and deletes (signed mode) are entries with a `kind`; messages have none.
				const messages = /** @type {ChatMessage[]} */ (event.history.filter((entry) => !("kind" in entry)));
				this.#timeline.addMessages(messages, this.#name);
				ui.messages.setAttribute("aria-busy", "false");
				for (const message of messages) if (message.clientId) this.#unconfirmed.delete(message.clientId);
				// Anything still unconfirmed may or may not have been stored: resending is safe (same clientId).
				for (const [clientId, text] of this.#unconfirmed) this.#send({ type: "send", clientId, text });
				break;
			}
			case "message":
				this.#timeline.addMessages([event], this.#name);
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
			case "error":
				if (event.code === "bad_name") {
					localStorage.removeItem(NAME_KEY);
					this.#askName(event.message);
				} else if (event.code === "rate_limited" && event.clientId) {
					// Still pending: send what is pending again, in order, once the room will take it.
					this.#scheduleResend(event.retryAfterMs ?? 1_000);
				} else if (event.clientId) {
					this.#unconfirmed.delete(event.clientId);
					this.#timeline.markFailed(event.clientId, event.message);
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
		if (!this.#joined || ui.input.value === "") return;
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
	ui.input.disabled = true;
	element("send", HTMLButtonElement).disabled = true;
} else {
	const scheme = location.protocol === "https:" ? "wss:" : "ws:";
	new ChatPage(`${scheme}//${location.host}/api/rooms/${room}/websocket`);
}
