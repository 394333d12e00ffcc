/**
 * Guests (`GUESTS`, docs/operating.md "Accounts"): with accounts on, someone who is not signed
 * in reads a room as a read-only guest, one per address, and cannot post (`read`), or posts as
 * that guest (`post`); with the default (`none`) they are asked to sign in. Workerd through the miniflare API, real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { SUBPROTOCOL } from "../../public/contract.js";
import { type LocalServer, startMiniflare } from "../../scripts/local-server.ts";
import { freshRoom } from "../support/room-names.ts";

let server: LocalServer;
let posting: LocalServer;

beforeAll(async () => {
	[server, posting] = await Promise.all([
		startMiniflare({ vars: { SIGN_IN: "passkeys", GUESTS: "read" } }),
		startMiniflare({ vars: { SIGN_IN: "passkeys", GUESTS: "post" } }),
	]);
});

afterAll(() => Promise.all([server?.stop(), posting?.stop()]));

/** A socket from `address` that says hello, with every event it gets until `until` says stop. */
function guest(room: string, address: string, until: (event: { type: string }) => boolean, at = server) {
	return new Promise<{ type: string; [field: string]: unknown }[]>((resolve, reject) => {
		const socket = new WebSocket(at.socketUrl(room), [SUBPROTOCOL], { headers: { "CF-Connecting-IP": address } });
		const events: { type: string }[] = [];
		socket.on("open", () => socket.send(JSON.stringify({ type: "hello", name: "" })));
		socket.on("message", (data) => {
			const event = JSON.parse(String(data)) as { type: string };
			events.push(event);
			if (event.type === "welcome") socket.send(JSON.stringify({ type: "send", text: "may I?", clientId: "c1" }));
			if (until(event)) {
				socket.close();
				resolve(events as { type: string; [field: string]: unknown }[]);
			}
		});
		socket.on("unexpected-response", (_request, response) => reject(new Error(`refused: ${response.statusCode}`)));
		socket.on("error", reject);
	});
}

describe("guests", () => {
	it("read as a read-only guest, one per address, and are refused when they post", async () => {
		const room = freshRoom("guests");
		const events = await guest(room, "192.0.2.10", (event) => event.type === "error");
		const welcome = events.find((event) => event.type === "welcome");
		expect(welcome).toMatchObject({ role: "readonly", name: expect.stringMatching(/^Guest [A-Za-z0-9_-]{4}$/) });
		expect(welcome?.userId).toMatch(/^guest:[A-Za-z0-9_-]{8}$/);
		expect(events.find((event) => event.type === "error")).toMatchObject({ code: "forbidden", clientId: "c1" });
		// The same address is the same guest; another address another one.
		const again = (await guest(room, "192.0.2.10", (event) => event.type === "error")).find(
			(e) => e.type === "welcome",
		);
		const other = (await guest(room, "192.0.2.11", (event) => event.type === "error")).find(
			(e) => e.type === "welcome",
		);
		expect(again?.userId).toBe(welcome?.userId);
		expect(other?.userId).not.toBe(welcome?.userId);
	});

	it("with GUESTS=post, write too, under their guest name", async () => {
		const events = await guest(freshRoom("guests"), "192.0.2.20", (event) => event.type === "message", posting);
		const welcome = events.find((event) => event.type === "welcome");
		expect(welcome).toMatchObject({ role: "member", name: expect.stringMatching(/^Guest /) });
		expect(events.find((event) => event.type === "message")).toMatchObject({
			text: "may I?",
			name: welcome?.name,
			clientId: "c1",
		});
	});
});
