// @ts-check
/**
 * edgechat's client library, importable as `edgechat/client` (package.json `exports`) and served
 * by every edgechat deployment at `/client/index.js`. It runs in browsers and in Node 22 or newer
 * (their global `WebSocket`, `fetch` and `crypto`), has no dependencies, and is typed from the
 * same wire types as the server (src/wire/protocol.ts). The chat page is built on it.
 *
 * ```js
 * import { connect } from "edgechat/client";
 * const chat = connect({ url: "http://127.0.0.1:8787", room: "lobby", name: "bot" }); // or { token }
 * chat.on("message", (m) => console.log(m.id, m.name, m.text));
 * const stored = await chat.send("hello"); // the stored message; rejects with the refusal
 * chat.close();
 * ```
 *
 * Files: ./chat.js (the protocol: hello, resume, events, commands), ./sends.js (what happens to
 * a message until the room stores it), ./connection.js (the reconnecting socket), ./claims.js
 * (a signed-mode token's claims, read to notice expiry).
 */

import { Chat } from "./chat.js";

/** @import { ConnectOptions } from "./chat.js" */

/**
 * Connects to a room. The connection opens right after this returns (so listeners added now
 * hear everything), and comes back by itself until `close()` or a final close.
 * @param {ConnectOptions} options
 * @returns {Chat}
 */
export function connect(options) {
	const chat = new Chat(options);
	queueMicrotask(() => chat.open());
	return chat;
}

export { Chat, newClientId, socketUrl } from "./chat.js";
export { backoffDelay, FINAL_CLOSE_CODES } from "./connection.js";
export { ChatError } from "./sends.js";
