/**
 * Parsing untrusted input: the one place a rich client's frame becomes a `ClientEvent` (or the
 * error event its sender is answered with). Every field is checked here, against the limits
 * that come from settings, before anything else looks at it.
 */

import { readsAs, showsNothing, tallestMarkStack } from "./appearance.ts";
import {
	HISTORY_PAGE_DEFAULT,
	HISTORY_PAGE_MAX,
	MAX_BAN_SECONDS,
	MAX_CLIENT_ID_LENGTH,
	MAX_NAME_LENGTH,
	MAX_REACTORS_OFFSET,
	MAX_USER_ID_LENGTH,
} from "./limits.ts";
import { OPERATOR_NAME } from "./operator.ts";
import type { ClientEvent, ErrorCode, ErrorEvent } from "./protocol.ts";
import { checkSettingsPatch } from "./settings.ts";

/** The outcome of parsing a frame: an event, or the error event to answer with. */
export type ParseResult = { ok: true; event: ClientEvent } | { ok: false; error: ErrorEvent };

/** Limits the parser checks that depend on settings. */
export interface ParseLimits {
	/** Longest text, in code points (RICH_MESSAGE_CAP). */
	messageCap: number;
	/** Signed mode: a `hello`'s name is ignored (the token's is used), so it is not checked. */
	signed?: boolean;
}

function refuse(code: ErrorCode, message: string, clientId?: string): { ok: false; error: ErrorEvent } {
	const error: ErrorEvent = { type: "error", code, message };
	if (clientId !== undefined) error.clientId = clientId;
	return { ok: false, error };
}

/** Counts code points (a surrogate pair is one; a lone surrogate is one). */
export function codePointLength(text: string): number {
	let count = 0;
	for (const _ of text) count++;
	return count;
}

/** What a `clientId` is made of (its length is `MAX_CLIENT_ID_LENGTH` at most). */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]+$/;
/** Control characters (C0, DEL, C1). */
const CONTROL = /\p{Cc}/u;
/** Format characters (bidi overrides and isolates, zero-width space/joiners, BOM, ...) and line/paragraph separators. */
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}]/u;
/**
 * Every emoji Unicode recommends for general interchange (RGI): single emoji and the keycap,
 * flag, tag, skin-tone and ZWJ sequences (👩🏽‍💻, 🫱🏻‍🫲🏿, 🏴󠁧󠁢󠁳󠁣󠁴󠁿), the longest match first. Unicode's
 * own list, so a joiner or tag character is allowed exactly where it belongs to an emoji and
 * nowhere else. V8 has the `v` flag since 11.2; test/workerd/names.test.ts checks it in workerd.
 */
// biome-ignore lint/complexity/useRegexLiterals: tsc refuses the ES2024 `v` flag in a literal while the build targets ES2023.
const RGI_EMOJI = new RegExp("\\p{RGI_Emoji}", "gv");

/** Whether `raw` is exactly one RGI emoji (a reaction). */
export function isOneEmoji(raw: string): boolean {
	const matches = raw.match(RGI_EMOJI);
	return matches !== null && matches.length === 1 && matches[0] === raw;
}

/** Whether `value` is a log id: an integer from 1. */
function isId(value: unknown): value is number {
	return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}

/** A mark first has no character of the name to sit on: it would draw on whatever is shown before the name. */
const LEADING_MARK = /^\p{M}/u;
/**
 * The most combining marks one character of a name may carry. Real writing needs up to 4 after
 * NFC (which composes what it can, Vietnamese included): Devanagari's क़ैं is a consonant with
 * nukta, vowel sign and anusvara (3), and pointed Hebrew stacks dagesh, shin dot, a vowel and a
 * cantillation mark on one letter (4). Stacks taller than that are "Zalgo" text, which draws over
 * the lines above and below.
 */
export const MAX_MARKS_PER_CHARACTER = 4;

/** How the operator's name reads (`api`): what no member's name may read as. */
const OPERATOR_READS_AS = readsAs(OPERATOR_NAME);

/** What a name is checked for beyond the rules every name follows. */
export interface NameRules {
	/**
	 * Refuse `OPERATOR_NAME` ("API"), and every name that reads as it: the name a member chooses
	 * (a `hello`) or a site gives its user (a signed-mode token). The HTTP API's own actions show
	 * under that name, so a member called so would pass for the operator. The API's posts speak for
	 * the operator and leave this out: their name is the operator's choice, `API` included.
	 */
	reserveOperatorName?: boolean;
}

