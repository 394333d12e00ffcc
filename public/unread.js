// @ts-check
/**
 * Unread messages, for a reader who looks away: while the tab is hidden, messages from others
 * count in the tab's title ("(3) lobby · edgechat"), and a mention of the reader or a reply to
 * the reader raises a browser notification (if the reader allowed them, which the page asks only
 * from a click, never on load). When the tab is shown again, a "New messages" divider marks where
 * the reader left off.
 *
 * The read position (the highest log id the reader has seen with the tab shown) is kept per room
 * in `localStorage`; in signed mode the room keeps it per user too (`read`), so it follows the
 * user to another device, and a welcome's `readUpTo` moves it forward. On load, the divider goes
 * before the first message past it.
 */

/** @import { ChatMessage } from "../src/wire/log-entries.ts" */

/** `localStorage` key prefix for read positions; the room's name follows. */
const KEY_PREFIX = "edgechat.read.";
/** The room is told of the read position at most this often while the reader reads along. */
const REPORT_EVERY_MS = 2_000;

/**
 * What the unread tracker needs from the page.
 * @typedef {object} UnreadHooks
 * @property {(id: number) => void} divideBefore puts the divider before message `id` (or removes it for 0)
 * @property {(id: number) => void} report signed mode: tells the room the read position
 */

/** One room's unread count, divider, notifications and read position. */
export class Unread {
	/** @type {string} */ #room;
	/** @type {string} */ #title;
	/** @type {UnreadHooks} */ #hooks;
	/** The highest id read (seen with the tab shown). */
	#readUpTo;
	/** The highest id the page has. */
	#newest = 0;
	/** Messages from others since the tab was hidden. */
	#count = 0;
	/** The first of them, where the divider goes on return. */
	#firstUnread = 0;
	/** When the room was last told the read position, and whether a report waits. */
	#reportedAt = 0;
	/** @type {ReturnType<typeof setTimeout> | undefined} */ #reportTimer;

	/**
	 * @param {string} room
	 * @param {UnreadHooks} hooks
	 */
	constructor(room, hooks) {
		this.#room = room;
		this.#title = document.title;
		this.#hooks = hooks;
		this.#readUpTo = Number(localStorage.getItem(KEY_PREFIX + room) ?? 0) || 0;
		document.addEventListener("visibilitychange", () => {
			if (!document.hidden) this.#returned();
		});
	}

	/**
	 * A welcome's history is shown: the divider goes before the first message past the read
	 * position (the room's, in signed mode, if it is further), if any is.
	 * @param {ChatMessage[]} messages
	 * @param {number | undefined} roomReadUpTo
	 */
	welcomed(messages, roomReadUpTo) {
		this.#readUpTo = Math.max(this.#readUpTo, roomReadUpTo ?? 0);
		const first = messages.find((message) => message.id > this.#readUpTo);
		const newest = messages.at(-1)?.id ?? 0;
		this.#newest = Math.max(this.#newest, newest);
		if (first && this.#readUpTo > 0) this.#hooks.divideBefore(first.id);
		if (!document.hidden) this.#read(this.#newest);
	}

	/**
	 * A live message arrived. While the tab is hidden, one from someone else counts, and one that
	 * concerns the reader (`notify`) raises a notification.
	 * @param {ChatMessage} message
	 * @param {{ mine: boolean, notify: boolean }} about
	 */
	arrived(message, { mine, notify }) {
		this.#newest = Math.max(this.#newest, message.id);
		if (!document.hidden || mine) {
			if (!document.hidden) this.#read(message.id);
			return;
		}
		this.#count++;
		if (this.#firstUnread === 0) this.#firstUnread = message.id;
		document.title = `(${this.#count}) ${this.#title}`;
		if (notify && "Notification" in window && Notification.permission === "granted") {
			// A title is plain text, where no <bdi> goes: the name sits between the characters that
			// isolate it in plain text (FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE).
			const notice = new Notification(`\u2068${message.name}\u2069 in ${this.#room}`, {
				body: message.text,
				tag: `edgechat-${this.#room}`,
			});
			notice.addEventListener("click", () => window.focus());
		}
	}

	/** How many unread messages the title shows. */
	get count() {
		return this.#count;
	}

	/** The tab is shown again: the divider marks where the reader left off, and all is read. */
	#returned() {
		if (this.#count > 0) this.#hooks.divideBefore(this.#firstUnread);
		this.#count = 0;
		this.#firstUnread = 0;
		document.title = this.#title;
		this.#read(this.#newest);
	}

	/** @param {number} id */
	#read(id) {
		if (id <= this.#readUpTo) return;
		this.#readUpTo = id;
		localStorage.setItem(KEY_PREFIX + this.#room, String(id));
		const wait = this.#reportedAt + REPORT_EVERY_MS - Date.now();
		if (wait <= 0) this.#report();
		else this.#reportTimer ??= setTimeout(() => this.#report(), wait);
	}

	#report() {
		this.#reportTimer = undefined;
		this.#reportedAt = Date.now();
		this.#hooks.report(this.#readUpTo);
	}
}
