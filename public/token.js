// @ts-check
/**
 * The signed-mode token (PROTOCOL.md, "Signed identity and moderation"). A site gives its user a
 * link ending in `#token=…`: a URL fragment is never sent to any server, in a request or a
 * `Referer`. The page takes the token out of the address bar at once (so it is not bookmarked,
 * copied along with the link or kept in the history), keeps it in `sessionStorage` for this
 * tab's reloads and reconnects, one per room, and hands it to the client library, which puts it
 * in no URL either: the socket offers it as a subprotocol (`edgechat.token.…`, the one header a
 * browser lets a page set on a WebSocket) and asking why the room refused it sends it as
 * `Authorization: Bearer`. URLs are what logs, traces and proxies keep.
 *
 * The client library (client/claims.js) reads the token's claims only to show who you are before
 * the room says so and to notice an expired link; it never trusts them. The Worker verifies it.
 */

/** `sessionStorage` key prefix; the room name follows. */
const KEY_PREFIX = "edgechat.token.";

/**
 * Takes a token from the address bar's fragment (and removes it from there, keeping the rest of
 * the URL), or else the one this tab kept for `room`.
 * @param {string} room
 * @returns {string | null}
 */
export function takeToken(room) {
	const fragment = new URLSearchParams(location.hash.slice(1));
	const fresh = fragment.get("token");
	if (fresh !== null) {
		fragment.delete("token");
		const rest = fragment.toString();
		history.replaceState(history.state, "", `${location.pathname}${location.search}${rest ? `#${rest}` : ""}`);
		if (fresh) sessionStorage.setItem(KEY_PREFIX + room, fresh);
	}
	return sessionStorage.getItem(KEY_PREFIX + room);
}

/**
 * Forgets the token this tab kept for `room` (it expired).
 * @param {string} room
 */
export function forgetToken(room) {
	sessionStorage.removeItem(KEY_PREFIX + room);
}
