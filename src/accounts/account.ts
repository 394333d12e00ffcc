/**
 * What an account is, and the rules its parts follow. One account model stands behind every way
 * of getting in that is not open mode: a passkey account, a person Cloudflare Access vouches for
 * (both kept here: src/accounts/registry.ts, src/accounts/person.ts), and a user of the
 * operator's own tokens (kept by the operator's backend). Each has a stable user id, a handle
 * unique in the deployment, a display name, and a role; rooms only ever see the `Identity` the
 * Worker made of it (src/wire/identity.ts), as in signed mode.
 */
import { checkName } from "../wire/parse.ts";

/** One account, as its person's object keeps it. */
export interface Profile {
	/** Stable for the account's life: `u_` and 22 random characters (never reused, never shown). */
	readonly userId: string;
	/** Unique in the deployment, lower case: what mentions and moderators see. */
	readonly handle: string;
	/** What rooms show; the rules of a name in a room. */
	readonly displayName: string;
	/** How it signs in: `passkey` or `access`. */
	readonly kind: "passkey" | "access";
	readonly createdAt: number;
	/** The deployment's first account: its owner unless `OWNER` names another. */
	readonly first: boolean;
}

/** A handle: 2 to 32 of `a-z 0-9 _ -`, starting and ending with a letter or a digit. */
const HANDLE = /^[a-z0-9](?:[a-z0-9_-]{0,30}[a-z0-9])?$/;
export const MAX_HANDLE_LENGTH = 32;

/** A handle as given (any case, spaces around), checked: the handle, or why not. */
export function checkHandle(raw: unknown): { ok: true; handle: string } | { ok: false; reason: string } {
	if (typeof raw !== "string") return { ok: false, reason: "a handle is text" };
	const handle = raw.trim().toLowerCase();
	if (handle.length < 2 || handle.length > MAX_HANDLE_LENGTH || !HANDLE.test(handle)) {
		return {
			ok: false,
			reason: `a handle is 2 to ${MAX_HANDLE_LENGTH} letters a-z, digits, '_' or '-', starting and ending with a letter or digit`,
		};
	}
	return { ok: true, handle };
}

/**
 * A display name, by the rules of a name in a room (src/wire/parse.ts `checkName`); names
 * starting with `Guest` are the guests' (`GUESTS`), so no account looks like one.
 */
export function checkDisplayName(raw: unknown): { ok: true; name: string } | { ok: false; reason: string } {
	const checked = checkName(raw, { reserveOperatorName: true });
	if (!checked.ok) return { ok: false, reason: checked.error.message };
	if (/^guest\b/i.test(checked.name)) return { ok: false, reason: "names starting with Guest are for guests" };
	return { ok: true, name: checked.name };
}

/** `bytes` random bytes as base64url. */
export function randomText(bytes: number): string {
	return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export function toBase64Url(bytes: Uint8Array): string {
	return btoa(String.fromCharCode(...bytes))
		.replaceAll("+", "-")
		.replaceAll("/", "_")
		.replace(/=+$/, "");
}

/** A new user id. */
export const newUserId = () => `u_${randomText(16)}`;

/** The SHA-256 of a secret, base64url: what is stored of a session token, never the token. */
export async function digest(secret: string): Promise<string> {
	return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret))));
}

/** How long a ceremony (its challenge) may take, from options to answer. */
export const CEREMONY_MS = 5 * 60_000;
/** How long an add-a-passkey link lasts, and an invite to make an account. */
export const LINK_MS = 10 * 60_000;
export const INVITE_MS = 7 * 24 * 3_600_000;
/** A session unused this long ends (a page that stays open renews it at every connection). */
export const SESSION_IDLE_MS = 30 * 24 * 3_600_000;
/** Passkeys and sessions one account may hold; the oldest session goes past it. */
export const MAX_PASSKEYS = 20;
export const MAX_SESSIONS = 50;
/** Failed sign-ins an account takes per minute before it refuses more (whoever tries). */
export const FAILED_SIGN_INS_PER_MINUTE = 10;
