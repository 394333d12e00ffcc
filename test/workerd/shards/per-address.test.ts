/**
 * Connections per client address in open mode (src/room/admission.ts,
 * `MAX_CONNECTIONS_PER_ADDRESS`, 4 in this project; SHARD_SIZE 3, so an address's connections
 * spread over the room's object and its shards): the room counts them wherever they are held and
 * refuses the next with 429 before the upgrade, and admits again once one has closed.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { freshRoom, inRoom } from "../rooms.ts";
import { connect } from "../sockets.ts";

/** The headers of a client at `address`, as Cloudflare states it. */
const from = (address: string) => ({ "CF-Connecting-IP": address });

describe("connections per address (open mode)", () => {
	it("refuses an address's fifth connection in a room with 429, across the room's parts, and admits again after a close", async () => {
		const room = freshRoom();
		const mine = [];
		for (let i = 0; i < 4; i++) mine.push(await connect(room, undefined, undefined, from("203.0.113.5")));
		const refused = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, {
			headers: { Upgrade: "websocket", ...from("203.0.113.5") },
		});
		expect(refused.status).toBe(429);
		expect(refused.headers.get("Retry-After")).toBe("10");
		expect(await refused.text()).toBe("too many connections from your address in this room (4); try again later\n");
		// A page that could not connect asks why with a plain GET, and hears the same.
		const asked = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, {
			headers: from("203.0.113.5"),
		});
		expect(asked.status).toBe(429);
		// Another address, and a client whose address is not stated, are not affected.
		await connect(room, undefined, undefined, from("198.51.100.9"));
		await connect(room);
		// One connection closes: once the room has counted it gone, the address gets in again.
		mine[0]?.socket.close(1000, "done");
		await expect.poll(() => inRoom(room, (r) => r.stats().connections), { timeout: 5_000 }).toBe(5);
		await connect(room, undefined, undefined, from("203.0.113.5"));
		// A room of its own counts apart.
		await connect(freshRoom(), undefined, undefined, from("203.0.113.5"));
	});
});
