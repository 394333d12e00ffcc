/**
 * PROTOCOL.md's rules for one rich-mode text frame, written again from the document (not
 * imported from src/wire/protocol.ts, so the fuzz suite checks the room against the document rather
 * than against itself): what the frame is, once read as the document reads it.
 */

/** Longest name, in code points (PROTOCOL.md, "Names"). */
const MAX_NAME = 32;
/** `MESSAGE_CAP` as shipped in wrangler.toml: what a plain client's text is cut to. */
export const MESSAGE_CAP = 50;
/** `RICH_MESSAGE_CAP` as shipped in wrangler.toml: the longest rich text. */
export const RICH_MESSAGE_CAP = 2_000;
/** Largest `history` page (PROTOCOL.md, "History"). */
const PAGE_MAX = 100;
/** Largest id a message may have (an integer up to 2^53 - 1). */
const MAX_ID = 2 ** 53 - 1;
/** `MAX_FRAME_BYTES` as shipped in wrangler.toml. */
export const MAX_FRAME_BYTES = 16_384;
/** The largest `typing` or `read` frame, in bytes (PROTOCOL.md, "Errors"). */
const SMALL_FRAME_BYTES = 64;
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
// biome-ignore lint/complexity/useRegexLiterals: tsc refuses the ES2024 `v` flag in a literal (target ES2023).
const RGI_EMOJI = new RegExp("\\p{RGI_Emoji}", "gv");

/** A rich text frame as the document reads it. */
export type Reading =
	| { kind: "hello"; name: string; since: number | undefined }
	| { kind: "send"; clientId: string; text: string; replyTo: number | undefined }
	| { kind: "typing" }
	| { kind: "history"; before: number | undefined; after: number | undefined }
	| { kind: "react"; id: number }
	| { kind: "read" }
	| { kind: "settings" }
	| { kind: "error"; code: string; clientId?: string };

/** Whether a value is an id as PROTOCOL.md has them: an integer, from `min`, at most 2^53 - 1. */
const isId = (value: unknown, min = 1): value is number =>
	typeof value === "number" && Number.isInteger(value) && value >= min && value <= MAX_ID;

/** Whether `text` is exactly one emoji of Unicode's RGI list. */
function oneEmoji(text: string): boolean {
	const matches = text.match(RGI_EMOJI);
	return matches !== null && matches.length === 1 && matches[0] === text;
}

const count = (text: string) => [...text].length;

/**
 * What shows nothing (PROTOCOL.md, "Names"): white space, combining marks, default-ignorable code
 * points (the Hangul fillers among them), the Braille blank and the null notehead.
 */
const SHOWS_NOTHING = /[\s\p{M}\p{Default_Ignorable_Code_Point}\u2800\u{1D159}]/gu;
/** The most combining marks on one character of a name. */
const MAX_MARKS = 4;
/** The operator's name, which no member may take nor read as. */
const OPERATOR = "api";
/** The look-alikes PROTOCOL.md names for the letters of API, each as the letter it passes for. */
const LOOK_ALIKE: Record<string, string> = {
	"\u0391": "a",
	"\u03B1": "a",
	"\u0410": "a",
	"\u0430": "a",
	"\u03A1": "p",
	"\u03C1": "p",
	"\u0420": "p",
	"\u0440": "p",
	"\u0399": "i",
	"\u03B9": "i",
	"\u0406": "i",
	"\u0456": "i",
	"\u04C0": "i",
	"\u04CF": "i",
	"\u0131": "i",
	l: "i",
	"1": "i",
	"|": "i",
};

/** Whether a name reads as the operator's: NFKD, what shows nothing dropped, case aside, look-alikes as their letter. */
function readsAsOperator(name: string): boolean {
	const letters = [...name.normalize("NFKD").replace(SHOWS_NOTHING, "").toLowerCase()];
	return letters.map((letter) => LOOK_ALIKE[letter] ?? letter).join("") === OPERATOR;
}

/** The most marks in a row in `name` (on one character), counting a mark at the start as on none. */
function markStack(name: string): number {
	let most = 0;
	let run = 0;
	for (const character of name) {
		run = /\p{M}/u.test(character) ? run + 1 : 0;
		most = Math.max(most, run);
	}
	return most;
}

/**
 * The name as accepted, or why not: NFC, trimmed (JS white space), 1..32, nothing invisible outside
 * RGI emoji, something that shows, no mark first, at most 4 marks on a character, not API.
 */
export function readName(raw: unknown): string | null {
	if (typeof raw !== "string" || !raw.isWellFormed()) return null;
	const name = raw.normalize("NFC").trim();
	if (name.length === 0 || count(name) > MAX_NAME) return null;
	if (/\p{Cc}/u.test(name)) return null;
	if (/[\p{Cf}\p{Zl}\p{Zp}]/u.test(name.replace(RGI_EMOJI, ""))) return null;
	if (name.replace(SHOWS_NOTHING, "") === "" || /^\p{M}/u.test(name) || markStack(name) > MAX_MARKS) return null;
	return readsAsOperator(name) ? null : name;
}