/**
 * Checks and normalises a display name: NFC, trimmed, 1 to 32 code points, no control
 * characters, no format characters (bidi overrides, zero-width tricks) except inside an RGI emoji
 * sequence (its joiners and tag characters), no lone surrogates; at least one character that
 * shows (not a name of fillers, blanks or marks), no character under more than
 * `MAX_MARKS_PER_CHARACTER` combining marks, and no mark first. With `reserveOperatorName`, not
 * the operator's name or one that reads as it.
 */
export function checkName(
	raw: unknown,
	rules: NameRules = {},
): { ok: true; name: string } | { ok: false; error: ErrorEvent } {
	if (typeof raw !== "string") return refuse("bad_name", "name must be a string");
	if (!raw.isWellFormed()) return refuse("bad_name", "name contains a lone surrogate");
	const name = raw.normalize("NFC").trim();
	if (name.length === 0) return refuse("bad_name", "name is empty");
	if (codePointLength(name) > MAX_NAME_LENGTH) {
		return refuse("bad_name", `name is longer than ${MAX_NAME_LENGTH} characters`);
	}
	if (CONTROL.test(name)) return refuse("bad_name", "name contains control characters");
	if (INVISIBLE.test(name.replace(RGI_EMOJI, ""))) {
		return refuse("bad_name", "name contains invisible or direction-changing characters");
	}
	if (showsNothing(name)) {
		return refuse(
			"bad_name",
			"name shows nothing: it has only white space, blanks, fillers, marks or ignorable characters",
		);
	}
	if (LEADING_MARK.test(name)) return refuse("bad_name", "name starts with a combining mark");
	if (tallestMarkStack(name) > MAX_MARKS_PER_CHARACTER) {
		return refuse("bad_name", `name has more than ${MAX_MARKS_PER_CHARACTER} combining marks on one character`);
	}
	if (rules.reserveOperatorName && readsAs(name) === OPERATOR_READS_AS) {
		return refuse("bad_name", `name reads as ${OPERATOR_NAME}, the name the operator's own actions show under`);
	}
	return { ok: true, name };
}

/**
 * The bidi controls that open a scope: embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and
 * isolates (LRI, RLI, FSI, PDI). An override reverses the letters after it, so a text could show
 * `exe.gnp` as `png.exe` or a link as another domain. The marks LRM, RLM and ALM are kept:
 * each is one invisible letter of a direction, which can move the punctuation and spaces beside
 * it but never reverses a run of letters, and right-to-left writing needs them (a Hebrew or
 * Arabic sentence that ends in "!" or in a Latin word).
 */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;

/**
 * A plain client's text with its bidi controls (`BIDI_CONTROL`) shown as U+FFFD: the tutorial's
 * protocol cannot refuse a frame, so the controls are disarmed where they stand, visibly.
 */
export function disarmBidi(text: string): string {
	return BIDI_CONTROL.test(text) ? text.replace(/[\u202A-\u202E\u2066-\u2069]/gu, "\uFFFD") : text;
}

/**
 * Checks a message text (of a `send` or an `edit`): a string, not only whitespace, at most
 * `messageCap` code points, and without bidi embedding, override or isolate controls. Lone
 * surrogates (possible through JSON escapes) are replaced with U+FFFD, not stored raw. The HTTP
 * API checks a post's text with it too.
 */
