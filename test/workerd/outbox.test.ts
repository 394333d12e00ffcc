/**
 * The outbox (src/hub/outbox.ts) on real WebSocketPairs: several events for a recipient go out
 * as one batch frame, in order; broadcasts are kept once for the group and recipients with the
 * same events share one frame; a connection that joins mid-burst gets only what follows; nothing
 * leaves before the hub says the burst is over.
 */
import { describe, expect, it } from "vitest";
import type { Connection } from "../../src/hub/connection.ts";
import { Outbox } from "../../src/hub/outbox.ts";
import { openPair } from "./pairs.ts";

describe("Outbox", () => {
	it("sends one event as itself and several as one batch frame, in order", async () => {
		const a = openPair();
		const b = openPair();
		const outbox = new Outbox(new Set([a.connection, b.connection]));
		outbox.broadcast('{"type":"join","name":"x"}');
		expect(outbox.flush()).toEqual([]);
		expect(await a.frames(1)).toEqual(['{"type":"join","name":"x"}']);
		outbox.broadcast('{"n":1}');
		outbox.broadcast('{"n":2}', b.connection);
		outbox.unicast(b.connection, '{"n":3}');
		outbox.flush();
		expect((await a.frames(2))[1]).toBe('{"type":"batch","events":[{"n":1},{"n":2}]}');
		expect((await b.frames(2))[1]).toBe('{"type":"batch","events":[{"n":1},{"n":3}]}');
	});

	it("keeps a unicast in its place among the broadcasts", async () => {
		const a = openPair();
		const outbox = new Outbox(new Set([a.connection]));
		outbox.broadcast('{"n":1}');
		outbox.unicast(a.connection, '{"u":1}');
		outbox.broadcast('{"n":2}');
		outbox.flush();
		expect(await a.frames(1)).toEqual(['{"type":"batch","events":[{"n":1},{"u":1},{"n":2}]}']);
	});

	it("gives a connection that joins mid-burst only the broadcasts after it joined, after its own unicast", async () => {
		const a = openPair();
		const late = openPair();
		const group = new Set<Connection>([a.connection]);
		const outbox = new Outbox(group);
		outbox.broadcast('{"n":1}');
		group.add(late.connection);
		outbox.joined(late.connection);
		outbox.unicast(late.connection, '{"type":"welcome"}');
		outbox.broadcast('{"n":2}');
		outbox.flush();
		expect(await a.frames(1)).toEqual(['{"type":"batch","events":[{"n":1},{"n":2}]}']);
		expect(await late.frames(1)).toEqual(['{"type":"batch","events":[{"type":"welcome"},{"n":2}]}']);
	});

	it("says whether anything waits, and sends nothing by itself", async () => {
		const a = openPair();
		const outbox = new Outbox(new Set());
		expect(outbox.isEmpty).toBe(true);
		outbox.unicast(a.connection, '{"n":1}');
		expect(outbox.isEmpty).toBe(false);
		expect(a.received).toEqual([]);
		outbox.flush();
		expect(outbox.isEmpty).toBe(true);
		expect(await a.frames(1)).toEqual(['{"n":1}']);
	});

	it("sends one connection's events on their own, and leaves them out of the next flush", async () => {
		const a = openPair();
		const b = openPair();
		const outbox = new Outbox(new Set([a.connection, b.connection]));
		outbox.broadcast('{"n":1}');
		expect(outbox.flushOne(a.connection)).toBe(true);
		expect(await a.frames(1)).toEqual(['{"n":1}']);
		outbox.flush();
		outbox.unicast(a.connection, '{"n":2}');
		outbox.flush();
		expect(await a.frames(2)).toEqual(['{"n":1}', '{"n":2}']);
		expect(await b.frames(1)).toEqual(['{"n":1}']);
	});

	it("returns the connections it could not send to, and sends to the rest", async () => {
		const gone = openPair();
		const live = openPair();
		gone.server.close(1000);
		const outbox = new Outbox(new Set([gone.connection, live.connection]));
		outbox.broadcast('{"n":1}');
		expect(outbox.flush()).toEqual([gone.connection]);
		expect(await live.frames(1)).toEqual(['{"n":1}']);
	});
});
