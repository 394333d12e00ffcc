// @ts-check
/**
 * The chat page: joins the room from `?room=` under a remembered name and shows it. The protocol
 * (edgechat.v1, PROTOCOL.md) is the client library's (client/): it connects to the page's own
 * host, resumes after every reconnect from the last message it saw and resends what it had not
 * seen stored, so nothing is missed or shown twice. This file renders what the library hears and
 * hands it what the user does; it keeps no protocol state of its own.
 *
 * In signed mode (a link with `#token=…`, see token.js) the token is the identity: the page
 * asks no name, shows edits and deletes, offers each user the actions the room allows it
 * (moderation.js), and stays closed after a moderator's kick or ban.
 */

import { AccountUi, handleOf, setRole, takeLink, whoAmI } from "./account.js";
import { connect, newClientId } from "./client/index.js";
import { Composer, codePoints } from "./composer.js";
import { BANNED_CLOSE_CODE, KICKED_CLOSE_CODE, MAX_ROOM_NAME_LENGTH, ROOM_NAME_CHARACTERS } from "./contract.js";
import { concernsViewer, isolated, isolatedNames } from "./message-view.js";
import { MessageActions } from "./moderation.js";
import { showReactions } from "./reactions.js";
import { Timeline } from "./timeline.js";
import { forgetToken, takeToken } from "./token.js";
import { Unread } from "./unread.js";

/**
 * @import { ChatMessage, ReplyQuote } from "../src/wire/log-entries.ts"
 * @import { RemovedEvent } from "../src/wire/protocol.ts"
 * @import { SettingsEvent } from "../src/wire/settings.ts"
 * @import { Chat, ChatError } from "./client/index.js"
 */

const room = new URLSearchParams(location.search).get("room") ?? "lobby";
// First of all: a token in the address bar leaves it before anything else happens.
const token = takeToken(room);

/** Where the display name is remembered. */
const NAME_KEY = "edgechat.name";
/** Someone's typing indicator is cleared after this long without news (PROTOCOL.md). */
const TYPING_SHOW_MS = 5_000;

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
	input: element("message", HTMLTextAreaElement),
	charCount: element("char-count", HTMLElement),
	slowWait: element("slow-wait", HTMLElement),
	replyPreview: element("reply-preview", HTMLElement),
	replyPreviewText: element("reply-preview-text", HTMLElement),
	replyCancel: element("reply-cancel", HTMLButtonElement),
	loadOlder: element("load-older", HTMLButtonElement),
	newMessages: element("new-messages", HTMLButtonElement),
	historyStatus: element("history-status", HTMLElement),
	notify: element("notify", HTMLButtonElement),
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
	you: element("you", HTMLElement),
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
 * @param {import("./client/connection.js").ConnectionState | "failed" | "offline"} state
 * @param {string} text
 */
function showState(state, text) {
	ui.status.dataset.state = state;
	ui.statusText.textContent = text;
	ui.reconnect.hidden = state !== "waiting";
}

/** Up to this many people present, each one who joins gets a line in the conversation. */
const SMALL_ROOM = 30;

/** What the header says while the browser is offline. */
const OFFLINE = "Offline: messages go when you are back online";

