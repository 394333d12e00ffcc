/**
 * Placement without the room's object (src/wire/placement.ts, src/worker/placements.ts): once
 * the room's object is full and has named a shard, the Worker places that room's next upgrades
 * on its shards by itself. SHARD_SIZE 3, MAX_CONNECTIONS 12 and two connections per stated
 * address in this project (vitest.config.ts).
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { freshRoom, inRoom } from "../rooms.ts";
import { connect, connectRich } from "../sockets.ts";

/** The headers of a client at `address`, as Cloudflare states it. */
const from = (address: string) => ({ "CF-Connecting-IP": address });

/** How many requests the room's object has decided on (upgrades it admitted or placed). */
const requestsAt = (room: string) => inRoom(room, (r) => r.requestsSeen());

/**
 * The connections of each part of the room as its object counts them (its own first). A shard
 * the Worker placed on counts once it reports, in its next call to the room: poll it.
 */
const partsOf = (room: string) => inRoom(room, (r) => r.stats().shards);

describe("placement without the room's object", () => {
	it("asks the room's object until it names a shard, then places the next upgrades on the shard itself", async () => {
		const room = freshRoom("placed");
		for (let i = 0; i < 4; i++) await connect(room); // three on the room's object, the fourth placed by it
		expect(await requestsAt(room)).toBe(4);
		await connect(room);
		await connect(room);
		// Shard 1 took both without the room's object hearing of them until the shard reported.
		expect(await requestsAt(room)).toBe(4);
		await expect.poll(() => partsOf(room)).toEqual([{ connections: 3 }, { connections: 3 }]);
	});

	it("sends an upgrade that found its shard full back to the room's object, which places it on a new one", async () => {
		const room = freshRoom("overflow");
		for (let i = 0; i < 6; i++) await connect(room); // the room's object and shard 1 are full
		const before = await requestsAt(room);
		await connect(room);
		expect(await requestsAt(room)).toBe(before + 1);
		await expect.poll(() => partsOf(room)).toEqual([{ connections: 3 }, { connections: 3 }, { connections: 1 }]);
	});

	it("welcomes a rich client placed by the Worker with the whole room, and delivers to it", async () => {
		const room = freshRoom("placed-rich");
		const ann = await connectRich(room, "ann");
		for (let i = 0; i < 3; i++) await connect(room);
		const requests = await requestsAt(room);
		const bob = await connectRich(room, "bob"); // placed by the Worker
		expect(await requestsAt(room)).toBe(requests);
		expect(bob.welcome.memberCount).toBe(3); // ann, bob and the plain clients' "guest"
		const said = await ann.say("to everyone");
		expect((await bob.nextOf("message")).id).toBe(said.id);
	});

	it("refuses an address past its limit on the shard its address names, with the room's 429", async () => {
		const room = freshRoom("placed-address");
		for (let i = 0; i < 3; i++) await connect(room); // the room's object is full (no address stated)
		await connect(room, undefined, undefined, from("203.0.113.7")); // placed by the room: shard 1
		await connect(room, undefined, undefined, from("203.0.113.7")); // placed by the Worker: shard 1
		const requests = await requestsAt(room);
		const refused = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, {
			headers: { Upgrade: "websocket", ...from("203.0.113.7") },
		});
		expect(refused.status).toBe(429);
		expect(refused.headers.get("Retry-After")).toBe("10");
		expect(await refused.text()).toBe("too many connections from your address in this room (2); try again later\n");
		expect(await requestsAt(room)).toBe(requests);
		// Another address is not affected.
		await connect(room, undefined, undefined, from("198.51.100.4"));
	});

	it("learns a view from a socket the room's object accepts while its shards hold the room (after a reset), and hides it from the client", async () => {
		const room = freshRoom("placed-after-reset");
		// As after a reset of the room's object: its own sockets gone, shard 1 still holding two.
		await inRoom(room, (r) => r.submit({ shard: 1, connections: 2, submissions: [] }));
		const accepted = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, {
			headers: { Upgrade: "websocket" },
		});
		expect(accepted.status).toBe(101);
		expect(accepted.headers.get("Edgechat-Shards")).toBeNull();
		accepted.webSocket?.accept();
		expect(await requestsAt(room)).toBe(1);
		// The room's object has room for two more, but the next upgrade goes to shard 1 without it.
		await connect(room);
		expect(await requestsAt(room)).toBe(1);
		await expect.poll(() => partsOf(room)).toEqual([{ connections: 1 }, { connections: 1 }]);
	});

	it("never lets a client claim the Worker placed it: the header is the Worker's", async () => {
		const room = freshRoom("forged-placed");
		const response = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, {
			headers: { Upgrade: "websocket", "Edgechat-Placed": "worker", "Edgechat-Shard": "2" },
		});
		expect(response.status).toBe(101);
		response.webSocket?.accept();
		expect(await requestsAt(room)).toBe(1);
		expect(await partsOf(room)).toEqual([{ connections: 1 }]);
	});
});
