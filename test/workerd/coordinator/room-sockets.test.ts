/**
 * `ROOM_SOCKETS`: the room's own object holds fewer sockets than a shard, so a big room's
 * coordinator spends its thread on coordinating (docs/capacity.md). This project has
 * `SHARD_SIZE` 3, `ROOM_SOCKETS` 1 and `MAX_CONNECTIONS` 7: the room's object holds one socket,
 * two shards hold three each, and the eighth is refused.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { freshRoom, inRoom } from "../rooms.ts";
import { connectRich, nextMessages, type RichClient } from "../sockets.ts";

describe("ROOM_SOCKETS", () => {
	it("keeps the room's own object at ROOM_SOCKETS, puts the rest in shards of SHARD_SIZE, and refuses past MAX_CONNECTIONS", async () => {
		const room = freshRoom("coordinator");
		const clients: RichClient[] = [];
		for (const name of ["ann", "bob", "cat", "dan", "eve", "fay", "gus"]) clients.push(await connectRich(room, name));
		const { shards, members } = await inRoom(room, (r) => r.stats());
		expect(shards.map((part) => part.connections)).toEqual([1, 3, 3]);
		expect(members).toBe(7);
		const refused = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, {
			headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "edgechat.v1" },
		});
		expect(refused.status).toBe(503);
		// The room works across its parts as ever.
		(clients[0] as RichClient).send({ type: "send", clientId: "one", text: "from the room's object" });
		for (const client of clients) expect((await nextMessages(client, 1))[0]).toMatch(/ from the room's object$/);
	});
});
