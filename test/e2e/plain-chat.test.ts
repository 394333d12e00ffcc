/**
 * Plain mode end to end: the Worker in workerd (miniflare API) on a loopback port, driven by
 * real `ws` clients, exactly as the tutorial's client code would talk to it.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startMiniflare } from "../../scripts/local-server.ts";
import { type Client, openClient, resetConnection } from "../support/clients.ts";
import { freshRoom } from "../support/room-names.ts";

let server: LocalServer;

beforeAll(async () => {
	// Flood control off: these tests send bursts on purpose; test/e2e/abuse.test.ts covers it.
	server = await startMiniflare({ vars: { RATE_LIMIT_MESSAGES: "0" } });
});
afterAll(() => server?.stop());

async function pair(room = freshRoom()): Promise<[Client, Client]> {
	return [await openClient(server.socketUrl(room)), await openClient(server.socketUrl(room))];
}

describe("plain chat over loopback", () => {
	it("lets two clients chat: each message reaches both, as text", async () => {
		const [alice, bob] = await pair();
		alice.socket.send("hi bob");
		const [a1, b1] = await Promise.all([alice.next(), bob.next()]);
		expect([a1, b1].map((f) => [f.text, f.isBinary])).toEqual([
			["hi bob", false],
			["hi bob", false],
		]);
		bob.socket.send("hi alice 👋");
		const [a2, b2] = await Promise.all([alice.next(), bob.next()]);
		expect([a2.text, b2.text]).toEqual(["hi alice 👋", "hi alice 👋"]);
	});

	it("cuts text to the 50-code-point cap and keeps it a text frame", async () => {
		const [alice, bob] = await pair();
		alice.socket.send("é".repeat(60));
		const frame = await bob.next();
		expect(frame.isBinary).toBe(false);
		expect(frame.text).toBe("é".repeat(50));
	});

	it("keeps binary binary, byte for byte", async () => {
		const [alice, bob] = await pair();
		const bytes = Buffer.from([0, 1, 2, 250, 255, 0xc3, 0x28]);
		alice.socket.send(bytes);
		const frame = await bob.next();
		expect(frame.isBinary).toBe(true);
		expect(frame.data.equals(bytes)).toBe(true);
	});

	it("completes a clean close with 1000 on both sides", async () => {
		const [alice, bob] = await pair();
		alice.socket.close(1000, "bye");
		// ws reports the code from the server's answering Close frame; 1005/1006 would mean no answer.
		expect(await alice.closed).toEqual({ code: 1000, reason: "bye" });
		bob.socket.close(1000);
		expect((await bob.closed).code).toBe(1000);
	});

	it("survives a TCP reset of one client: the others keep chatting and nothing is lost", async () => {
		const room = freshRoom();
		const [alice, bob] = await pair(room);
		const carol = await openClient(server.socketUrl(room));
		const mallory = await openClient(server.socketUrl(room));

		// An RST, not a Close frame: the room only learns of it from the runtime.
		const gone = mallory.closed;
		resetConnection(mallory.socket);
		expect((await gone).code).toBe(1006);

		for (let i = 0; i < 20; i++) (i % 2 ? alice : bob).socket.send(`after reset ${i}`);
		const expected = Array.from({ length: 20 }, (_, i) => `after reset ${i}`);
		for (const client of [alice, bob, carol]) {
			const frames = await client.waitForFrames(20);
			expect(frames.map((f) => f.text).sort()).toEqual([...expected].sort());
		}
	});

	it("serves the page at /, its scripts (the client library's too) and stylesheet, and 404 for unknown paths", async () => {
		const page = await fetch(`${server.origin}/?room=lobby`);
		expect(page.status).toBe(200);
		expect(page.headers.get("content-type")).toMatch(/text\/html/);
		const html = await page.text();
		for (const asset of ["/app.js", "/client/index.js", "/client/connection.js", "/style.css"]) {
			const response = await fetch(`${server.origin}${asset}`);
			expect(response.status, asset).toBe(200);
		}
		expect(html).toContain('src="/app.js"');
		expect((await fetch(`${server.origin}/app.js`)).headers.get("content-type")).toMatch(/javascript/);
		// The library's own imports resolve on the server too (a browser loads it as it is), and
		// pages of other origins may import it (public/_headers); the page's own script stays private.
		expect(await (await fetch(`${server.origin}/client/chat.js`)).text()).toContain('from "../contract.js"');
		const headers = { Origin: "https://another.example" };
		for (const asset of ["/client/index.js", "/contract.js"]) {
			const response = await fetch(`${server.origin}${asset}`, { headers });
			expect(response.headers.get("access-control-allow-origin"), asset).toBe("*");
		}
		expect((await fetch(`${server.origin}/app.js`, { headers })).headers.get("access-control-allow-origin")).toBeNull();
		const missing = await fetch(`${server.origin}/no/such/thing`);
		expect(missing.status).toBe(404);
	});

	it("answers 426 to a plain GET of the socket path", async () => {
		const response = await fetch(server.socketUrl("lobby").replace(/^ws/, "http"));
		expect(response.status).toBe(426);
	});

	it.each([
		[
			"POST with Upgrade",
			{
				Connection: "Upgrade",
				Upgrade: "websocket",
				"Sec-WebSocket-Version": "13",
				"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
			},
			400,
			/must be initiated with a GET/,
		],
		["POST without Upgrade", {}, 405, /use GET/],
	])("answers a %s on the socket path with a clear status and no upgrade", async (_, headers, status, reason) => {
		// workerd's own HTTP server refuses a non-GET upgrade with 400 before the Worker runs (the
		// Worker never sees it); a non-GET without Upgrade reaches the Worker and gets 405.
		const { port, hostname } = new URL(server.origin);
		const answer = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
			const req = request({
				host: hostname,
				port,
				method: "POST",
				path: "/api/rooms/lobby/websocket",
				headers,
			});
			req.on("response", (res) => {
				let body = "";
				res.setEncoding("utf8");
				res.on("data", (chunk) => {
					body += chunk;
				});
				res.on("end", () => resolve({ status: res.statusCode, body }));
			});
			req.on("upgrade", (res, socket) => {
				socket.destroy();
				resolve({ status: res.statusCode, body: "" });
			});
			req.on("error", reject);
			req.end();
		});
		expect(answer.status).toBe(status);
		expect(answer.body).toMatch(reason);
	});

	it("refuses an invalid room name with 400 before any upgrade", async () => {
		await expect(openClient(server.socketUrl("a".repeat(65)))).rejects.toThrow(/400/);
		await expect(openClient(server.socketUrl("..%2Fx"))).rejects.toThrow(/400/);
	});
});
