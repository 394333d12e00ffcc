// @ts-check
/**
 * The message list: stored messages in id order with day separators and times, and below them
 * the sender's own messages still on their way (optimistic copies with a pending mark). Live
 * messages are added at the end; a page of older ones (scroll-back) is added at the top without
 * moving what the reader is looking at. Edits and deletes (signed mode) change a shown message in
 * place: its new text with an "(edited)" mark, or "message deleted" where it was. A "New
 * messages" divider can mark where the reader left off. Each message is built by message-view.js,
 * which sets everything a user wrote as text, never as markup.
 */

import { fold, messageItem, textNodes } from "./message-view.js";

/** @import { ChatMessage, LogEntry, Reaction, ReplyQuote } from "../src/wire/log-entries.ts" */

/**
 * What the page adds to a stored message as it is first shown: what the viewer may do with it,
 * and its reactions (`reactions`, also called again when they change).
 * @typedef {object} Hooks
 * @property {(item: HTMLLIElement, message: ChatMessage) => void} decorate
 * @property {(item: HTMLLIElement, message: ChatMessage, reactions: Reaction[]) => void} reactions
 * @property {(replyTo: ReplyQuote) => void} quote a reply's quote was activated
 */

/** What a deleted message shows instead of its text. */
export const DELETED_TEXT = "message deleted";

/** Past this many messages the oldest are dropped while the reader follows the live end. */
const MAX_RENDERED = 2_000;

/**
 * A message within this long of its author's previous one, on the same day, with nothing between
 * them, joins it as its continuation: shown under it without a name and time of its own, as the
 * chats people use group a run of messages (Slack, Discord and Element use a few minutes too).
 */
const GROUP_MS = 5 * 60_000;

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

/** The rendered conversation of one room. */
export class Timeline {
	/** @type {HTMLOListElement} */ #list;
	/** @type {HTMLElement} */ #scroller;
	/** @type {Hooks | null} */ #hooks;
	/** Ids already handled: a replayed or repeated entry is never applied twice. */
	#seen = new Set();
	/** Stored messages on the page by id, with what they were built from. @type {Map<number, { item: HTMLLIElement, message: ChatMessage }>} */
	#items = new Map();
	/** Pending items by clientId. @type {Map<string, HTMLLIElement>} */
	#pending = new Map();

	/** Shown while messages arrived below what the reader, scrolled up, is looking at. @type {HTMLButtonElement | null} */
	#newMessages;

