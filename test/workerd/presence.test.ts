/** Presence (src/room/presence.ts) on its own: names counted over every object of a room. */
import { describe, expect, it } from "vitest";
import { Presence } from "../../src/room/presence.ts";

describe("Presence", () => {
	it("says a member joined with its first connection and left with its last, counting several at once", () => {
		const presence = new Presence();
		expect(presence.add("ann", "ann")).toBe(true);
		expect(presence.add("ann", "ann", 2)).toBe(false);
		expect(presence.remove("ann", 2)).toBe(false);
		expect(presence.remove("ann")).toBe(true);
		expect(presence.remove("ann")).toBe(false);
		expect(presence.size).toBe(0);
	});

	it("samples the first names to arrive, sorted, at most the limit", () => {
		const presence = new Presence();
		for (const name of ["zed", "amy", "kim", "bob"]) presence.add(`id-${name}`, name);
		presence.remove("id-amy");
		presence.add("id-amy", "amy");
		expect(presence.sample(3)).toEqual(["bob", "kim", "zed"]);
		expect(presence.sample(10)).toEqual(["amy", "bob", "kim", "zed"]);
		expect(presence.size).toBe(4);
	});
});
