/**
 * Room names: the one piece of user input that reaches the Worker before any socket exists.
 * A name is 1 to 64 characters of `A-Z a-z 0-9 _ -` (docs/operating.md, "The public contract"), the
 * same rule the page applies before it connects (both read `public/contract.js`); one name is
 * one Durable Object.
 */
import { MAX_ROOM_NAME_LENGTH, ROOM_NAME_CHARACTERS } from "../../public/contract.js";

export { MAX_ROOM_NAME_LENGTH };

/** The outcome of checking a room name: the name, or a one-line reason it was refused. */
export type RoomNameCheck = { ok: true; name: string } | { ok: false; reason: string };

/**
 * Checks a room name as it appears in a URL path segment (still percent-encoded).
 * Decoding first means `..%2Fx` or `a%20b` are judged by what they spell, not slipped through.
 */
export function checkRoomName(encoded: string): RoomNameCheck {
	let name: string;
	try {
		name = decodeURIComponent(encoded);
	} catch {
		return { ok: false, reason: "room name is not valid percent-encoding" };
	}
	if (name.length === 0) return { ok: false, reason: "room name is empty" };
	if (name.length > MAX_ROOM_NAME_LENGTH) {
		return { ok: false, reason: `room name is longer than ${MAX_ROOM_NAME_LENGTH} characters` };
	}
	if (!ROOM_NAME_CHARACTERS.test(name)) {
		return { ok: false, reason: "room name may only contain A-Z, a-z, 0-9, '_' and '-'" };
	}
	return { ok: true, name };
}
