// @ts-check
/**
 * One message as the page shows it: who and when, the quote of the message it replies to, its
 * text with line breaks kept, links made clickable (found by linkifyjs: http and https only,
 * opened with `rel="noopener noreferrer nofollow"`) and mentions marked, and a place for its
 * reactions. Everything a user wrote is set as text (`textContent`, text nodes): nothing in a
 * message is ever read as HTML.
 *
 * Names and texts are user input, in any script: a right-to-left name followed by a time or by
 * more words would pull them into its own run and reorder them ("12:30 יעל" for "יעל 12:30").
 * So every name the page shows beside other text is a `<bdi>` ({@link isolated}), which the
 * browser lays out as a unit with its own direction, and a message's text takes its direction
 * from its first strong letter (`dir="auto"`).
 */

import { find } from "linkifyjs";

/** @import { ChatMessage, ReplyQuote } from "../src/wire/log-entries.ts" */

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/**
 * The characters that change the direction of the text after them (embeddings, overrides,
 * isolates, and the marks): a right-to-left override inside a link's text could show
 * `https://example.com/<U+202E>fdp.exe` as "https://example.com/exe.pdf".
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * `text` (a name, an excerpt) as a unit in the sentence around it: a `<bdi>`, whose direction is
 * its own text's and which neither reorders its neighbours nor is reordered by them.
 * @param {string} text
 * @param {string} [className]
 * @returns {HTMLElement}
 */
export function isolated(text, className) {
	const bdi = document.createElement("bdi");
	if (className) bdi.className = className;
	bdi.textContent = text;
	return bdi;
}

/**
 * Names in a list ("ann, bob, cy"), each isolated, as parts of a sentence.
 * @param {readonly string[]} names
 * @returns {(string | Node)[]}
 */
export function isolatedNames(names) {
	return names.flatMap((name, i) => (i === 0 ? [isolated(name)] : [", ", isolated(name)]));
}

/**
 * What the page shows of a message.
 * @typedef {object} MessageParts
 * @property {string} name
 * @property {string} text
 * @property {number | null} ts `null` while it is on its way
 * @property {boolean} mine
 * @property {ReplyQuote} [replyTo]
 * @property {string[]} [mentions]
 * @property {true} [api] posted by the operator's backend through the HTTP API
 */

/**
 * Builds one message item: a `.meta` line, an optional `.quote` button, the `.text` and an empty
 * `.reactions` box. `onQuote` runs when the quote is activated (to go to the original).
 * @param {MessageParts} message
 * @param {(replyTo: ReplyQuote) => void} [onQuote]
 * @returns {HTMLLIElement}
 */
export function messageItem(message, onQuote) {
	const { name, text, ts, mine, replyTo, mentions = [], api } = message;
	const item = document.createElement("li");
	item.className = mine ? "message mine" : "message";
	const meta = document.createElement("div");
	meta.className = "meta";
	meta.append(isolated(name, "author"));
	if (api) {
		// The name of an API post is the backend's to choose: the badge says no person sent it.
		const badge = document.createElement("span");
		badge.className = "badge";
		badge.title = "Posted by the site through the HTTP API";
		badge.textContent = "API";
		meta.append(" ", badge);
	}
	if (ts !== null) {
		const time = document.createElement("time");
		time.dateTime = new Date(ts).toISOString();
		time.textContent = timeFormat.format(ts);
		meta.append(" ", time);
	}
	item.append(meta);
	if (replyTo) item.append(quoteOf(replyTo, onQuote));
	const body = document.createElement("p");
	body.className = "text";
	body.dir = "auto";
	body.append(...textNodes(text, mentions));
	const reactions = document.createElement("div");
	reactions.className = "reactions";
	item.append(body, reactions);
	fold(body, text);
	return item;
}

/** A text of more lines than this (or as many characters as `FOLD_CHARACTERS`) shows its start and "Show more". */
const FOLD_LINES = 12;
const FOLD_CHARACTERS = 1_200;

/**
 * Folds a long text to its first lines, with a "Show more" button after it that unfolds it (and
 * folds it again), or unfolds a text that is no longer long (an edit). Decided from the text, not
 * its laid-out height: a welcome's fifty messages add no layout pass.
 * @param {HTMLElement} body the message's `.text`
 * @param {string} text
 */
