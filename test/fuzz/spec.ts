/**
 * PROTOCOL.md's rules for one rich-mode text frame, written again from the document (not
 * imported from src/wire/protocol.ts, so the fuzz suite checks the room against the document rather
 * than against itself): what the frame is, once read as the document reads it.
 */

/** Longest name, in code points (PROTOCOL.md, "Names"). */
const MAX_NAME = 32;
/** `MESSAGE_CAP` as shipped in wrangler.toml. */
export const MESSAGE_CAP = 50;
/** `MAX_FRAME_BYTES` as shipped in wrangler.toml. */
export const MAX_FRAME_BYTES = 16_384;
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
// biome-ignore lint/complexity/useRegexLiterals: tsc refuses the ES2024 `v` flag in a literal (target ES2023).
const RGI_EMOJI = new RegExp("\\p{RGI_Emoji}", "gv");

/** A rich text frame as the document reads it. */
export type Reading =
	| { kind: "hello"; name: string; since: number | undefined }
	| { kind: "send"; clientId: string; text: string }
	| { kind: "typing" }
	| { kind: "error"; code: string; clientId?: string };

const count = (text: string) => [...text].length;

/** The name as accepted, or why not: NFC, trimmed (JS white space), 1..32, nothing invisible outside RGI emoji. */
export function readName(raw: unknown): string | null {
	if (typeof raw !== "string" || !raw.isWellFormed()) return null;
	const name = raw.normalize("NFC").trim();
	if (name.length === 0 || count(name) > MAX_NAME) return null;
	if (/\p{Cc}/u.test(name)) return null;
	return /[\p{Cf}\p{Zl}\p{Zp}]/u.test(name.replace(RGI_EMOJI, "")) ? null : name;
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
	if (event.type === "typing") return { kind: "typing" };
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
		if (count(text) > MESSAGE_CAP) return { kind: "error", code: "text_too_long", clientId };
		return { kind: "send", clientId, text };
	}
	return { kind: "error", code: "unknown_type" };
}

/** A plain text frame as relayed: cut to the cap in code points, lone surrogates as sent over UTF-8. */
export function plainRelay(text: string): string {
	return [...text.toWellFormed()].slice(0, MESSAGE_CAP).join("");
}

/** Whether a frame is over `MAX_FRAME_BYTES` on the wire. */
export function oversize(frame: string | Uint8Array): boolean {
	return (typeof frame === "string" ? Buffer.byteLength(frame.toWellFormed()) : frame.byteLength) > MAX_FRAME_BYTES;
}
