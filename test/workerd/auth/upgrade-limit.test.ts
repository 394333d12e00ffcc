/**
 * Limits across connections. Upgrades per client address (src/worker/upgrade-limit.ts): the Workers Rate Limiting binding
 * of wrangler.toml, as the runtime emulates it, counts every upgrade an address asks for before
 * anything else is spent on it. Signed mode here, so the upgrades are refused cheaply after
 * they are counted (a token that does not verify: 401), and the limit's own answer stands out.
 * Connections per user (src/room/admission.ts): `MAX_CONNECTIONS_PER_USER` as shipped (20).
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { UPGRADE_LIMIT_PERIOD_SECONDS } from "../../../src/worker/upgrade-limit.ts";
import { freshRoom, inRoom } from "../rooms.ts";
import { connectRich } from "../sockets.ts";
import { tokenFor } from "./tokens.ts";

/** An upgrade from `address` with a token that does not verify. */
function upgradeFrom(address: string, room: string) {
	return exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket?token=not-a-token`, {
		headers: { Upgrade: "websocket", "CF-Connecting-IP": address },
	});
}

describe("upgrades per address", () => {
	it("answers 429 with Retry-After past 600 a minute from one address, whatever the rooms, and nobody else is affected", async () => {
		const statuses: number[] = [];
		for (let i = 0; i < 600; i++) statuses.push((await upgradeFrom("203.0.113.7", freshRoom())).status);
		expect(new Set(statuses)).toEqual(new Set([401]));
		const refused = await upgradeFrom("203.0.113.7", freshRoom());
		expect(refused.status).toBe(429);
		expect(refused.headers.get("Retry-After")).toBe(String(UPGRADE_LIMIT_PERIOD_SECONDS));
		expect(await refused.text()).toBe("too many connections from your address; try again in a minute\n");
		// Another address has its own count.
		expect((await upgradeFrom("198.51.100.20", freshRoom())).status).toBe(401);
	});
});

describe("connections per user", () => {
	it("counts a user's connections across the room's parts and says 429 past 20, and not after a close", async () => {
		const room = freshRoom();
		const token = await tokenFor(room, { sub: "u-many" });
		// SHARD_SIZE is 3 here: twenty connections spread over the room's object and several shards.
		const tabs = [];
		for (let i = 0; i < 20; i++) tabs.push(await connectRich(room, "ignored", undefined, token));
		// What the room's object decides counts every part: a page asking why (a plain GET) hears 429.
		// (An upgrade the Worker places on a shard by itself is counted by that shard, which holds
		// all of a user's connections when SHARD_SIZE is above the limit: test/workerd/crowd/.)
		const ask = async (as: string) =>
			exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket?token=${encodeURIComponent(as)}`);
		const refused = await ask(token);
		expect(refused.status).toBe(429);
		expect(refused.headers.get("Retry-After")).toBe("10");
		expect(await refused.text()).toBe("too many connections for this user (20); close one and try again\n");
		// Another user is not affected.
		expect((await ask(await tokenFor(room, { sub: "u-other" }))).status).toBe(426);
		// One tab closes: once the room has counted it gone, the user is below the limit again.
		await tabs[0]?.close();
		await expect.poll(() => inRoom(room, (r) => r.stats().connections), { timeout: 5_000 }).toBe(19);
		expect((await ask(token)).status).toBe(426);
		const back = await connectRich(room, "ignored", undefined, token);
		expect(back.welcome.userId).toBe("u-many");
	});
});
