/**
 * The path users take: `wrangler dev` (what `npm start` runs), with a `[vars]` override given on
 * the command line the way a user would.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { freePort, type LocalServer, ROOT, startWranglerDev } from "../../scripts/local-server.ts";
import { openClient } from "../support/clients.ts";
import { freshRoom } from "../support/room-names.ts";

let server: LocalServer;

beforeAll(async () => {
	// SHARD_SIZE 2: the third client of a room is held by a shard, as past 10,000 when deployed.
	server = await startWranglerDev({ vars: { MESSAGE_CAP: "10", SHARD_SIZE: "2" } });
});
afterAll(() => server?.stop());

describe("under wrangler dev", () => {
	it("serves the page and its script", async () => {
		const page = await fetch(`${server.origin}/`);
		expect(page.status).toBe(200);
		expect(await page.text()).toContain("edgechat");
		expect((await fetch(`${server.origin}/app.js`)).status).toBe(200);
	});

	it("lets two clients chat, with the cap taken from the MESSAGE_CAP setting", async () => {
		const alice = await openClient(server.socketUrl("wrangler-dev"));
		const bob = await openClient(server.socketUrl("wrangler-dev"));
		alice.socket.send("0123456789 and more");
		const [a, b] = await Promise.all([alice.next(), bob.next()]);
		expect([a.text, b.text]).toEqual(["0123456789", "0123456789"]);
		alice.socket.close(1000);
		expect((await alice.closed).code).toBe(1000);
		bob.socket.close(1000);
		expect((await bob.closed).code).toBe(1000);
	});

	it("spreads a room over its object and shards, with one order and the room's size at GET /api/rooms/NAME", async () => {
		// wrangler dev keeps its storage between runs: a room of its own each time.
		const room = freshRoom("wrangler-shards");
		const clients = [];
		for (let i = 0; i < 5; i++) clients.push(await openClient(server.socketUrl(room)));
		const stats = await (await fetch(`${server.origin}/api/rooms/${room}`)).json();
		expect(stats).toEqual({
			connections: 5,
			members: 1,
			latestId: 0,
			shards: [{ connections: 2 }, { connections: 2 }, { connections: 1 }],
		});
		// The last client (shard 2) and the first (the room's object) talk at once.
		clients[4]?.socket.send("from s2");
		clients[0]?.socket.send("from room");
		const seen = await Promise.all(
			clients.map(async (client) => [(await client.next()).text, (await client.next()).text]),
		);
		for (const got of seen) expect(got).toEqual(seen[0]);
		expect(seen[0]?.sort()).toEqual(["from room", "from s2"]);
		for (const client of clients) client.socket.close(1000);
	});

	it("declines the permessage-deflate that browsers offer, through wrangler's own proxy too", async () => {
		const socket = new WebSocket(server.socketUrl("wrangler-deflate"), { perMessageDeflate: true });
		await new Promise((resolve, reject) => {
			socket.once("open", resolve);
			socket.once("error", reject);
		});
		expect(socket.extensions).toBe("");
		socket.close(1000);
	});

	it("keeps the contract's statuses", async () => {
		expect((await fetch(`${server.origin}/api/rooms/lobby/websocket`)).status).toBe(426);
		expect((await fetch(`${server.origin}/api/rooms/bad%20name/websocket`)).status).toBe(400);
		expect((await fetch(`${server.origin}/nowhere`)).status).toBe(404);
	});
});

describe("npm start", () => {
	it("starts the chat without a network error to read past (no sample request.cf fetched)", async () => {
		const scripts = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")).scripts as Record<
			string,
			string
		>;
		expect(scripts.start).toBe("node scripts/start.ts");
		const port = await freePort();
		const persist = await mkdtemp(path.join(tmpdir(), "edgechat-start-"));
		const child = spawn(
			path.join(ROOT, "node_modules/.bin/node"),
			["scripts/start.ts", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist],
			{ cwd: ROOT, env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" }, detached: true },
		);
		let output = "";
		try {
			await new Promise<void>((resolve, reject) => {
				const read = (chunk: Buffer) => {
					output += String(chunk);
					if (output.includes("Ready on http")) resolve();
				};
				child.stdout.on("data", read);
				child.stderr.on("data", read);
				child.once("exit", (code) => reject(new Error(`npm start exited (${code}) before it was ready:\n${output}`)));
			});
			expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
			expect(output).not.toMatch(/getaddrinfo|Unable to fetch the `Request\.cf` object/);
		} finally {
			if (child.exitCode === null) {
				const exited = new Promise((resolve) => child.once("exit", resolve));
				process.kill(-(child.pid as number), "SIGTERM");
				await exited;
			}
			await rm(persist, { recursive: true, force: true });
		}
	}, 90_000);
});
