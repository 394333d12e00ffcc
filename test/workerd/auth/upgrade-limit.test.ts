/**
 * Upgrades per client address (src/worker/upgrade-limit.ts): the Workers Rate Limiting binding
 * of wrangler.toml, as the runtime emulates it, counts every upgrade an address asks for before
 * anything else is spent on it. Signed mode here, so the upgrades are refused cheaply after
 * they are counted (a token that does not verify: 401), and the limit's own answer stands out.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { UPGRADE_LIMIT_PERIOD_SECONDS } from "../../../src/worker/upgrade-limit.ts";
import { freshRoom } from "../rooms.ts";

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
