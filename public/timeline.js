// @ts-check
/**
 * The message list: stored messages in id order with day separators and times, and below them
 * the sender's own messages still on their way (optimistic copies with a pending mark). Edits
 * and deletes (signed mode) change a shown message in place: its new text with an "(edited)"
 * mark, or "message deleted" where it was. Every message is rendered with `textContent`: a
 * message is text, never markup.
 */

/** @import { ChatMessage, LogEntry } from "../src/wire/protocol.ts" */

/**
 * Called for each stored message as it is first shown, to add what the viewer may do with it.
 * @typedef {(item: HTMLLIElement, message: ChatMessage) => void} Decorate
 */

/** What a deleted message shows instead of its text. */
export const DELETED_TEXT = "message deleted";

/** Oldest messages are dropped from the page past this many, so a long session stays light. */
const MAX_RENDERED = 500;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, {
	weekday: "long",
	day: "numeric",
	month: "long",
	year: "numeric",
});

/** @param {Date} date */
function dayKey(date) {
	return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

/** @param {Date} date */
function dayLabel(date) {
	const today = new Date();
	const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
	if (dayKey(date) === dayKey(today)) return "Today";
	if (dayKey(date) === dayKey(yesterday)) return "Yesterday";
	return dayFormat.format(date);
}

/**
 * Builds one message item.
 * @param {{ name: string, text: string, ts: number | null, mine: boolean }} message
 */
function messageItem({ name, text, ts, mine }) {
	const item = document.createElement("li");
	item.className = mine ? "message mine" : "message";
	const meta = document.createElement("div");
	meta.className = "meta";
	const author = document.createElement("span");
	author.className = "author";
	author.textContent = name;
	meta.append(author);
	if (ts !== null) {
		const time = document.createElement("time");
		time.dateTime = new Date(ts).toISOString();
		time.textContent = timeFormat.format(ts);
		meta.append(" ", time);
	}
	const body = document.createElement("p");
	body.className = "text";
	body.textContent = text;
	item.append(meta, body);
	return item;
}

/** The rendered conversation of one room. */
export class Timeline {
	/** @type {HTMLOListElement} */ #list;
	/** @type {HTMLElement} */ #scroller;
	/** Ids already handled: a replayed or repeated entry is never applied twice. */
	#seen = new Set();
	/** Stored messages on the page by id, for edits and deletes. @type {Map<number, HTMLLIElement>} */
	#items = new Map();
	/** @type {Decorate} */ #decorate;
	/** Pending items by clientId. @type {Map<string, HTMLLIElement>} */
	#pending = new Map();
	#lastDay = "";

	/**
	 * @param {HTMLOListElement} list
	 * @param {HTMLElement} scroller the element that scrolls
	 * @param {Decorate} [decorate]
	 */
	constructor(list, scroller, decorate = () => {}) {
		this.#list = list;
		this.#scroller = scroller;
		this.#decorate = decorate;
	}

	/**
	 * Applies log entries (history or live) in id order: shows new messages, replacing the
	 * pending copy of any that this page sent, and applies edits and deletes to the messages
	 * shown (those of messages not shown, older than the replayed window, change nothing).
	 * Entries already handled are skipped.
	 * @param {LogEntry[]} entries
	 * @param {(message: ChatMessage) => boolean} isMine whether a message is this page's user's
	 */
	addEntries(entries, isMine) {
		const stick = this.#nearBottom();
		for (const entry of [...entries].sort((a, b) => a.id - b.id)) {
			if (this.#seen.has(entry.id)) continue;
			this.#seen.add(entry.id);
			if (!("kind" in entry)) this.#addMessage(entry, isMine(entry));
			else if (entry.kind === "edit") this.#edit(entry.target, entry.text);
			else this.#delete(entry.target);
		}
		this.#trim();
		if (stick) this.#scrollToEnd();
	}

	/**
	 * @param {ChatMessage} message
	 * @param {boolean} mine
	 */
	#addMessage(message, mine) {
		if (message.clientId !== null) {
			this.#pending.get(message.clientId)?.remove();
			this.#pending.delete(message.clientId);
		}
		const date = new Date(message.ts);
		if (dayKey(date) !== this.#lastDay) {
			this.#lastDay = dayKey(date);
			// A list item like the messages (a list holds only items), titled by a heading: a
			// screen reader announces the day and can jump from day to day.
			const day = document.createElement("li");
			day.className = "day";
			const heading = document.createElement("h2");
			heading.className = "day-title";
			heading.textContent = dayLabel(date);
			day.append(heading);
			this.#list.insertBefore(day, this.#firstPending());
		}
		const item = messageItem({ ...message, mine });
		item.dataset.id = String(message.id);
		this.#list.insertBefore(item, this.#firstPending());
		this.#items.set(message.id, item);
		this.#decorate(item, message);
		// From a welcome or a history page, a message comes as it stands now.
		if (message.deleted) this.#delete(message.id);
		else if (message.edited) this.#edit(message.id, message.text);
	}

	/**
	 * Shows message `target`'s new text, marked "(edited)".
	 * @param {number} target
	 * @param {string} text
	 */
	#edit(target, text) {
		const item = this.#items.get(target);
		if (!item || item.classList.contains("deleted")) return;
		const body = item.querySelector(".text");
		if (body) body.textContent = text;
		if (!item.querySelector(".edited")) {
			const mark = document.createElement("span");
			mark.className = "edited";
			mark.textContent = "(edited)";
			item.querySelector(".meta")?.append(" ", mark);
		}
	}

	/**
	 * Shows "message deleted" in message `target`'s place, without its actions.
	 * @param {number} target
	 */
	#delete(target) {
		const item = this.#items.get(target);
		if (!item) return;
		const hadFocus = item.contains(document.activeElement);
		item.classList.add("deleted");
		for (const gone of item.querySelectorAll(".edited, .actions, .edit-form")) gone.remove();
		const body = item.querySelector(".text");
		if (body instanceof HTMLElement) {
			body.hidden = false;
			body.textContent = DELETED_TEXT;
		}
		// Focus was on its actions (now gone): keep it in the conversation, not lost to <body>.
		if (hadFocus) {
			item.tabIndex = -1;
			item.focus();
		}
	}

	/** Forgets every stored message shown (the room lost its history); pending ones stay. */
	clearStored() {
		for (const item of [...this.#list.children]) if (!item.classList.contains("pending")) item.remove();
		this.#seen.clear();
		this.#items.clear();
		this.#lastDay = "";
	}

	/**
	 * Shows a message this page is sending, marked pending until the room stores it.
	 * @param {string} clientId
	 * @param {string} name
	 * @param {string} text
	 */
	addPending(clientId, name, text) {
		const item = messageItem({ name, text, ts: null, mine: true });
		item.classList.add("pending");
		item.dataset.clientId = clientId;
		const state = document.createElement("span");
		state.className = "state";
		state.textContent = "sending…";
		item.querySelector(".meta")?.append(" ", state);
		this.#list.append(item);
		this.#pending.set(clientId, item);
		this.#scrollToEnd();
	}

	/**
	 * Marks a pending message as refused by the room, with the reason.
	 * @param {string} clientId
	 * @param {string} reason
	 */
	markFailed(clientId, reason) {
		const item = this.#pending.get(clientId);
		if (!item) return;
		this.#pending.delete(clientId);
		item.classList.replace("pending", "failed");
		const state = item.querySelector(".state");
		if (state) state.textContent = `not sent: ${reason}`;
	}

	/**
	 * Adds a line from the page itself (not a chat message).
	 * @param {string} text
	 * @param {boolean} [important] something went wrong or the user must act: shown as such
	 */
	addNotice(text, important = false) {
		const item = document.createElement("li");
		item.className = important ? "notice important" : "notice";
		item.textContent = text;
		this.#list.insertBefore(item, this.#firstPending());
		this.#scrollToEnd();
	}

	/** Stored messages go above the pending ones, which stay at the end in the order sent. */
	#firstPending() {
		return this.#pending.values().next().value ?? null;
	}

	#nearBottom() {
		const s = this.#scroller;
		return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
	}

	#scrollToEnd() {
		this.#scroller.scrollTop = this.#scroller.scrollHeight;
	}

	#trim() {
		while (this.#list.childElementCount > MAX_RENDERED) {
			const first = this.#list.firstElementChild;
			if (!first || first.classList.contains("pending")) break;
			first.remove();
			if (first instanceof HTMLLIElement && first.dataset.id) this.#items.delete(Number(first.dataset.id));
		}
	}
}
