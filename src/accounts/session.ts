/**
 * The session cookie: how the page is signed in without a token in any URL. `__Host-` makes the
 * browser keep it only for this exact host, over HTTPS (or `localhost`), on every path;
 * `HttpOnly` keeps it from the page's scripts; `SameSite=Strict` keeps it off every request
 * another site starts. A WebSocket upgrade is not covered by CORS, so a socket a cookie admits is
 * also held to the strictest origin check (src/gate/origin.ts `checkSameOrigin`).
 */
import { SESSION_IDLE_MS } from "./account.ts";

export const SESSION_COOKIE = "__Host-edgechat-session";

/** A session as the cookie carries it: the account and the token its object knows by digest. */
export interface SessionCookie {
	readonly userId: string;
	readonly token: string;
}

/** The request's session cookie, if it carries a well-formed one. */
export function sessionOf(request: Request): SessionCookie | null {
	const header = request.headers.get("Cookie") ?? "";
	for (const part of header.split(";")) {
		const [name, value] = part.trim().split("=", 2);
		if (name !== SESSION_COOKIE || !value) continue;
		const match = /^(u_[A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value);
		return match ? { userId: match[1] as string, token: match[2] as string } : null;
	}
	return null;
}

/** The `Set-Cookie` of a new session. */
export function sessionCookie({ userId, token }: SessionCookie): string {
	return `${SESSION_COOKIE}=${userId}.${token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${SESSION_IDLE_MS / 1000}`;
}

/** The `Set-Cookie` that removes the session cookie. */
export const CLEARED_COOKIE = `${SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0`;