/** Reads one rich text frame (already known to be within the frame size, and not the ping). */
export function readFrame(frame: string): Reading {
	let value: unknown;
	try {
		value = JSON.parse(frame);
	} catch {
		return { kind: "error", code: "bad_json" };
	}
	if (typeof value !== "object" || value === null || Array.isArray(value)) return { kind: "error", code: "bad_event" };
	const event = value as Record<string, unknown>;
	if (typeof event.type !== "string") return { kind: "error", code: "bad_event" };
	// A typing notice or a read position of more than a few dozen bytes is padding (PROTOCOL.md, "Errors").
	const padded = new TextEncoder().encode(frame).length > SMALL_FRAME_BYTES;
	if (event.type === "typing") return padded ? { kind: "error", code: "bad_event" } : { kind: "typing" };
	if (event.type === "hello") {
		const name = readName(event.name);
		if (name === null) return { kind: "error", code: "bad_name" };
		const since = event.since;
		if (since === undefined || since === null) return { kind: "hello", name, since: undefined };
		const valid = typeof since === "number" && Number.isInteger(since) && since >= 0 && since <= 2 ** 53 - 1;
		return valid ? { kind: "hello", name, since } : { kind: "error", code: "bad_event" };
	}
	if (event.type === "send") {
		const clientId = event.clientId;
		if (typeof clientId !== "string" || !CLIENT_ID.test(clientId)) return { kind: "error", code: "bad_event" };
		if (typeof event.text !== "string") return { kind: "error", code: "bad_text", clientId };
		const text = event.text.toWellFormed();
		if (text.trim() === "") return { kind: "error", code: "bad_text", clientId };
		if (count(text) > RICH_MESSAGE_CAP) return { kind: "error", code: "text_too_long", clientId };
		// Bidi embeddings, overrides and isolates (PROTOCOL.md, "Texts"); the marks LRM, RLM, ALM are kept.
		if (/[\u202A-\u202E\u2066-\u2069]/u.test(text)) return { kind: "error", code: "bad_text", clientId };
		const replyTo = event.replyTo;
		if (replyTo === undefined || replyTo === null) return { kind: "send", clientId, text, replyTo: undefined };
		return isId(replyTo) ? { kind: "send", clientId, text, replyTo } : { kind: "error", code: "bad_event", clientId };
	}
	if (event.type === "history") {
		const { before, after, limit } = event;
		if ((before === undefined) === (after === undefined)) return { kind: "error", code: "bad_event" };
		if (before !== undefined && !isId(before)) return { kind: "error", code: "bad_event" };
		if (after !== undefined && !isId(after, 0)) return { kind: "error", code: "bad_event" };
		// A `limit` of null is no limit given (the default), as `since: null` is no `since`.
		const pageSize = limit ?? 1;
		if (!(Number.isInteger(pageSize) && (pageSize as number) >= 1 && (pageSize as number) <= PAGE_MAX))
			return { kind: "error", code: "bad_event" };
		return { kind: "history", before: before as number | undefined, after: after as number | undefined };
	}
	if (event.type === "react") {
		if (!isId(event.id) || typeof event.on !== "boolean") return { kind: "error", code: "bad_event" };
		if (typeof event.emoji !== "string" || !oneEmoji(event.emoji)) return { kind: "error", code: "bad_emoji" };
		return { kind: "react", id: event.id };
	}
	if (event.type === "read")
		return isId(event.id, 0) && !padded ? { kind: "read" } : { kind: "error", code: "bad_event" };
	if (event.type === "settings") return readSettings(event);
	return { kind: "error", code: "unknown_type" };
}

/** The whole numbers a `settings` command may change, and their largest values (PROTOCOL.md, "Room settings"). */
const SETTINGS_MAX = { slowModeSeconds: 21_600, retentionDays: 3_650 };

/** A `settings` command: at least one setting, each in its range, or `bad_event`. */
function readSettings(event: Record<string, unknown>): Reading {
	let named = 0;
	for (const [field, max] of Object.entries(SETTINGS_MAX)) {
		const value = event[field];
		if (value === undefined) continue;
		named++;
		if (!(typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max))
			return { kind: "error", code: "bad_event" };
	}
	if (event.postingRole !== undefined) {
		named++;
		if (event.postingRole !== "everyone" && event.postingRole !== "moderators")
			return { kind: "error", code: "bad_event" };
	}
	return named > 0 ? { kind: "settings" } : { kind: "error", code: "bad_event" };
}

/** A plain text frame as relayed: cut to the cap in code points, lone surrogates as sent over UTF-8. */
export function plainRelay(text: string): string {
	// Cut to the cap; a bidi embedding, override or isolate shows as U+FFFD (PROTOCOL.md, "Plain mode").
	return [...text.toWellFormed()]
		.slice(0, MESSAGE_CAP)
		.join("")
		.replace(/[\u202A-\u202E\u2066-\u2069]/gu, "\uFFFD");
}

/** Whether a frame is over `MAX_FRAME_BYTES` on the wire. */
export function oversize(frame: string | Uint8Array): boolean {
	return (typeof frame === "string" ? Buffer.byteLength(frame.toWellFormed()) : frame.byteLength) > MAX_FRAME_BYTES;
}
