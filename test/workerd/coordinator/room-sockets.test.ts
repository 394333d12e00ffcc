/**
 * `ROOM_SOCKETS`: the room's own object holds fewer sockets than a shard, so a big room's
 * coordinator spends its thread on coordinating (docs/capacity.md). This project has
 * `SHARD_SIZE` 3, `ROOM_SOCKETS` 0 and `MAX_CONNECTIONS` 6: the room's object holds no socket at
 * all, two shards hold three each, and the seventh is refused. The room's object never accepts
 * a socket here, so it learns its name (which names its shards) from the upgrades it places and
 * the shards' batches: its pushes reach every shard.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { freshRoom, inRoom } from "../rooms.ts";
import { connectRich, nextMessages, type RichClient } from "../sockets.ts";

describe("ROOM_SOCKETS", () => {
	it("keeps the room's own object at ROOM_SOCKETS (none), puts the rest in shards of SHARD_SIZE, and refuses past MAX_CONNECTIONS", async () => {
		const room = freshRoom("coordinator");
		const clients: RichClient[] = [];
		for (const name of ["ann", "bob", "cat", "dan", "eve", "fay"]) clients.push(await connectRich(room, name));
		const { shards, members } = await inRoom(room, (r) => r.stats());
		expect(shards.map((part) => part.connections)).toEqual([0, 3, 3]);
		expect(members).toBe(6);
		const refused = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, {
			headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "edgechat.v1" },
		});
		expect(refused.status).toBe(503);
		// The room works across its parts as ever: what one shard's client says reaches the other shard.
		(clients[0] as RichClient).send({ type: "send", clientId: "one", text: "from shard 1" });
		for (const client of clients) expect((await nextMessages(client, 1))[0]).toMatch(/ from shard 1$/);
	});
});
