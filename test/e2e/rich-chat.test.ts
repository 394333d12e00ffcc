/**
 * edgechat.v1 end to end: real `ws` clients over loopback against workerd (miniflare API).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startMiniflare } from "../../scripts/local-server.ts";
import { openClient, resetConnection } from "../support/clients.ts";
import { joinRich } from "../support/rich-client.ts";
import { freshRoom } from "../support/room-names.ts";

let server: LocalServer;

beforeAll(async () => {
	// Flood control off: these tests send bursts on purpose; test/e2e/abuse.test.ts covers it.
	server = await startMiniflare({ vars: { RATE_LIMIT_MESSAGES: "0" } });
});
afterAll(() => server?.stop());

describe("rich chat over loopback", () => {
	it("a client killed mid-stream (TCP reset) resumes from its last id and ends with the room's exact sequence", async () => {
		const room = freshRoom();
		const url = server.socketUrl(room);
		const alice = await joinRich(url, "alice");
		const bob = await joinRich(url, "bob");
		let victim = await joinRich(url, "victim");
		const seen: number[] = [];
		const PER_SENDER = 60;
		const total = PER_SENDER * 2;

		// alice and bob send as fast as they can; the victim is reset after its 25th message.
		for (let i = 0; i < PER_SENDER; i++) {
			alice.send(`a${i}`, `a-${i}`);
			bob.send(`b${i}`, `b-${i}`);
		}
		await victim.until(() => victim.messages.length >= 25);
		seen.push(...victim.messages.map((m) => m.id));
		resetConnection(victim.client.socket);
		expect((await victim.client.closed).code).toBe(1006);

		const lastId = seen.at(-1) ?? 0;
		victim = await joinRich(url, "victim", lastId);
		expect(victim.welcome.gap).toBe(false);
		await victim.until(() => lastId + victim.messages.length >= total);
		seen.push(...victim.messages.map((m) => m.id));

		expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
		// Everyone else saw the same sequence, uninterrupted.
		await alice.until(() => alice.messages.length >= total);
		expect(alice.messages.map((m) => m.id)).toEqual(seen);
		// And the room's view agrees: every message once.
		// (120 messages: the welcome carries 100 and says `more`; the client pages for the rest.)
		const audit = await joinRich(url, "audit", 0);
		expect(audit.welcome.more).toBe(true);
		await audit.until(() => audit.messages.length >= total);
		expect(audit.messages.map((m) => m.id)).toEqual(seen);
		expect(new Set(audit.messages.map((m) => m.clientId)).size).toBe(total);
	});

	it("a member whose TCP connection is reset leaves the member list of everyone else", async () => {
		const room = freshRoom();
		const url = server.socketUrl(room);
		const alice = await joinRich(url, "alice");
		const bob = await joinRich(url, "bob");
		await alice.until(() => alice.events.some((e) => e.type === "join" && e.name === "bob"));
		resetConnection(bob.client.socket);
		await alice.until(() => alice.events.some((e) => e.type === "leave" && e.name === "bob"));
		const carol = await joinRich(url, "carol");
		expect(carol.welcome.members).toEqual(["alice", "carol"]);
	});

	it("a send retried after a reconnect is stored and broadcast once", async () => {
		const room = freshRoom();
		const url = server.socketUrl(room);
		const watcher = await joinRich(url, "watcher");
		let alice = await joinRich(url, "alice");
		alice.send("maybe lost", "retry-1");
		await watcher.until(() => watcher.messages.length === 1);
		resetConnection(alice.client.socket);
		alice = await joinRich(url, "alice", 0);
		// The page does not know whether its send made it, so it sends again with the same id.
		alice.send("maybe lost", "retry-1");
		alice.send("next", "retry-2");
		await watcher.until(() => watcher.messages.length === 2);
		expect(watcher.messages.map((m) => [m.id, m.clientId])).toEqual([
			[1, "retry-1"],
			[2, "retry-2"],
		]);
		await alice.until(() => alice.messages.filter((m) => m.clientId === "retry-2").length === 1);
		// alice sees retry-1 in her history and once more as the answer to the retry: the same id.
		expect(new Set(alice.messages.map((m) => m.id))).toEqual(new Set([1, 2]));
	});

	it("two plain and two rich clients interoperate", async () => {
		const room = freshRoom();
		const url = server.socketUrl(room);
		const plain1 = await openClient(url);
		const plain2 = await openClient(url);
		const rich1 = await joinRich(url, "alice");
		const rich2 = await joinRich(url, "bob");
		expect(rich2.welcome.members).toEqual(["alice", "bob", "guest"]);

		plain1.socket.send("from plain");
		rich1.send("from rich", "r1");
		const plainFrames = await Promise.all([plain1.waitForFrames(2), plain2.waitForFrames(2)]);
		for (const frames of plainFrames) {
			expect(frames.map((f) => [f.text, f.isBinary])).toEqual([
				["from plain", false],
				["alice: from rich", false],
			]);
		}
		for (const rich of [rich1, rich2]) {
			await rich.until(() => rich.messages.length === 2);
			expect(rich.messages.map((m) => [m.name, m.text])).toEqual([
				["guest", "from plain"],
				["alice", "from rich"],
			]);
		}
	});

	it("a client offering only unknown subprotocols gets none selected and a plain connection", async () => {
		const client = await openClient(server.socketUrl(freshRoom()), ["chat.unknown"]).catch((error: Error) => error);
		// ws, like browsers, fails a connection whose offered subprotocols were all refused.
		expect(client).toBeInstanceOf(Error);
		expect(String(client)).toMatch(/subprotocol/i);
	});
});
