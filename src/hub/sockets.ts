/**
 * Sending on and closing a server-side WebSocket without letting one peer's trouble become
 * anyone else's: a socket that is closing or gone makes `send` and `close` throw, and the room
 * must carry on for everyone else.
 */

import { CLOSES } from "../wire/close-codes.ts";

/** `WebSocket.readyState` once the close handshake is over. */
const CLOSED = 3;

/** RFC 6455 1005: the peer's Close frame carried no status code. */
export const NO_STATUS = 1005;

/**
 * Close codes a peer may put on the wire (RFC 6455 section 7.4.1 and the IANA registry): 1000
 * to 1003, 1007 to 1014, and 3000 to 4999. 1004 is reserved; 1005, 1006 and 1015 only ever
 * describe a close locally, and `WebSocket.close()` throws if given them.
 */
export function isValidCloseCode(code: number): boolean {
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/**
 * Sends a frame, reporting false instead of throwing when the socket is closing or gone (its
 * close or error event follows; it must not cost anyone else a message).
 */
export function trySend(ws: WebSocket, frame: string | ArrayBuffer): boolean {
	try {
		ws.send(frame);
		return true;
	} catch {
		return false;
	}
}

/**
 * Answers or starts a close handshake, whatever the code the client used. The object holding
 * the socket (the room's, or a shard) answers a client's Close itself (`web_socket_manual_reply_to_close` in wrangler.toml), echoing its code;
 * were the runtime to answer (`web_socket_auto_reply_to_close`), the socket would be closed by
 * now and this would do nothing.
 */
export function closeSocket(ws: WebSocket, code: number, reason: string): void {
	if (ws.readyState === CLOSED) return;
	try {
		if (isValidCloseCode(code)) ws.close(code, reason);
		// A Close without a status code is answered without one.
		else if (code === NO_STATUS) ws.close();
		// A code no endpoint may send (1004, 1006, 1015, 1016-2999, 5000+) is a protocol error.
		else ws.close(CLOSES.invalidCloseCode.code, CLOSES.invalidCloseCode.reason);
	} catch {
		// Already closing: the handshake is under way.
	}
}