	/**
	 * @param {HTMLOListElement} list
	 * @param {HTMLElement} scroller the element that scrolls
	 * @param {Hooks} [hooks]
	 * @param {HTMLButtonElement} [newMessages] the "New messages" button: shown when a message
	 *   arrives while the reader is scrolled up, it takes them down to the end
	 */
	constructor(list, scroller, hooks, newMessages) {
		this.#list = list;
		this.#scroller = scroller;
		this.#hooks = hooks ?? null;
		this.#newMessages = newMessages ?? null;
		newMessages?.addEventListener("click", () => {
			this.#scrollToEnd();
			newMessages.hidden = true;
		});
		scroller.addEventListener("scroll", () => {
			if (newMessages && !newMessages.hidden && this.#nearBottom()) newMessages.hidden = true;
		});
	}

	/** The oldest stored message shown (what to page back from), or `null`. */
	get oldestId() {
		const first = this.#list.querySelector("li.message[data-id]");
		return first instanceof HTMLLIElement ? Number(first.dataset.id) : null;
	}

	/** Whether message `id` is shown. @param {number} id */
	has(id) {
		return this.#items.has(id);
	}

	/**
	 * Applies log entries (history or live) in id order: shows new messages at the end,
	 * replacing the pending copy of any that this page sent, and applies edits, deletes and
	 * reactions to the messages shown. Entries already handled are skipped.
	 * @param {LogEntry[]} entries
	 * @param {(message: ChatMessage) => boolean} isMine whether a message is this page's user's
	 */
	addEntries(entries, isMine) {
		const stick = this.#nearBottom();
		for (const entry of [...entries].sort((a, b) => a.id - b.id)) {
			if (this.#seen.has(entry.id)) continue;
			this.#seen.add(entry.id);
			if (!("kind" in entry)) {
				this.#insert(entry, isMine(entry), "end");
				if (!stick && this.#newMessages) this.#newMessages.hidden = false;
			} else if (entry.kind === "edit") this.#edit(entry.target, entry.text);
			else if (entry.kind === "delete") this.#delete(entry.target);
			else this.setReactions(entry.target, entry.reactions);
		}
		if (stick) {
			this.#trim();
			this.#scrollToEnd();
		}
	}

	/**
	 * Adds a page of older messages (as they stand now) above the oldest shown, keeping what the
	 * reader looks at where it is on the screen.
	 * @param {ChatMessage[]} messages oldest first
	 * @param {(message: ChatMessage) => boolean} isMine
	 */
	prepend(messages, isMine) {
		// What the reader looks at: the first message in view. The page above can change its height
		// too (it may now continue the page's last message), so it, not the list's height, is kept.
		const view = this.#scroller.getBoundingClientRect().top;
		const anchor = [...this.#list.querySelectorAll("li.message")].find(
			(item) => item.getBoundingClientRect().bottom > view,
		);
		const anchorTop = anchor?.getBoundingClientRect().top ?? 0;
		const before = this.#scroller.scrollHeight;
		const top = this.#scroller.scrollTop;
		const oldest = this.#list.querySelector("li.message[data-id], li.pending");
		for (const message of messages) {
			if (this.#seen.has(message.id)) continue;
			this.#seen.add(message.id);
			// Above the oldest's day heading while it has one, so that this message's own heading
			// comes first and the oldest's, no longer the first of its day, is taken away.
			const heading = oldest?.previousElementSibling;
			this.#insert(message, isMine(message), heading?.classList.contains("day") ? heading : oldest);
		}
		if (anchor) this.#scroller.scrollTop = top + (anchor.getBoundingClientRect().top - anchorTop);
		else this.#scroller.scrollTop = top + (this.#scroller.scrollHeight - before);
	}

	/**
	 * Shows message `target`'s reactions as they now stand.
	 * @param {number} target
	 * @param {Reaction[]} reactions
	 */
	setReactions(target, reactions) {
		const shown = this.#items.get(target);
		if (!shown || shown.item.classList.contains("deleted")) return;
		shown.message = { ...shown.message, reactions };
		this.#hooks?.reactions(shown.item, shown.message, reactions);
	}

	/**
	 * Brings message `id` into view and gives it focus (a reply's quote was followed).
	 * @param {number} id
	 * @returns {boolean} whether it is shown
	 */
	focusMessage(id) {
		const item = this.#items.get(id)?.item;
		if (!item) return false;
		item.tabIndex = -1;
		item.scrollIntoView({ block: "center" });
		item.focus({ preventScroll: true });
		item.classList.add("highlight");
		setTimeout(() => item.classList.remove("highlight"), 2_000);
		return true;
	}

	/**
	 * Puts the "New messages" divider before message `id` (one at a time; 0 removes it).
	 * @param {number} id
	 */
	divideBefore(id) {
		this.#list.querySelector("li.divider")?.remove();
		const item = this.#items.get(id)?.item;
		if (!item) return;
		// An item like every child of the list; the separator is inside it, named for screen readers.
		const divider = document.createElement("li");
		divider.className = "divider";
		const line = document.createElement("span");
		line.setAttribute("role", "separator");
		line.setAttribute("aria-label", "New messages");
		line.textContent = "New messages";
		divider.append(line);
		const day = item.previousElementSibling?.classList.contains("day") ? item.previousElementSibling : item;
		this.#list.insertBefore(divider, day);
	}

	/**
	 * Shows one stored message before `next` (or at the end), with the day's heading before it
	 * when the message before it is from another day, and without a repeated heading after it.
	 * @param {ChatMessage} message
	 * @param {boolean} mine
	 * @param {Element | null | "end"} where before which element (`end`: after every stored one)
	 */
	#insert(message, mine, where) {
		if (message.clientId !== null) {
			this.#pending.get(message.clientId)?.remove();
			this.#pending.delete(message.clientId);
		}
		// Stored messages go above the pending ones (taken out just above when this is one of them).
		const next = where === "end" ? this.#firstPending() : where;
		const day = dayKey(new Date(message.ts));
		const item = messageItem({ ...message, mine }, (replyTo) => this.#hooks?.quote(replyTo));
		item.dataset.id = String(message.id);
		item.dataset.day = day;
		item.dataset.author = message.api ? `api:${message.name}` : (message.userId ?? `name:${message.name}`);
		item.dataset.ts = String(message.ts);
		const previous = previousMessage(next, this.#list);
		if (previous?.dataset.day !== day) this.#list.insertBefore(dayHeading(message.ts, day), next);
		this.#list.insertBefore(item, next);
		const following = nextMessage(item);
		// The next message's heading is this day's too: it now follows this message, not its own.
		if (following?.dataset.day === day && following.previousElementSibling?.classList.contains("day")) {
			following.previousElementSibling.remove();
		}
		groupWithPrevious(item);
		if (following) groupWithPrevious(following);
		this.#items.set(message.id, { item, message });
		this.#hooks?.decorate(item, message);
		if (message.reactions) this.#hooks?.reactions(item, message, message.reactions);
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
		const shown = this.#items.get(target);
		if (!shown || shown.item.classList.contains("deleted")) return;
		const { item } = shown;
		const body = item.querySelector(".text");
		// Rendered as a new message's text is: its links clickable, its mentions (the message's own) marked.
		if (body instanceof HTMLElement) {
			body.replaceChildren(...textNodes(text, shown.message.mentions ?? []));
			fold(body, text);
		}
		if (!item.querySelector(".edited")) {
			const mark = document.createElement("span");
			mark.className = "edited";
			mark.textContent = "(edited)";
			item.querySelector(".meta")?.append(" ", mark);
		}
	}

	/**
	 * Shows "message deleted" in message `target`'s place, without its actions or reactions.
	 * @param {number} target
	 */
	#delete(target) {
		const item = this.#items.get(target)?.item;
		if (!item) return;
		const hadFocus = item.contains(document.activeElement);
		item.classList.add("deleted");
		for (const gone of item.querySelectorAll(".edited, .actions, .edit-form, .controls, .reactions > *")) gone.remove();
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
	}

	/**
	 * Shows a message this page is sending, marked pending until the room stores it.
	 * @param {string} clientId
	 * @param {string} name
	 * @param {string} text
	 * @param {ReplyQuote | null} replyTo
	 */
	addPending(clientId, name, text, replyTo = null) {
		const item = messageItem({ name, text, ts: null, mine: true, ...(replyTo ? { replyTo } : {}) });
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
	 * Says which pending messages wait for the room's allowance (the library paces the page's
	 * sends): the first goes in `nextInMs`, the others after it; the rest are on their way.
	 * @param {readonly string[]} clientIds the waiting sends, oldest first
	 * @param {number} nextInMs
	 */
	showWaiting(clientIds, nextInMs) {
		const order = new Map(clientIds.map((clientId, index) => [clientId, index]));
		for (const [clientId, item] of this.#pending) {
			const state = item.querySelector(".state");
			if (!state) continue;
			const index = order.get(clientId);
			if (index === undefined) state.textContent = "sending…";
			else if (index === 0) state.textContent = `sending in ${Math.max(1, Math.ceil(nextInMs / 1000))} s`;
			else state.textContent = "waiting its turn";
		}
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
	 * @param {string | readonly (string | Node)[]} text the line, or its parts (names as `<bdi>`s)
	 * @param {{ important?: boolean }} [options] `important`: something went wrong or the user must act, shown as such
	 */
	addNotice(text, { important = false } = {}) {
		const item = document.createElement("li");
		item.className = important ? "notice important" : "notice";
		item.append(...(typeof text === "string" ? [text] : text));
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

	/** Drops the oldest messages past `MAX_RENDERED` (scroll-back brings them again). */
	#trim() {
		while (this.#items.size > MAX_RENDERED) {
			const first = this.#list.firstElementChild;
			if (!first || first.classList.contains("pending")) break;
			first.remove();
			if (first instanceof HTMLLIElement && first.dataset.id) {
				this.#items.delete(Number(first.dataset.id));
				this.#seen.delete(Number(first.dataset.id));
			}
		}
	}
}

/** A day's heading, as a list item (a list holds only items) titled by a heading. */
function dayHeading(/** @type {number} */ ts, /** @type {string} */ day) {
	const item = document.createElement("li");
	item.className = "day";
	item.dataset.day = day;
	const heading = document.createElement("h2");
	heading.className = "day-title";
	heading.textContent = dayLabel(new Date(ts));
	item.append(heading);
	return item;
}

/**
 * The last stored message before `next` (or before the end).
 * @param {Element | null} next
 * @param {HTMLOListElement} list
 * @returns {HTMLLIElement | null}
 */
function previousMessage(next, list) {
	let at = next ? next.previousElementSibling : list.lastElementChild;
	while (at && !(at instanceof HTMLLIElement && at.classList.contains("message") && at.dataset.id)) {
		at = at.previousElementSibling;
	}
	return at;
}

/**
 * Marks `item` a continuation of the message right before it (`continued`) when both are one
 * author's, within `GROUP_MS`, and `item` is not a reply (its quote starts a new thought).
 * @param {HTMLLIElement} item
 */
function groupWithPrevious(item) {
	const previous = item.previousElementSibling;
	const continues =
		previous instanceof HTMLLIElement &&
		previous.classList.contains("message") &&
		previous.dataset.id !== undefined &&
		previous.dataset.author === item.dataset.author &&
		previous.dataset.day === item.dataset.day &&
		Number(item.dataset.ts) - Number(previous.dataset.ts) < GROUP_MS &&
		item.querySelector(":scope > .quote") === null;
	item.classList.toggle("continued", continues);
}

/**
 * The next stored message after `item`.
 * @param {Element} item
 * @returns {HTMLLIElement | null}
 */
function nextMessage(item) {
	let at = item.nextElementSibling;
	while (at && !(at instanceof HTMLLIElement && at.classList.contains("message") && at.dataset.id)) {
		at = at.nextElementSibling;
	}
	return at;
}
