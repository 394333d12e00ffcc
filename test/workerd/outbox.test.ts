/**
 * The outbox (src/outbox.ts) on real WebSocketPairs: several events for a recipient go out as
 * one batch frame, in order; recipients with the same events share one encoding.
 */
import { describe, expect, it } from "vitest";
import { Outbox } from "../../src/outbox.ts";

/** A server socket whose client end collects what it receives. */
function pair() {
	const { 0: client, 1: server } = new WebSocketPair();
	server.accept();
	client.accept();
	const received: string[] = [];
	const waiters: (() => void)[] = [];
	client.addEventListener("message", (event) => {
		received.push(String(event.data));
		for (const waiter of waiters.splice(0)) waiter();
	});
	const frames = (count: number) =>
		new Promise<string[]>((resolve) => {
			const check = () => (received.length >= count ? resolve(received.slice(0, count)) : waiters.push(check));
			check();
		});
	return { server, client, received, frames };
}

describe("Outbox", () => {
	it("sends one event as itself and several as one batch frame, in order", async () => {
		const a = pair();
		const b = pair();
		const outbox = new Outbox(() => {});
		outbox.broadcast('{"type":"join","name":"x"}', [a.server, b.server]);
		outbox.flush();
		expect(await a.frames(1)).toEqual(['{"type":"join","name":"x"}']);
		outbox.broadcast('{"n":1}', [a.server, b.server]);
		outbox.broadcast('{"n":2}', [a.server, b.server], b.server);
		outbox.unicast(b.server, '{"n":3}');
		outbox.flush();
		expect((await a.frames(2))[1]).toBe('{"type":"batch","events":[{"n":1},{"n":2}]}');
		expect((await b.frames(2))[1]).toBe('{"type":"batch","events":[{"n":1},{"n":3}]}');
	});

	it("flushes by itself once the current work is done", async () => {
		const a = pair();
		const outbox = new Outbox(() => {});
		outbox.broadcast('{"n":1}', [a.server]);
		outbox.broadcast('{"n":2}', [a.server]);
		expect(a.received).toEqual([]);
		expect(await a.frames(1)).toEqual(['{"type":"batch","events":[{"n":1},{"n":2}]}']);
	});

	it("reports sockets it could not send to, and sends to the rest", async () => {
		const gone = pair();
		const live = pair();
		gone.server.close(1000);
		const failed: WebSocket[] = [];
		const outbox = new Outbox((ws) => failed.push(ws));
		outbox.broadcast('{"n":1}', [gone.server, live.server]);
		outbox.flush();
		expect(await live.frames(1)).toEqual(['{"n":1}']);
		expect(failed).toEqual([gone.server]);
	});
});
