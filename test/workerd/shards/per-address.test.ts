/**
 * Connections per client address in open mode (src/room/admission.ts,
 * `MAX_CONNECTIONS_PER_ADDRESS`, 4 in this project; SHARD_SIZE 3, so an address's connections
 * spread over the room's object and its shards): the room counts them wherever they are held and
 * refuses what it decides past the limit with 429 (the upgrades it admits or places, and a page's
 * question why), and admits again once one has closed. Upgrades the Worker places on a shard by
 * itself are counted by that shard (test/workerd/crowd/placement.test.ts).
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { freshRoom, inRoom } from "../rooms.ts";
import { connect } from "../sockets.ts";

/** The headers of a client at `address`, as Cloudflare states it. */
const from = (address: string) => ({ "CF-Connecting-IP": address });

describe("connections per address (open mode)", () => {
	it("counts an address's connections across the room's parts and says 429 past the limit, and not after a close", async () => {
		const room = freshRoom();
		const mine = [];
		// Three on the room's object, the fourth placed by it on shard 1 (it counted the three).
		for (let i = 0; i < 4; i++) mine.push(await connect(room, undefined, undefined, from("203.0.113.5")));
		const ask = (address?: string) =>
			exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, { headers: address ? from(address) : {} });
		// A page that could not connect asks why with a plain GET: the room counts every part.
		const asked = await ask("203.0.113.5");
		expect(asked.status).toBe(429);
		expect(asked.headers.get("Retry-After")).toBe("10");
		expect(await asked.text()).toBe("too many connections from your address in this room (4); try again later\n");
		// Another address, and a client whose address is not stated, are not affected.
		expect((await ask("198.51.100.9")).status).toBe(426);
		expect((await ask()).status).toBe(426);
		// One connection closes: once the room has counted it gone, the address is below the limit again.
		mine[0]?.socket.close(1000, "done");
		await expect.poll(() => inRoom(room, (r) => r.stats().connections), { timeout: 5_000 }).toBe(3);
		expect((await ask("203.0.113.5")).status).toBe(426);
		// A room of its own counts apart.
		await connect(freshRoom(), undefined, undefined, from("203.0.113.5"));
	});
});
