/**
 * Chaos and abuse over loopback, bounded in count and time: room capacity, a flooder among
 * normal chatters, connection churn with clean closes and TCP resets, and a server restart in
 * the middle of a conversation.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectRoom, startMiniflare } from "../../scripts/local-server.ts";
import { openClient, resetConnection } from "../support/clients.ts";
import { RawWebSocket } from "../support/raw-websocket.ts";
import { ResilientClient } from "../support/resilient-client.ts";
import { joinRich } from "../support/rich-client.ts";
import { freshRoom } from "../support/room-names.ts";

let server: Awaited<ReturnType<typeof startMiniflare>>;

beforeAll(async () => {
	server = await startMiniflare(); // the shipped settings
});
afterAll(() => server?.stop());

describe("room capacity", () => {
	it("accepts MAX_CONNECTIONS connections, refuses the next with 503 and a reason, and takes one again after a leave", async () => {
		const small = await startMiniflare({ vars: { MAX_CONNECTIONS: "3" } });
		try {
			const url = small.socketUrl("full");
			const alice = await joinRich(url, "alice");
			const bob = await joinRich(url, "bob");
			await openClient(url);
			await expect(openClient(url)).rejects.toThrow(/503/);
			const refused = await RawWebSocket.open(small.origin, "/api/rooms/full/websocket");
			expect(refused.ws).toBeNull();
			expect(refused.response.status).toBe(503);
			expect(refused.response.body).toMatch(/room is full \(3 connections\)/);
			bob.client.socket.close(1000);
			await alice.until(() => alice.events.some((e) => e.type === "leave" && e.name === "bob"));
			const again = await openClient(url);
			expect(again.socket.readyState).toBe(1);
		} finally {
			await small.stop();
		}
	});
});

describe("flood", () => {
	it("one client sends 1,000 messages as fast as it can; three others lose nothing and see at most the allowed share", async () => {
		const room = freshRoom();
		const url = server.socketUrl(room);
		const normal = [await joinRich(url, "ann"), await joinRich(url, "ben"), await joinRich(url, "cat")];
		const flooder = await joinRich(url, "flooder");
		const started = Date.now();
		for (let i = 0; i < 1000; i++) flooder.send(`spam ${i}`, `s${i}`);
		// The three chat normally (within their allowance) while the flood goes on.
		for (const [i, person] of normal.entries()) for (let j = 0; j < 4; j++) person.send(`${i}:${j}`, `n${i}-${j}`);
		const flooderClosed = await flooder.client.closed;
		expect(flooderClosed.code).toBe(1008);
		for (const person of normal) {
			await person.until(() => person.messages.filter((m) => m.name !== "flooder").length === 12);
		}
		const seconds = (Date.now() - started) / 1000;
		for (const person of normal) {
			const fromOthers = person.messages.filter((m) => m.name !== "flooder").map((m) => m.text);
			expect(fromOthers.sort()).toEqual([
				"0:0",
				"0:1",
				"0:2",
				"0:3",
				"1:0",
				"1:1",
				"1:2",
				"1:3",
				"2:0",
				"2:1",
				"2:2",
				"2:3",
			]);
			// Burst of 5, then 1 per second at most.
			const fromFlooder = person.messages.filter((m) => m.name === "flooder").length;
			expect(fromFlooder).toBeLessThanOrEqual(5 + Math.ceil(seconds));
		}
		const inspector = await inspectRoom(server, room);
		expect(await inspector.memberNames()).toEqual(["ann", "ben", "cat"]);
	});
});

describe("churn", () => {
	it("500 connect/disconnect cycles (half clean closes, half TCP resets) leave an exact member list and no socket behind", async () => {
		const room = freshRoom();
		const url = server.socketUrl(room);
		const steady = await joinRich(url, "steady");
		const other = await joinRich(url, "other");
		const CYCLES = 500;
		const PARALLEL = 20;
		let next = 0;
		async function worker() {
			while (next < CYCLES) {
				const i = next++;
				const churner = await joinRich(url, `c${i}`);
				if (i % 2 === 0) {
					churner.client.socket.close(1000);
					await churner.client.closed;
				} else {
					resetConnection(churner.client.socket);
				}
			}
		}
		// The room stays in use while it churns.
		const chatting = (async () => {
			for (let i = 0; i < 5; i++) other.send(`during churn ${i}`, `o${i}`);
		})();
		await Promise.all([chatting, ...Array.from({ length: PARALLEL }, worker)]);
		// Every churner's leave reaches the steady member (each name joined once and left once).
		await steady.until(() => steady.events.filter((e) => e.type === "leave").length === CYCLES);
		const joins = steady.events.filter((e) => e.type === "join").map((e) => (e as { name: string }).name);
		const leaves = steady.events.filter((e) => e.type === "leave").map((e) => (e as { name: string }).name);
		expect(new Set(leaves)).toEqual(new Set(joins.filter((n) => n !== "other")));
		const inspector = await inspectRoom(server, room);
		expect(await inspector.memberNames()).toEqual(["other", "steady"]);
		expect(await inspector.connectionCount()).toBe(2);
		await steady.until(() => steady.messages.length === 5);
	});
});

describe("restart", () => {
	it("stops and restarts the server mid-conversation; clients resume and every acknowledged message is stored exactly once", async () => {
		const persistDir = await mkdtemp(path.join(tmpdir(), "edgechat-restart-"));
		const vars = { RATE_LIMIT_MESSAGES: "0" }; // this test is about durability, not flood control
		let local = await startMiniflare({ persistDir, vars });
		const port = Number(new URL(local.origin).port);
		try {
			const url = local.socketUrl("restart");
			const people = [await ResilientClient.join(url, "ann"), await ResilientClient.join(url, "ben")];
			for (let i = 0; i < 20; i++) for (const person of people) person.send(`before ${i}`);
			// Stop while those are still in flight: some are stored, some not, some acknowledged.
			await local.stop();
			await Promise.all(people.map((p) => p.closed()));
			local = await startMiniflare({ persistDir, vars, port });
			for (const person of people) await person.reconnect();
			for (let i = 0; i < 10; i++) for (const person of people) person.send(`after ${i}`);
			for (const person of people) await person.settled();

			const audit = await joinRich(url, "audit", 0);
			const history = audit.welcome.history;
			expect(history.map((m) => m.id)).toEqual(Array.from({ length: history.length }, (_, i) => i + 1));
			const clientIds = audit.messages.map((m) => m.clientId);
			expect(new Set(clientIds).size).toBe(clientIds.length);
			for (const person of people) {
				expect(person.acknowledged.size).toBe(30);
				for (const clientId of person.acknowledged) expect(clientIds).toContain(clientId);
			}
			expect(history).toHaveLength(60);
		} finally {
			await local.stop();
			await rm(persistDir, { recursive: true, force: true });
		}
	});
});
