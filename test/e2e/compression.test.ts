/**
 * Compression as a browser meets it: every browser offers permessage-deflate. The room declines
 * it by default (WEBSOCKET_COMPRESSION, docs/operating.md "Compression") and accepts it when turned on; the
 * chat works either way, in both modes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { SUBPROTOCOL } from "../../public/contract.js";
import { startMiniflare } from "../../scripts/local-server.ts";
import { freshRoom } from "../support/room-names.ts";

type Server = Awaited<ReturnType<typeof startMiniflare>>;
let shipped: Server;
let compressing: Server;

beforeAll(async () => {
	[shipped, compressing] = await Promise.all([
		startMiniflare(),
		startMiniflare({ vars: { WEBSOCKET_COMPRESSION: "true" } }),
	]);
});
afterAll(async () => {
	await shipped?.stop();
	await compressing?.stop();
});

/**
 * Opens a socket offering permessage-deflate as a browser does, and resolves with the extension
 * the server agreed to and the first text frame that comes back after sending `send`.
 */
async function offerDeflate(
	url: string,
	protocols: string[],
	send: string,
): Promise<{ extensions: string; echo: string }> {
	const socket = new WebSocket(url, protocols, { perMessageDeflate: true });
	await new Promise((resolve, reject) => {
		socket.once("open", resolve);
		socket.once("error", reject);
	});
	const echo = new Promise<string>((resolve) => socket.on("message", (data) => resolve(String(data))));
	socket.send(send);
	const result = { extensions: socket.extensions, echo: await echo };
	socket.close(1000);
	return result;
}

describe("permessage-deflate", () => {
	it("is declined by default, and a plain client's message still comes back", async () => {
		const { extensions, echo } = await offerDeflate(shipped.socketUrl(freshRoom("deflate")), [], "hello");
		expect(extensions).toBe("");
		expect(echo).toBe("hello");
	});

	it("is declined by default for a rich client too", async () => {
		const hello = JSON.stringify({ type: "hello", name: "ann" });
		const { extensions, echo } = await offerDeflate(shipped.socketUrl(freshRoom("deflate")), [SUBPROTOCOL], hello);
		expect(extensions).toBe("");
		expect(JSON.parse(echo)).toMatchObject({ type: "welcome", name: "ann" });
	});

	it("is accepted with WEBSOCKET_COMPRESSION=true, and messages pass compressed", async () => {
		const text = "compressible ".repeat(3);
		const { extensions, echo } = await offerDeflate(compressing.socketUrl(freshRoom("deflate")), [], text);
		expect(extensions).toMatch(/^permessage-deflate/);
		expect(echo).toBe(text.slice(0, 50));
	});
});
