// @ts-check
/**
 * What a client reads from a signed-mode token (PROTOCOL.md, "The token"), unverified: the name
 * to show before the room says it, and whether the Worker will refuse it as expired (so a client
 * stops reconnecting with it instead of being refused again and again). It never trusts them:
 * the Worker verifies every token.
 */

import { TOKEN_CLOCK_TOLERANCE_SECONDS } from "../contract.js";

/**
 * What a client reads from a token, unverified.
 * @typedef {object} TokenClaims
 * @property {string | null} name the `name` claim, if it is a string
 * @property {number | null} exp the `exp` claim (seconds since the epoch), if it is a number
 */

/**
 * Reads a JWT's payload without verifying it; `null` claims for anything unreadable.
 * @param {string} token
 * @returns {TokenClaims}
 */
export function readClaims(token) {
	try {
		const base64 = (token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/");
		const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
		const payload = JSON.parse(new TextDecoder().decode(bytes));
		return {
			name: typeof payload?.name === "string" ? payload.name : null,
			exp: typeof payload?.exp === "number" ? payload.exp : null,
		};
	} catch {
		return { name: null, exp: null };
	}
}

/**
 * Whether the Worker will refuse these claims as expired (past `exp` beyond its tolerance).
 * @param {TokenClaims} claims
 * @param {number} [now] milliseconds since the epoch
 */
export function isExpired(claims, now = Date.now()) {
	return claims.exp !== null && (claims.exp + TOKEN_CLOCK_TOLERANCE_SECONDS) * 1000 < now;
}
