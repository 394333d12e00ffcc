/**
 * Limits across connections. Requests per client address that reach a room's object
 * (src/gate/room-request-limit.ts): the Workers Rate Limiting binding of wrangler.toml, as the
 * runtime emulates it, counts every upgrade, every plain GET of a socket URL (a page asking why)
 * and every unkeyed stats request an address makes before anything else is spent on it; an IPv6
 * address counts by its /64. Signed mode here, so the requests are refused cheaply after they are
 * counted (a token that does not verify: 401), and the limit's own answer stands out.
 * Connections per user (src/room/admission.ts): `MAX_CONNECTIONS_PER_USER` as shipped (20).
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ROOM_REQUEST_LIMIT_PERIOD_SECONDS } from "../../../src/gate/room-request-limit.ts";
import { inOneWindow } from "../../support/limit-window.ts";
import { freshRoom, inRoom } from "../rooms.ts";
import { connectRich } from "../sockets.ts";
import { tokenFor } from "./tokens.ts";

/** An upgrade from `address` with a token that does not verify. */
function upgradeFrom(address: string, room: string) {
	return exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket?token=not-a-token`, {
		headers: { Upgrade: "websocket", "CF-Connecting-IP": address },
	});
}

/** The same URL without the upgrade (how a page asks why it was refused). */
function askFrom(address: string, room: string) {
	return exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket?token=not-a-token`, {
		headers: { "CF-Connecting-IP": address },
	});
}

/** A room's stats without the API key. */
function statsFrom(address: string, room: string) {
	return exports.default.fetch(`http://chat.test/api/rooms/${room}`, { headers: { "CF-Connecting-IP": address } });
}

describe("requests per address that reach a room", () => {
	it("answers 429 with Retry-After past 600 a minute from one address, upgrades, asks and stats together, whatever the rooms", async () => {
		const { address, statuses, refused, stats } = await inOneWindow(
			ROOM_REQUEST_LIMIT_PERIOD_SECONDS,
			async (attempt) => {
				const address = `203.0.113.${attempt}`;
				const statuses: number[] = [];
				for (let i = 0; i < 200; i++) {
					statuses.push((await upgradeFrom(address, freshRoom())).status);
					statuses.push((await askFrom(address, freshRoom())).status);
					statuses.push((await statsFrom(address, freshRoom())).status);
				}
				const refused = [await upgradeFrom(address, freshRoom()), await askFrom(address, freshRoom())];
				return { address, statuses, refused, stats: await statsFrom(address, freshRoom()) };
			},
		);
		expect(new Set(statuses)).toEqual(new Set([401]));
		for (const response of refused) {
			expect(response.status).toBe(429);
			expect(response.headers.get("Retry-After")).toBe(String(ROOM_REQUEST_LIMIT_PERIOD_SECONDS));
			expect(await response.text()).toBe("too many requests from your address; try again in a minute\n");
		}
		expect(stats.status).toBe(429);
		expect(stats.headers.get("Content-Type")).toBe("application/problem+json");
		expect(stats.headers.get("Retry-After")).toBe(String(ROOM_REQUEST_LIMIT_PERIOD_SECONDS));
		// Another address has its own count.
		expect((await upgradeFrom("198.51.100.20", freshRoom())).status).toBe(401);
		expect(address).toMatch(/^203\.0\.113\.[123]$/);
	}, 120_000);

	it("counts an IPv6 address by its /64: another address of the same /64 is refused, the next /64 is not", async () => {
		const { statuses, sameNet, sameNetOtherSpelling, nextNet } = await inOneWindow(
			ROOM_REQUEST_LIMIT_PERIOD_SECONDS,
			async (attempt) => {
				const net = `2001:db8:5:${attempt}`;
				const statuses = new Set<number>();
				for (let i = 0; i < 600; i++)
					statuses.add((await upgradeFrom(`${net}::${(i + 1).toString(16)}`, freshRoom())).status);
				return {
					statuses,
					sameNet: (await upgradeFrom(`${net}:ffff:ffff:ffff:ffff`, freshRoom())).status,
					sameNetOtherSpelling: (await upgradeFrom(`${net.toUpperCase()}:0::9`, freshRoom())).status,
					nextNet: (await upgradeFrom(`2001:db8:5:${attempt + 10}::1`, freshRoom())).status,
				};
			},
		);
		expect(statuses).toEqual(new Set([401]));
		expect(sameNet).toBe(429);
		expect(sameNetOtherSpelling).toBe(429);
		expect(nextNet).toBe(401);
	}, 120_000);
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