export function checkText(
	raw: unknown,
	limits: ParseLimits,
	clientId?: string,
): { ok: true; text: string } | { ok: false; error: ErrorEvent } {
	if (typeof raw !== "string") return refuse("bad_text", "'text' must be a string", clientId);
	const text = raw.toWellFormed();
	if (text.trim().length === 0) return refuse("bad_text", "'text' is empty", clientId);
	if (codePointLength(text) > limits.messageCap) {
		return refuse("text_too_long", `'text' is longer than ${limits.messageCap} characters`, clientId);
	}
	if (BIDI_CONTROL.test(text)) {
		return refuse(
			"bad_text",
			"'text' contains a bidi embedding, override or isolate (U+202A to U+202E, U+2066 to U+2069)",
			clientId,
		);
	}
	return { ok: true, text };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parses one text frame from a rich client. Never throws: anything malformed becomes the
 * error event to send back, and nothing of it reaches other clients or storage.
 */
export function parseClientEvent(frame: string, limits: ParseLimits): ParseResult {
	let value: unknown;
	try {
		value = JSON.parse(frame);
	} catch {
		return refuse("bad_json", "frame is not valid JSON");
	}
	if (!isPlainObject(value)) return refuse("bad_event", "event must be a JSON object");
	const type = value.type;
	if (typeof type !== "string") return refuse("bad_event", "event needs a string 'type'");

	switch (type) {
		case "hello": {
			const name = limits.signed
				? ({ ok: true, name: "" } as const)
				: checkName(value.name, { reserveOperatorName: true });
			if (!name.ok) return name;
			const since = value.since;
			if (since === undefined || since === null) return { ok: true, event: { type, name: name.name } };
			if (typeof since !== "number" || !Number.isSafeInteger(since) || since < 0) {
				return refuse("bad_event", "'since' must be a non-negative integer message id");
			}
			return { ok: true, event: { type, name: name.name, since } };
		}
		case "send": {
			const clientId = value.clientId;
			if (typeof clientId !== "string" || clientId.length > MAX_CLIENT_ID_LENGTH || !CLIENT_ID_PATTERN.test(clientId)) {
				return refuse("bad_event", `'clientId' must be 1 to ${MAX_CLIENT_ID_LENGTH} of A-Z a-z 0-9 _ -`);
			}
			const text = checkText(value.text, limits, clientId);
			if (!text.ok) return text;
			const replyTo = value.replyTo;
			if (replyTo === undefined || replyTo === null) return { ok: true, event: { type, clientId, text: text.text } };
			if (!isId(replyTo)) return refuse("bad_event", "'replyTo' must be a message id (an integer from 1)", clientId);
			return { ok: true, event: { type, clientId, text: text.text, replyTo } };
		}
		case "history": {
			const { before, after } = value;
			if ((before === undefined) === (after === undefined)) {
				return refuse("bad_event", "'history' needs exactly one of 'before' and 'after'");
			}
			if (before !== undefined && !isId(before)) return refuse("bad_event", "'before' must be an integer from 1");
			if (after !== undefined && (typeof after !== "number" || !Number.isSafeInteger(after) || after < 0)) {
				return refuse("bad_event", "'after' must be an integer from 0");
			}
			const limit = value.limit ?? HISTORY_PAGE_DEFAULT;
			if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > HISTORY_PAGE_MAX) {
				return refuse("bad_event", `'limit' must be an integer from 1 to ${HISTORY_PAGE_MAX}`);
			}
			return {
				ok: true,
				event: before === undefined ? { type, after: after as number, limit } : { type, before, limit },
			};
		}
		case "react": {
			const { id, emoji, on } = value;
			if (!isId(id)) return refuse("bad_event", "'id' must be a message id (an integer from 1)");
			if (typeof on !== "boolean") return refuse("bad_event", "'on' must be true or false");
			if (typeof emoji !== "string" || !isOneEmoji(emoji)) {
				return refuse("bad_emoji", "'emoji' must be one emoji of Unicode's RGI list");
			}
			return { ok: true, event: { type, id, emoji, on } };
		}
		case "reactors": {
			const { id, emoji, offset } = value;
			if (!isId(id)) return refuse("bad_event", "'id' must be a message id (an integer from 1)");
			if (typeof emoji !== "string" || !isOneEmoji(emoji)) {
				return refuse("bad_emoji", "'emoji' must be one emoji of Unicode's RGI list");
			}
			if (offset === undefined) return { ok: true, event: { type, id, emoji } };
			if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0 || offset > MAX_REACTORS_OFFSET) {
				return refuse("bad_event", `'offset' must be an integer from 0 to ${MAX_REACTORS_OFFSET}`);
			}
			return { ok: true, event: { type, id, emoji, offset } };
		}
		case "read": {
			const id = value.id;
			if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
				return refuse("bad_event", "'id' must be a log id (an integer from 0)");
			}
			return { ok: true, event: { type, id } };
		}
		case "typing":
			return { ok: true, event: { type } };
		case "edit":
		case "delete": {
			const id = value.id;
			if (!isId(id)) return refuse("bad_event", "'id' must be a message id (an integer from 1)");
			if (type === "delete") return { ok: true, event: { type, id } };
			const text = checkText(value.text, limits);
			return text.ok ? { ok: true, event: { type, id, text: text.text } } : text;
		}
		case "kick":
		case "ban": {
			const userId = value.userId;
			if (typeof userId !== "string" || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
				return refuse("bad_event", `'userId' must be a string of 1 to ${MAX_USER_ID_LENGTH} characters`);
			}
			if (type === "kick") return { ok: true, event: { type, userId } };
			const seconds = value.seconds;
			if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_BAN_SECONDS) {
				return refuse("bad_event", `'seconds' must be an integer from 1 to ${MAX_BAN_SECONDS}`);
			}
			return { ok: true, event: { type, userId, seconds } };
		}
		case "settings": {
			const checked = checkSettingsPatch(value);
			return checked.ok ? { ok: true, event: { type, ...checked.patch } } : refuse("bad_event", checked.message);
		}
		default:
			return refuse("unknown_type", `unknown event type ${JSON.stringify(type.slice(0, 40))}`);
	}
}