/** @param {number} ms since the epoch */
function when(ms) {
	return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * The line everyone sees when a moderator kicks or bans someone (the names isolated).
 * @param {RemovedEvent} event
 * @returns {(string | Node)[]}
 */
function removedNotice({ name, by, until }) {
	const who = name === undefined ? "A user" : isolated(name);
	return until === undefined
		? [who, " was kicked by ", isolated(by), "."]
		: [who, " was banned by ", isolated(by), ` until ${when(until)}.`];
}

/**
 * What everyone is told when the room's settings change (who changed them isolated).
 * @param {SettingsEvent} event
 * @returns {(string | Node)[]}
 */
function settingsNotice({ settings, by }) {
	const { slowModeSeconds, postingRole, retentionDays } = settings;
	const slow = slowModeSeconds > 0 ? `slow mode is on (one message per ${slowModeSeconds} s)` : "slow mode is off";
	const posting = postingRole === "moderators" ? "only moderators can post" : "everyone can post";
	const kept =
		retentionDays > 0 ? `messages are kept for ${retentionDays} days` : "messages are kept without a time limit";
	return [isolated(by), ` changed the room's settings: ${slow}; ${posting}; ${kept}.`];
}

/**
 * Why the room did not let this page in (a refused upgrade: 401 or 403), in words for the person
 * reading it.
 * @param {string} reason the room's reason (PROTOCOL.md, "Signed identity and moderation")
 */
function notLetInWords(reason) {
	const banned = /^banned until (.+)$/.exec(reason);
	if (banned) {
		const until = Date.parse(banned[1] ?? "");
		return Number.isNaN(until)
			? "A moderator banned you from this room."
			: `A moderator banned you from this room until ${when(until)}.`;
	}
	if (reason.startsWith("missing token")) {
		return "This room is for its members only: open it with the sign-in link the site gave you.";
	}
	if (reason === "token is not for this room") {
		return "Your sign-in link is for another room: open this room with its own link.";
	}
	return "Your sign-in link does not work here: ask the site for a new one.";
}

/**
 * Why the room refused a message, in words for the person who wrote it.
 * @param {ChatError} error
 */
function refusalInWords(error) {
	switch (error.code) {
		case "slow_mode":
			return `slow mode: wait ${Math.ceil((error.retryAfterMs ?? 0) / 1000)} s before your next message (your text is back in the box)`;
		case "posting_restricted":
			return "only moderators can post in this room";
		case "rate_limited":
			return "you are sending too fast";
		case "text_too_long":
			return "too long";
		default:
			return error.message;
	}
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
	ui.input.setAttribute("aria-describedby", note === null ? "char-count" : "composer-note-text");
}

class ChatPage {
	/** The room's client (the library does the protocol; the page renders). @type {Chat} */ #chat;
	/** Open mode: the name is the reader's to choose (and remember); otherwise it is their account's or token's. */
	#open = true;
	/** @type {string} */ #room;
	/** The deployment's owner: gives accounts roles in rooms. */
	#owner = false;
	/** Closed by a moderator (kick or ban) or refused: nothing reconnects until the user says so. */
	#removed = false;
	#actions = new MessageActions(
		ui.actionDialog,
		{
			edit: (id, text) => {
				if (codePoints(text) > this.#chat.messageCap) {
					this.#timeline.addNotice(`Messages can be at most ${this.#chat.messageCap} characters.`, { important: true });
					return false;
				}
				return this.#command(this.#chat.edit(id, text));
			},
			delete: (id) => this.#command(this.#chat.delete(id)),
			kick: (userId) => this.#command(this.#chat.kick(userId)),
			ban: (userId, seconds) => this.#command(this.#chat.ban(userId, seconds)),
			handleOf,
			setRole: (userId, name, role) => this.#setRole(userId, name, role),
		},
		ui.input,
	);
	#timeline = new Timeline(
		ui.messages,
		ui.chat,
		{
			decorate: (item, message) => this.#decorate(item, message),
			reactions: (item, message, reactions) => this.#showReactions(item, message, reactions),
			quote: (replyTo) => void this.#goTo(replyTo.id),
		},
		ui.newMessages,
	);
	#composer = new Composer(
		{
			form: ui.composer,
			input: ui.input,
			count: ui.charCount,
			reply: ui.replyPreview,
			replyText: ui.replyPreviewText,
			replyCancel: ui.replyCancel,
			send: ui.send,
			wait: ui.slowWait,
		},
		() => this.#submit(),
	);
	/** @type {Unread} */ #unread;
	/** Whether older messages remain to page back to (until a page says there are none). */
	#olderRemain = true;
	/** The page back being fetched, if one is. @type {Promise<void> | null} */ #paging = null;
	/** Whether a message is this page's user's: by user id in signed mode, by name in open mode. */
	#isMine = (/** @type {ChatMessage} */ message) =>
		this.#chat.userId !== null ? message.userId === this.#chat.userId : message.name === this.#chat.name;
	/** @type {Map<string, ReturnType<typeof setTimeout>>} */ #typing = new Map();

	/**
	 * @param {string} room
	 * @param {{ token?: string | null, signedIn?: boolean, owner?: boolean }} who signed mode: the
	 *   link's token; or signed in by the session cookie (a passkey account), Cloudflare Access, or
	 *   as a guest; `owner`: the deployment's owner, who gives roles in rooms
	 */
	constructor(room, { token = null, signedIn = false, owner = false }) {
		this.#open = !token && !signedIn;
		this.#room = room;
		this.#owner = owner;
		// Over flood control the page keeps a message pending and lets the library send it again.
		this.#chat = connect({
			url: location.origin,
			room,
			...(token ? { token } : signedIn ? { signedIn } : { name: localStorage.getItem(NAME_KEY) ?? "" }),
			retryRateLimited: true,
		});
		ui.rename.hidden = !this.#open;
		ui.myName.textContent = this.#chat.name || "…";
		this.#unread = new Unread(room, {
			divideBefore: (id) => this.#timeline.divideBefore(id),
			report: (id) => {
				if (this.#chat.userId !== null) this.#chat.read(id);
			},
		});
		this.#listen();
		// Open mode with no name remembered: the library opens its socket once one is chosen.
		if (this.#open && !this.#chat.name) {
			showState("connecting", "Choose a name to join");
			this.#askName("");
		}
		ui.composer.addEventListener("submit", (event) => {
			event.preventDefault();
			this.#submit();
		});
		ui.input.addEventListener("input", () => {
			if (ui.input.value === "") this.#chat.stopTyping();
			else this.#chat.typing();
		});
		// Scroll-back: near the top of the list, or with the button (for the keyboard), the page
		// before the oldest shown is fetched and added above, the reader's place kept. The button
		// sits above the scrolling list (index.html): in it, reaching the button would load a page
		// that moves it away, and a click aimed at it would land on a message.
		ui.chat.addEventListener("scroll", () => {
			if (ui.chat.scrollTop < 80) void this.#loadOlder();
		});
		ui.loadOlder.addEventListener("click", () => void this.#loadOlder());
		// Notifications are asked for from a click, never on load.
		if ("Notification" in window && Notification.permission === "default") {
			ui.notify.hidden = false;
			ui.notify.addEventListener("click", async () => {
				await Notification.requestPermission();
				ui.notify.hidden = true;
			});
		}
		ui.reconnect.addEventListener("click", () => this.#chat.open());
		ui.rejoin.addEventListener("click", () => {
			this.#removed = false;
			ui.rejoin.hidden = true;
			this.#chat.open();
		});
		ui.rename.addEventListener("click", () => this.#askName(""));
		ui.joinForm.addEventListener("submit", (event) => {
			event.preventDefault();
			this.#chooseName(ui.nameInput.value);
		});
		// Offline, the socket can stay open for a while (nothing tells it the network went), so
		// the header follows the browser's word too. Back online: no need to sit out the rest of
		// the backoff (unless a moderator removed us).
		addEventListener("offline", () => {
			if (!this.#removed && this.#chat.state !== "closed") showState("offline", OFFLINE);
		});
		addEventListener("online", () => {
			if (this.#removed) return;
			this.#chat.open();
			if (this.#chat.state === "open") showState("open", "Connected");
		});
		ui.input.focus();
	}

	/** Renders what the room's client hears. */
	#listen() {
		const chat = this.#chat;
		chat.on("state", (change) => this.#onState(change));
		chat.on("welcome", ({ welcome, resumed, reset }) => {
			// A signed name is the account's or the token's, not a choice to remember for open rooms.
			if (this.#open) localStorage.setItem(NAME_KEY, welcome.name);
			ui.myName.textContent = welcome.name;
			this.#actions.viewer =
				welcome.userId && welcome.role ? { userId: welcome.userId, role: welcome.role, owner: this.#owner } : null;
			this.#applySettings();
			if (reset) {
				this.#timeline.clearStored();
				this.#timeline.addNotice("The room's history was reset.");
			} else if (welcome.gap && resumed) {
				this.#timeline.addNotice("Some messages from while you were away are no longer kept.");
			}
			this.#composer.cap = welcome.messageCap;
			// A screen reader hears the live conversation, not a replay of the whole history.
			ui.messages.setAttribute("aria-busy", "true");
			this.#timeline.addEntries(welcome.history, this.#isMine);
			ui.messages.setAttribute("aria-busy", "false");
			if (!resumed) {
				this.#olderRemain = welcome.history.length > 0;
				ui.loadOlder.hidden = !this.#olderRemain;
				/** @type {ChatMessage[]} */
				const shown = [];
				for (const entry of welcome.history) if (!("kind" in entry)) shown.push(entry);
				this.#unread.welcomed(shown, welcome.readUpTo);
			}
		});
		chat.on("message", (message) => {
			this.#timeline.addEntries([message], this.#isMine);
			this.#setTyping(message.name, false);
			const mine = this.#isMine(message);
			this.#unread.arrived(message, { mine, notify: !mine && concernsViewer(message, this.#viewer) });
		});
		chat.on("reactions", ({ target, reactions }) => this.#timeline.setReactions(target, reactions));
		chat.on("edit", ({ type: _, ...entry }) => this.#timeline.addEntries([{ ...entry, kind: "edit" }], this.#isMine));
		chat.on("delete", ({ type: _, ...entry }) =>
			this.#timeline.addEntries([{ ...entry, kind: "delete" }], this.#isMine),
		);
		chat.on("members", ({ names, count }) => this.#renderMembers(names, count));
		// Faster than the room's allowance, sends wait their turn in the library: say so on each.
		chat.on("waiting", ({ clientIds, nextInMs }) => this.#timeline.showWaiting(clientIds, nextInMs));
		chat.on("leave", ({ name }) => this.#setTyping(name, false));
		// In a small room a newcomer is news, as a line in the conversation; in a big one, noise
		// (the member list and its count say it).
		chat.on("join", ({ name }) => {
			if (name !== chat.name && chat.memberCount <= SMALL_ROOM) this.#timeline.addNotice([isolated(name), " joined"]);
		});
		chat.on("presence", ({ leaves }) => {
			for (const { name } of leaves) this.#setTyping(name, false);
		});
		chat.on("typing", ({ name }) => {
			if (name !== chat.name) this.#setTyping(name, true);
		});
		chat.on("removed", (event) => {
			// Our own removal is told by the close that follows (4001 or 4003).
			if (event.userId !== chat.userId) this.#timeline.addNotice(removedNotice(event));
		});
		chat.on("settings", (event) => {
			this.#timeline.addNotice(settingsNotice(event));
			if (!this.#removed) this.#applySettings();
		});
		chat.on("error", (error) => {
			if (error.code === "bad_name") {
				localStorage.removeItem(NAME_KEY);
				this.#askName(error.message);
			} else if (error.code === "forbidden") {
				this.#timeline.addNotice(`Not allowed: ${error.message}`, { important: true });
			} else if (error.code === "not_found") {
				this.#timeline.addNotice(`That message is gone: ${error.message}`, { important: true });
			} else {
				this.#timeline.addNotice(`The room refused that: ${error.message}`);
			}
		});
	}

	/** @param {import("./client/chat.js").StateChange} change */
	#onState({ state, retryInMs, code, reason }) {
		// The browser knows it is offline before a socket does (one can stay open for a while).
		const trying = state === "connecting" || state === "open" || (state === "waiting" && code !== 429);
		if (trying && !navigator.onLine) showState("offline", OFFLINE);
		else if (state === "connecting") showState(state, "Connecting…");
		else if (state === "open") showState(state, "Connected");
		else if (code === KICKED_CLOSE_CODE || code === BANNED_CLOSE_CODE) this.#onRemoved(code, reason ?? "");
		else if (code === 401 && reason === "token expired") this.#onExpired();
		else if (code === 401 || code === 403) this.#onRefused(reason ?? "");
		else if (state === "closed") showState(state, `Disconnected (${code})`);
		else if (code === 429)
			showState(state, `Not let in yet: ${reason}; trying again in ${Math.ceil((retryInMs ?? 0) / 1000)} s`);
		else showState(state, `Connection lost; retrying in ${Math.ceil((retryInMs ?? 0) / 1000)} s`);
	}

	/**
	 * The owner gives `name`'s account a role in this room (from their next connection here).
	 * @param {string} userId
	 * @param {string} name
	 * @param {"member" | "moderator" | "readonly"} role
	 */
	#setRole(userId, name, role) {
		const words = { member: "a member", moderator: "a moderator", readonly: "read-only" }[role];
		setRole(userId, this.#room, role).then(
			() => this.#timeline.addNotice([isolated(name), ` is ${words} here from their next connection.`]),
			(error) => this.#timeline.addNotice(`Not changed: ${error.message}`, { important: true }),
		);
	}

	/**
	 * Whether an edit, delete, kick or ban went; if not, says why.
	 * @param {boolean} sent
	 */
	#command(sent) {
		if (!sent) this.#timeline.addNotice("Not connected: try again once the page is connected.", { important: true });
		return sent;
	}

	/** The link's token has expired: say so and forget it (the library does not reconnect with it). */
	#onExpired() {
		forgetToken(room);
		showState("failed", "Link expired");
		this.#timeline.addNotice("Your sign-in link has expired. Ask for a new one to join again.", { important: true });
		setComposer("Your sign-in link has expired.");
	}

	/**
	 * A moderator closed this connection: say so, and stay closed (the library does not retry).
	 * @param {number} code
	 * @param {string} reason `banned until <ISO time>` for a ban
	 */
	#onRemoved(code, reason) {
		this.#removed = true;
		this.#actions.viewer = null;
		if (code === KICKED_CLOSE_CODE) {
			showState("closed", "Removed by a moderator");
			this.#timeline.addNotice("A moderator removed you from this room.", { important: true });
			setComposer("A moderator removed you from this room. You may come back.", { rejoin: true });
		} else {
			const until = Date.parse(reason.replace(/^banned until\s*/, ""));
			const text = Number.isNaN(until)
				? "A moderator banned you from this room."
				: `A moderator banned you from this room until ${when(until)}.`;
			showState("closed", "Banned by a moderator");
			this.#timeline.addNotice(text, { important: true });
			setComposer(text);
		}
	}

	/**
	 * Signed mode: the room refused this page's upgrade (its token, or a ban); say why and stay
	 * closed (the library does not retry a refusal).
	 * @param {string} reason the server's one-line reason
	 */
	#onRefused(reason) {
		this.#removed = true;
		showState("failed", "Not let in");
		// The room's reason names headers and claims: for whoever runs the site, not the reader.
		console.warn(`edgechat: the room refused this page: ${reason}`);
		ui.you.hidden = true;
		this.#timeline.addNotice(notLetInWords(reason), { important: true });
		setComposer("You are not in this room.");
	}

	/** @param {string} error */
	#askName(error) {
		ui.nameInput.value = this.#chat.name;
		ui.joinError.textContent = error;
		if (!ui.joinDialog.open) ui.joinDialog.showModal();
		ui.nameInput.focus();
	}

	/** @param {string} raw */
	#chooseName(raw) {
		const name = raw.trim();
		if (!name) return this.#askName("Please enter a name.");
		ui.joinDialog.close();
		ui.input.focus();
		this.#chat.join(name);
	}

	/** The composer as the room's settings and this viewer's role allow: usable, or read-only saying why. */
	#applySettings() {
		if (this.#chat.role === "readonly") setComposer("Read-only: you can follow this room but not write in it.");
		else if (!this.#chat.mayPost) setComposer("This is an announcement room: only moderators can post here.");
		else setComposer(null);
	}

	/** Slow mode's interval for this viewer, in ms (0: none, or a moderator, who is exempt). */
	get #slowModeMs() {
		const seconds = this.#chat.settings?.slowModeSeconds ?? 0;
		return this.#chat.role === "moderator" ? 0 : seconds * 1000;
	}

	#submit() {
		const text = this.#composer.text;
		if (text.trim() === "") return;
		// The countdown beside the button says how long; the text stays in the box meanwhile.
		if (this.#composer.waiting) return;
		if (codePoints(text) > this.#chat.messageCap) {
			this.#timeline.addNotice(`Messages can be at most ${this.#chat.messageCap} characters.`);
			return;
		}
		const clientId = newClientId();
		const replyTo = this.#composer.replyTo;
		this.#timeline.addPending(clientId, this.#chat.name, text, replyTo);
		// Offline, it waits (marked pending) and goes out when the room welcomes us back.
		const options = replyTo ? { clientId, replyTo: replyTo.id } : { clientId };
		this.#chat.send(text, options).catch((/** @type {ChatError} */ error) => {
			this.#timeline.markFailed(clientId, refusalInWords(error));
			// Refused by the room's settings: the words come back into the box, to send later.
			if (error.code === "slow_mode" || error.code === "posting_restricted") this.#composer.restore(text);
			if (error.code === "slow_mode" && error.retryAfterMs) this.#composer.waitFor(error.retryAfterMs);
		});
		if (this.#slowModeMs > 0) this.#composer.waitFor(this.#slowModeMs);
		this.#chat.stopTyping();
		this.#composer.sent();
	}

	/** Who is looking, for reactions and mentions. */
	get #viewer() {
		return { name: this.#chat.name, userId: this.#chat.userId };
	}

	/** Whether this viewer may write (reply, react): not with a read-only token. */
	get #canWrite() {
		return this.#chat.role !== "readonly";
	}

	/**
	 * What the viewer may do with a stored message as it is shown: reply (everyone who may write),
	 * the moderation actions (signed mode), and its mark when it concerns the viewer.
	 * @param {HTMLLIElement} item
	 * @param {ChatMessage} message
	 */
	#decorate(item, message) {
		if (concernsViewer(message, this.#viewer) && !this.#isMine(message)) item.classList.add("mentions-me");
		if (this.#canWrite) {
			const reply = document.createElement("button");
			reply.type = "button";
			reply.className = "link controls reply-button";
			reply.textContent = "Reply";
			reply.setAttribute("aria-label", `Reply to ${message.name}`);
			reply.addEventListener("click", () => {
				const chars = [...message.text];
				const excerpt = chars.length > 100 ? `${chars.slice(0, 100).join("")}…` : message.text;
				this.#composer.reply({ id: message.id, name: message.name, excerpt });
			});
			item.querySelector(".meta")?.append(" ", reply);
		}
		this.#actions.decorate(item, message);
		if (!message.reactions) this.#showReactions(item, message, []);
	}

	/**
	 * @param {HTMLLIElement} item
	 * @param {ChatMessage} message
	 * @param {import("../src/wire/log-entries.ts").Reaction[]} reactions
	 */
	#showReactions(item, message, reactions) {
		const box = item.querySelector(".reactions");
		if (!(box instanceof HTMLElement)) return;
		showReactions(box, reactions, {
			viewer: this.#viewer,
			canReact: this.#canWrite,
			author: message.name,
			toggle: (emoji, on) => {
				if (!this.#chat.react(message.id, emoji, on)) this.#command(false);
			},
			reactors: (emoji) => this.#chat.reactors(message.id, emoji),
		});
	}

	/** Fetches the page before the oldest message shown and adds it above (one page at a time). */
	#loadOlder() {
		if (!this.#olderRemain || !this.#chat.joined) return Promise.resolve();
		this.#paging ??= (async () => {
			const before = this.#timeline.oldestId;
			if (before === null) {
				this.#olderRemain = false;
				return;
			}
			ui.historyStatus.textContent = "Loading earlier messages…";
			try {
				const page = await this.#chat.history({ before, limit: 50 });
				/** @type {ChatMessage[]} */
				const messages = [];
				for (const entry of page.entries) if (!("kind" in entry)) messages.push(entry);
				this.#timeline.prepend(messages, this.#isMine);
				this.#olderRemain = page.more;
				ui.historyStatus.textContent = page.more ? "" : "This is the beginning of the conversation.";
			} catch {
				ui.historyStatus.textContent = "Could not load earlier messages; try again.";
			} finally {
				ui.loadOlder.hidden = !this.#olderRemain;
				this.#paging = null;
			}
		})();
		return this.#paging;
	}

	/**
	 * Goes to message `id` (a reply's quote was followed), paging back until it is shown.
	 * @param {number} id
	 */
	async #goTo(id) {
		while (!this.#timeline.has(id) && this.#olderRemain && (this.#timeline.oldestId ?? 0) > id) {
			const before = this.#timeline.oldestId;
			await this.#loadOlder();
			if (this.#timeline.oldestId === before) break;
		}
		if (!this.#timeline.focusMessage(id)) this.#timeline.addNotice("That message is no longer in this room.");
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
		ui.typing.replaceChildren(
			...isolatedNames(names),
			names.length === 0 ? "" : names.length === 1 ? " is typing…" : " are typing…",
		);
	}

	/**
	 * @param {string[]} names
	 * @param {number} count
	 */
	#renderMembers(names, count) {
		ui.members.replaceChildren(
			...names.map((name) => {
				const item = document.createElement("li");
				item.append(isolated(name));
				if (name === this.#chat.name) item.classList.add("me");
				return item;
			}),
		);
		// A big room lists only some names (the welcome's first arrivals, then who came since):
		// the count is the room's own.
		const online = Math.max(count, names.length);
		ui.memberCount.textContent =
			online > names.length ? `${online} online, ${names.length} listed` : `${online} online`;
	}
}

if (room.length > MAX_ROOM_NAME_LENGTH || !ROOM_NAME_CHARACTERS.test(room)) {
	showState("failed", "Invalid room name");
	const timeline = new Timeline(ui.messages, ui.chat);
	timeline.addNotice(`Room names are 1 to ${MAX_ROOM_NAME_LENGTH} letters, digits, '_' or '-'. Try ?room=lobby.`);
	ui.input.disabled = ui.send.disabled = true;
} else if (token) {
	new ChatPage(room, { token });
} else {
	void start();
}

/**
 * Asks the server how people get in here: open mode opens the room at once; otherwise the page
 * joins as the account it is signed in as (or Access vouches for), or asks the reader to sign in
 * (or to add a passkey, or to make an account, when it was opened from such a link).
 */
async function start() {
	const link = takeLink();
	const me = await whoAmI().catch(() => null);
	if (me === null || (me.ways.open && link === null)) {
		new ChatPage(room, {});
		return;
	}
	const accounts = new AccountUi((id) => element(id, HTMLElement), me, {
		onSignedIn: async (account) => {
			if (account) accounts.showSignedIn(account);
			const owner = account ? Boolean((await whoAmI()).owner) : false;
			new ChatPage(room, { signedIn: true, owner });
		},
	});
	if (me.account && link === null) {
		accounts.showSignedIn(me.account);
		new ChatPage(room, { signedIn: true, owner: Boolean(me.owner) });
	} else if (!me.ways.passkeys && link === null) {
		// Nothing to sign in with on this page (tokens come in a link, Access before the page):
		// a guest reads, anyone else is told by the room why it is not let in.
		new ChatPage(room, me.ways.guests === "none" ? {} : { signedIn: true });
	} else {
		showState("connecting", "Sign in to join");
		accounts.askToSignIn(link);
	}
}
