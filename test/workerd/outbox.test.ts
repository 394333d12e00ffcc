/**
 * The outbox (src/hub/outbox.ts) on real WebSocketPairs: several events for a recipient go out
 * as one batch frame, in order; recipients with the same events share one encoding; nothing
 * leaves before the hub says the burst is over.
 */
import { describe, expect, it } from "vitest";
import { Outbox } from "../../src/hub/outbox.ts";
import { openPair } from "./pairs.ts";

describe("Outbox", () => {
	it("sends one event as itself and several as one batch frame, in order", async () => {
		const a = openPair();
		const b = openPair();
		const outbox = new Outbox();
		outbox.broadcast('{"type":"join","name":"x"}', [a.connection, b.connection]);
		expect(outbox.flush()).toEqual([]);
		expect(await a.frames(1)).toEqual(['{"type":"join","name":"x"}']);
		outbox.broadcast('{"n":1}', [a.connection, b.connection]);
		outbox.broadcast('{"n":2}', [a.connection, b.connection], b.connection);
		outbox.unicast(b.connection, '{"n":3}');
		outbox.flush();
		expect((await a.frames(2))[1]).toBe('{"type":"batch","events":[{"n":1},{"n":2}]}');
		expect((await b.frames(2))[1]).toBe('{"type":"batch","events":[{"n":1},{"n":3}]}');
	});

	it("says whether anything waits, and sends nothing by itself", () => {
		const a = openPair();
		const outbox = new Outbox();
		expect(outbox.isEmpty).toBe(true);
		outbox.unicast(a.connection, '{"n":1}');
		expect(outbox.isEmpty).toBe(false);
		expect(a.connection.outgoing).toEqual(['{"n":1}']);
		outbox.flush();
		expect(outbox.isEmpty).toBe(true);
		expect(a.connection.outgoing).toEqual([]);
	});

	it("sends one connection's events on their own, and leaves them out of the next flush", async () => {
		const a = openPair();
		const b = openPair();
		const outbox = new Outbox();
		outbox.broadcast('{"n":1}', [a.connection, b.connection]);
		expect(outbox.flushOne(a.connection)).toBe(true);
		expect(await a.frames(1)).toEqual(['{"n":1}']);
		outbox.unicast(a.connection, '{"n":2}');
		outbox.flush();
		expect(await a.frames(2)).toEqual(['{"n":1}', '{"n":2}']);
		expect(await b.frames(1)).toEqual(['{"n":1}']);
	});

	it("returns the connections it could not send to, and sends to the rest", async () => {
		const gone = openPair();
		const live = openPair();
		gone.server.close(1000);
		const outbox = new Outbox();
		outbox.broadcast('{"n":1}', [gone.connection, live.connection]);
		expect(outbox.flush()).toEqual([gone.connection]);
		expect(await live.frames(1)).toEqual(['{"n":1}']);
	});
});
