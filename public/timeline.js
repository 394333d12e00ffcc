// @ts-check
/**
 * The message list: stored messages in id order with day separators and times, and below them
 * the sender's own messages still on their way (optimistic copies with a pending mark). Every
 * message is rendered with `textContent`: a message is text, never markup.
 */

/** @import { ChatMessage } from "../src/protocol.ts" */

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
	/** Ids already on the page: a replayed or repeated message is never shown twice. */
	#seen = new Set();
	/** Pending items by clientId. @type {Map<string, HTMLLIElement>} */
	#pending = new Map();
	#lastDay = "";
	#highestId = 0;

	/**
	 * @param {HTMLOListElement} list
	 * @param {HTMLElement} scroller the element that scrolls
	 */
	constructor(list, scroller) {
		this.#list = list;
		this.#scroller = scroller;
	}

	/** The highest message id shown: what to resume from after a reconnect. */
	get highestId() {
		return this.#highestId;
	}

	/**
	 * Shows stored messages (history or live), skipping any already shown, and replaces the
	 * pending copy of any that this page sent.
	 * @param {ChatMessage[]} messages oldest first
	 * @param {string} myName
	 */
	addMessages(messages, myName) {
		const stick = this.#nearBottom();
		for (const message of messages) {
			if (this.#seen.has(message.id)) continue;
			this.#seen.add(message.id);
			this.#highestId = Math.max(this.#highestId, message.id);
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
			const item = messageItem({ ...message, mine: message.name === myName });
			item.dataset.id = String(message.id);
			this.#list.insertBefore(item, this.#firstPending());
		}
		this.#trim();
		if (stick) this.#scrollToEnd();
	}

	/** Forgets every stored message shown (the room lost its history); pending ones stay. */
	clearStored() {
		for (const item of [...this.#list.children]) if (!item.classList.contains("pending")) item.remove();
		this.#seen.clear();
		this.#highestId = 0;
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
	 */
	addNotice(text) {
		const item = document.createElement("li");
		item.className = "notice";
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
		}
	}
}