export function fold(body, text) {
	const long = text.split("\n").length > FOLD_LINES || [...text].length > FOLD_CHARACTERS;
	const button = body.nextElementSibling?.classList.contains("show-more") ? body.nextElementSibling : null;
	if (!long) {
		body.classList.remove("collapsed");
		button?.remove();
		return;
	}
	if (button) return;
	body.classList.add("collapsed");
	const more = document.createElement("button");
	more.type = "button";
	more.className = "link show-more";
	more.textContent = "Show more";
	more.setAttribute("aria-expanded", "false");
	more.addEventListener("click", () => {
		const folded = body.classList.toggle("collapsed");
		more.textContent = folded ? "Show more" : "Show less";
		more.setAttribute("aria-expanded", String(!folded));
	});
	body.after(more);
}

/**
 * The quote of the message a reply answers: a button that goes to the original.
 * @param {ReplyQuote} replyTo
 * @param {(replyTo: ReplyQuote) => void} [onQuote]
 */
function quoteOf(replyTo, onQuote) {
	const quote = document.createElement("button");
	quote.type = "button";
	quote.className = "quote";
	quote.dataset.replyTo = String(replyTo.id);
	const excerpt = isolated(replyTo.excerpt || "message deleted", "quote-text");
	quote.append(isolated(replyTo.name, "quote-author"), " ", excerpt);
	quote.setAttribute("aria-label", `In reply to ${replyTo.name}: ${replyTo.excerpt || "a deleted message"}. Go to it`);
	quote.addEventListener("click", () => onQuote?.(replyTo));
	return quote;
}

/**
 * A message's text as nodes: text as text, each http(s) link as a link, each mention of a name
 * in `mentions` (as `@name`, case aside) marked. A link reads left to right, isolated from the
 * text around it (`dir="ltr"`), and shows any direction-changing character it holds
 * percent-encoded (`%E2%80%AE`), as its address has it: neither the message's words nor the
 * link's own characters can make it look as if it went somewhere else.
 * @param {string} text
 * @param {readonly string[]} mentions
 * @returns {(Node | string)[]}
 */
export function textNodes(text, mentions) {
	/** @type {(Node | string)[]} */
	const nodes = [];
	let at = 0;
	for (const link of find(text, "url")) {
		if (!/^https?:\/\//i.test(link.href)) continue;
		nodes.push(...mentionNodes(text.slice(at, link.start), mentions));
		const anchor = document.createElement("a");
		anchor.href = link.href;
		anchor.dir = "ltr";
		anchor.textContent = link.value.replace(BIDI_CONTROLS, encodeURIComponent);
		anchor.rel = "noopener noreferrer nofollow";
		anchor.target = "_blank";
		nodes.push(anchor);
		at = link.end;
	}
	nodes.push(...mentionNodes(text.slice(at), mentions));
	return nodes;
}

/**
 * Plain text with each `@name` of `mentions` marked.
 * @param {string} text
 * @param {readonly string[]} mentions
 * @returns {(Node | string)[]}
 */
function mentionNodes(text, mentions) {
	if (mentions.length === 0 || !text.includes("@")) return text ? [text] : [];
	const escaped = mentions.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
	const pattern = new RegExp(`@(?:${escaped.sort((a, b) => b.length - a.length).join("|")})`, "giu");
	/** @type {(Node | string)[]} */
	const nodes = [];
	let at = 0;
	for (const match of text.matchAll(pattern)) {
		const index = match.index ?? 0;
		if (index > at) nodes.push(text.slice(at, index));
		const mark = document.createElement("span");
		mark.className = "mention";
		mark.textContent = match[0];
		nodes.push(mark);
		at = index + match[0].length;
	}
	if (at < text.length) nodes.push(text.slice(at));
	return nodes;
}

/**
 * Whether `message` calls the viewer by name or answers the viewer's message.
 * @param {ChatMessage} message
 * @param {{ name: string, userId: string | null }} viewer
 */
export function concernsViewer(message, { name, userId }) {
	const mentioned = message.mentions?.some((mention) => mention.toLowerCase() === name.toLowerCase()) ?? false;
	const reply = message.replyTo;
	const answered = reply !== undefined && (userId !== null ? reply.userId === userId : reply.name === name);
	return mentioned || answered;
}
