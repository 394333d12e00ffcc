/**
 * The coalescer (src/hub/coalescer.ts) on real WebSocketPairs: several events for a recipient go out
 * as one batch frame, in order; broadcasts are kept once for the group and recipients with the
 * same events share one frame; a connection that joins mid-burst gets only what follows; nothing
 * leaves before the hub says the burst is over.
 */
import { describe, expect, it } from "vitest";
import { Coalescer } from "../../src/hub/coalescer.ts";
import type { Connection } from "../../src/hub/connection.ts";
import { openPair } from "./pairs.ts";

describe("Coalescer", () => {
	it("sends one event as itself and several as one batch frame, in order", async () => {
		const a = openPair();
		const b = openPair();
		const coalescer = new Coalescer(new Set([a.connection, b.connection]));
		coalescer.broadcast('{"type":"join","name":"x"}');
		expect(coalescer.flush()).toEqual([]);
		expect(await a.frames(1)).toEqual(['{"type":"join","name":"x"}']);
		coalescer.broadcast('{"n":1}');
		coalescer.broadcast('{"n":2}', b.connection);
		coalescer.unicast(b.connection, '{"n":3}');
		coalescer.flush();
		expect((await a.frames(2))[1]).toBe('{"type":"batch","events":[{"n":1},{"n":2}]}');
		expect((await b.frames(2))[1]).toBe('{"type":"batch","events":[{"n":1},{"n":3}]}');
	});

	it("keeps a unicast in its place among the broadcasts", async () => {
		const a = openPair();
		const coalescer = new Coalescer(new Set([a.connection]));
		coalescer.broadcast('{"n":1}');
		coalescer.unicast(a.connection, '{"u":1}');
		coalescer.broadcast('{"n":2}');
		coalescer.flush();
		expect(await a.frames(1)).toEqual(['{"type":"batch","events":[{"n":1},{"u":1},{"n":2}]}']);
	});

	it("gives a connection that joins mid-burst only the broadcasts after it joined, after its own unicast", async () => {
		const a = openPair();
		const late = openPair();
		const group = new Set<Connection>([a.connection]);
		const coalescer = new Coalescer(group);
		coalescer.broadcast('{"n":1}');
		group.add(late.connection);
		coalescer.joined(late.connection);
		coalescer.unicast(late.connection, '{"type":"welcome"}');
		coalescer.broadcast('{"n":2}');
		coalescer.flush();
		expect(await a.frames(1)).toEqual(['{"type":"batch","events":[{"n":1},{"n":2}]}']);
		expect(await late.frames(1)).toEqual(['{"type":"batch","events":[{"type":"welcome"},{"n":2}]}']);
	});

	it("says whether anything waits, and sends nothing by itself", async () => {
		const a = openPair();
		const coalescer = new Coalescer(new Set());
		expect(coalescer.isEmpty).toBe(true);
		coalescer.unicast(a.connection, '{"n":1}');
		expect(coalescer.isEmpty).toBe(false);
		expect(a.received).toEqual([]);
		coalescer.flush();
		expect(coalescer.isEmpty).toBe(true);
		expect(await a.frames(1)).toEqual(['{"n":1}']);
	});

	it("sends one connection's events on their own, and leaves them out of the next flush", async () => {
		const a = openPair();
		const b = openPair();
		const coalescer = new Coalescer(new Set([a.connection, b.connection]));
		coalescer.broadcast('{"n":1}');
		expect(coalescer.flushOne(a.connection)).toBe(true);
		expect(await a.frames(1)).toEqual(['{"n":1}']);
		coalescer.flush();
		coalescer.unicast(a.connection, '{"n":2}');
		coalescer.flush();
		expect(await a.frames(2)).toEqual(['{"n":1}', '{"n":2}']);
		expect(await b.frames(1)).toEqual(['{"n":1}']);
	});

	it("returns the connections it could not send to, and sends to the rest", async () => {
		const gone = openPair();
		const live = openPair();
		gone.server.close(1000);
		const coalescer = new Coalescer(new Set([gone.connection, live.connection]));
		coalescer.broadcast('{"n":1}');
		expect(coalescer.flush()).toEqual([gone.connection]);
		expect(await live.frames(1)).toEqual(['{"n":1}']);
	});
});
