// @ts-check
/**
 * The composer: a text box that grows with its text, where Enter sends and Shift+Enter starts a
 * new line (line breaks are kept: the room takes up to `messageCap` code points); on a touch
 * screen, whose keyboard has no Shift+Enter, Enter starts a new line and the Send button sends;
 * a counter that
 * appears near the cap and says how many characters are left (or how many too many), and the
 * quote of the message being answered, above the box, until it is sent or cancelled (Escape, or
 * the Cancel button). In a room with slow mode, the Send button waits out the interval with a
 * countdown beside it, while the box stays editable; a message the room refused comes back into
 * the box so nothing typed is lost.
 */

import { isolated } from "./message-view.js";

/** @import { ReplyQuote } from "../src/wire/log-entries.ts" */

/** The counter shows once fewer than this many code points are left (or a tenth of the cap). */
const COUNT_FROM = 200;
/** The box grows up to this many lines, then scrolls. */
const MAX_ROWS = 8;

/**
 * A touch screen with no mouse: its keyboard's Enter key is the only way to a new line (there is
 * no Shift), so there Enter does that, and the Send button sends (as in phone chat apps).
 */
const TOUCH_ONLY = "(pointer: coarse) and (hover: none)";
/** Wide enough, with a keyboard, for the placeholder to say how to start a new line on one line. */
const ROOM_FOR_HINT = "(pointer: fine) and (min-width: 40rem)";

/**
 * @typedef {object} ComposerParts
 * @property {HTMLFormElement} form
 * @property {HTMLTextAreaElement} input
 * @property {HTMLElement} count
 * @property {HTMLElement} reply the reply preview (hidden when not replying)
 * @property {HTMLElement} replyText
 * @property {HTMLButtonElement} replyCancel
 * @property {HTMLButtonElement} send
 * @property {HTMLElement} wait the slow-mode countdown (hidden when there is none)
 */

/** Code points in `text` (what the room counts). @param {string} text */
export function codePoints(text) {
	return [...text].length;
}

/** The message box and what sits around it. */
export class Composer {
	/** @type {ComposerParts} */ #parts;
	#cap = Number.POSITIVE_INFINITY;
	/** The message being answered. @type {ReplyQuote | null} */ #replyTo = null;
	/** When the slow-mode wait ends (ms since the epoch; 0: none), and its ticking timer. */
	#waitUntil = 0;
	/** @type {ReturnType<typeof setInterval> | null} */ #ticking = null;

	/**
	 * @param {ComposerParts} parts
	 * @param {() => void} submit called for Enter and the Send button
	 */
	constructor(parts, submit) {
		this.#parts = parts;
		const touchOnly = matchMedia(TOUCH_ONLY).matches;
		parts.input.enterKeyHint = touchOnly ? "enter" : "send";
		parts.input.placeholder = matchMedia(ROOM_FOR_HINT).matches
			? "Write a message… (Shift+Enter for a new line)"
			: "Write a message…";
		parts.input.addEventListener("keydown", (event) => {
			if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !touchOnly) {
				event.preventDefault();
				submit();
			} else if (event.key === "Escape" && this.#replyTo) {
				event.preventDefault();
				this.cancelReply();
			}
		});
		parts.input.addEventListener("input", () => this.#update());
		parts.replyCancel.addEventListener("click", () => this.cancelReply());
		this.#update();
	}

	/** The longest text the room takes (from its welcome). @param {number} cap */
	set cap(cap) {
		this.#cap = cap;
		this.#update();
	}

	/** The text as typed. */
	get text() {
		return this.#parts.input.value;
	}

	/** The message being answered, if any. */
	get replyTo() {
		return this.#replyTo;
	}

	/**
	 * Answers `quote`'s message with the next send: its quote shows above the box, focus goes to it.
	 * @param {ReplyQuote} quote
	 */
	reply(quote) {
		this.#replyTo = quote;
		this.#parts.replyText.replaceChildren("Replying to ", isolated(quote.name), ": ", isolated(quote.excerpt));
		this.#parts.reply.hidden = false;
		this.#parts.input.focus();
	}

	/** Stops answering (the quote goes); focus stays in the box. */
	cancelReply() {
		this.#replyTo = null;
		this.#parts.reply.hidden = true;
		this.#parts.replyText.textContent = "";
		this.#parts.input.focus();
	}

	/** Whether the Send button is waiting out slow mode. */
	get waiting() {
		return this.#waitUntil > Date.now();
	}

	/**
	 * Slow mode: the next message may go in `ms`. The Send button waits, with a countdown in
	 * whole seconds beside it; the box stays editable.
	 * @param {number} ms
	 */
	waitFor(ms) {
		this.#waitUntil = Date.now() + ms;
		if (this.#ticking !== null) clearInterval(this.#ticking);
		this.#ticking = setInterval(() => this.#tick(), 250);
		this.#tick();
	}

	/**
	 * A message the room refused comes back into the box, unless something new was typed there.
	 * @param {string} text
	 */
	restore(text) {
		if (this.#parts.input.value !== "") return;
		this.#parts.input.value = text;
		this.#update();
	}

	#tick() {
		const { send, wait } = this.#parts;
		const left = this.#waitUntil - Date.now();
		if (left <= 0) {
			if (this.#ticking !== null) clearInterval(this.#ticking);
			this.#ticking = null;
			wait.hidden = true;
			wait.textContent = "";
			send.removeAttribute("aria-disabled");
			return;
		}
		wait.hidden = false;
		wait.textContent = `Slow mode: you can send again in ${Math.ceil(left / 1000)} s`;
		// aria-disabled, not disabled: the button keeps its place in the tab order and says why.
		send.setAttribute("aria-disabled", "true");
	}

	/** The text went out: the box empties and the reply is done. */
	sent() {
		this.#parts.input.value = "";
		if (this.#replyTo) this.cancelReply();
		this.#update();
		this.#parts.input.focus();
	}

	/** Grows the box with its text and shows the counter near the cap. */
	#update() {
		const { input, count } = this.#parts;
		const lines = input.value.split("\n").length;
		input.rows = Math.min(MAX_ROWS, Math.max(1, lines));
		const left = this.#cap - codePoints(input.value);
		const near = Number.isFinite(this.#cap) && left < Math.max(COUNT_FROM, this.#cap / 10);
		count.hidden = !near;
		count.textContent = !near ? "" : left >= 0 ? `${left} characters left` : `${-left} characters too many`;
		count.classList.toggle("over", left < 0);
	}
}
