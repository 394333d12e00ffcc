/**
 * A client written from PROTOCOL.md alone ("History", "Replies", "Reactions", "Mentions"), over
 * loopback against the Worker in workerd: raw JSON over `ws`, nothing of the server's code. It
 * pages back through 1,000 messages to the first, replies to that first one, reacts, and
 * mentions another member; a second client sees each.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type LocalServer, startMiniflare } from "../../scripts/local-server.ts";
import { conditionWaits } from "../support/clients.ts";
import { freshRoom } from "../support/room-names.ts";

let server: LocalServer;

beforeAll(async () => {
	server = await startMiniflare({ vars: { RATE_LIMIT_MESSAGES: "0" } });
});
afterAll(() => server?.stop());

type Event = Record<string, unknown> & { type: string };
type Message = { id: number; text: string; name: string; replyTo?: Record<string, unknown>; mentions?: string[] };

/** A rich client: `edgechat.v1`, every event (batches unpacked) in a list. */
async function join(room: string, name: string) {
	const socket = new WebSocket(server.socketUrl(room), ["edgechat.v1"]);
	const events: Event[] = [];
	const waits = conditionWaits();
	socket.on("message", (data) => {
		const event = JSON.parse(String(data)) as Event;
		events.push(...(event.type === "batch" ? (event.events as Event[]) : [event]));
		waits.recheck();
	});
	await new Promise((resolve, reject) => {
		socket.once("open", resolve);
		socket.once("error", reject);
	});
	const send = (event: object) => socket.send(JSON.stringify(event));
	send({ type: "hello", name });
	/** The first event received so far (or the next to come) of `type` that `match` accepts, taken. */
	const next = (type: string, match: (event: Event) => boolean = () => true) =>
		waits.when(() => {
			const index = events.findIndex((event) => event.type === type && match(event));
			return index === -1 ? undefined : events.splice(index, 1)[0];
		});
	const welcome = await next("welcome");
	return { socket, welcome, next, send };
}

describe("a client written from PROTOCOL.md: the conversation", () => {
	it("pages back through 1,000 messages, replies to the first, reacts, and mentions", async () => {
		const room = freshRoom("conversation");
		const ann = await join(room, "ann");
		for (let i = 1; i <= 1_000; i++) ann.send({ type: "send", clientId: `a${i}`, text: `message ${i}` });
		await ann.next("message", (event) => event.clientId === "a1000");

		const bob = await join(room, "bob");
		const history = bob.welcome.history as Message[];
		expect(history).toHaveLength(50);
		const seen = history.map((message) => message.id);
		let before = seen[0] as number;
		for (let more = true; more; ) {
			bob.send({ type: "history", before, limit: 100 });
			const page = (await bob.next("history", (event) => event.before === before)) as unknown as {
				entries: Message[];
				more: boolean;
			};
			seen.unshift(...page.entries.map((message) => message.id));
			before = page.entries[0]?.id ?? before;
			more = page.more;
		}
		expect(seen).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));

		bob.send({ type: "send", clientId: "b1", text: "@ann the very first!", replyTo: 1 });
		const reply = (await ann.next("message", (event) => event.clientId === "b1")) as unknown as Message;
		expect(reply.replyTo).toEqual({ id: 1, name: "ann", excerpt: "message 1" });
		expect(reply.mentions).toEqual(["ann"]);

		ann.send({ type: "react", id: reply.id, emoji: "🎉", on: true });
		const reactions = await bob.next("reactions", (event) => event.target === reply.id);
		expect(reactions.reactions).toEqual([{ emoji: "🎉", count: 1, names: ["ann"] }]);
		ann.send({ type: "react", id: reply.id, emoji: "🎉", on: false });
		expect((await bob.next("reactions", (event) => event.target === reply.id)).reactions).toEqual([]);
		ann.socket.close();
		bob.socket.close();
	});
});
