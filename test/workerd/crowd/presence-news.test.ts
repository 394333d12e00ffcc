/**
 * The rules of coalesced presence (src/room/presence-news.ts), at chosen moments: what passes
 * through below the limit, what is held past it, what a held interval comes to.
 */
import { describe, expect, it } from "vitest";
import type { Staged } from "../../../src/room/burst.ts";
import { PresenceNews } from "../../../src/room/presence-news.ts";
import { PRESENCE_INTERVAL_MS, PRESENCE_NAMES, type PresenceEvent } from "../../../src/wire/presence.ts";

const join = (name: string): Staged => ({ kind: "join", name, userId: null });
const leave = (name: string): Staged => ({ kind: "leave", name, userId: null });
const typing: Staged = { kind: "typing", name: "ann", from: "c1" };

/** The presence event a routed burst ends with, if any. */
function presenceOf(burst: Staged[]): PresenceEvent | null {
	const last = burst.at(-1);
	return last?.kind === "presence" ? last.event : null;
}

describe("coalesced presence", () => {
	it("passes every join and leave through below the limit", () => {
		const news = new PresenceNews(10, () => {});
		const burst = [join("ann"), typing, leave("bob")];
		expect(news.route(burst, 9, 0)).toEqual(burst);
	});

	it("past the limit, sends the first change at once and holds the next until the interval is over", async () => {
		let fired = () => {};
		const timerFired = new Promise<void>((resolve) => {
			fired = resolve;
		});
		const news = new PresenceNews(3, () => fired());
		expect(news.route([join("dan"), typing], 4, 1_000)).toEqual([
			typing,
			{
				kind: "presence",
				event: { type: "presence", memberCount: 4, joins: [{ name: "dan" }], leaves: [], joined: 1, left: 0 },
			},
		]);
		expect(news.route([join("eve")], 5, 1_000 + PRESENCE_INTERVAL_MS - 1)).toEqual([]);
		expect(news.due).toBe(false);
		// The held news sets a timer; once it has fired, the next burst (even an empty one) carries it.
		await timerFired;
		expect(news.due).toBe(true);
		expect(presenceOf(news.route([], 5, 1_000 + PRESENCE_INTERVAL_MS))).toEqual({
			type: "presence",
			memberCount: 5,
			joins: [{ name: "eve" }],
			leaves: [],
			joined: 1,
			left: 0,
		});
		expect(news.due).toBe(false);
	});

	it("keeps holding below the limit while something is held, so the count stays one story", () => {
		const news = new PresenceNews(3, () => {});
		news.route([join("dan")], 3, 0);
		expect(news.route([join("eve")], 4, 10)).toEqual([]);
		expect(news.route([leave("eve"), leave("dan")], 2, 20)).toEqual([]);
		expect(presenceOf(news.route([], 2, PRESENCE_INTERVAL_MS))).toEqual({
			type: "presence",
			memberCount: 2,
			joins: [],
			leaves: [{ name: "dan" }],
			joined: 0,
			left: 1,
		});
		// Nothing held and below the limit: events again.
		expect(news.route([leave("cat")], 1, PRESENCE_INTERVAL_MS + 5)).toEqual([leave("cat")]);
	});

	it("lists nobody who left and came back (a reconnect) or came and went, and still says the count", () => {
		const news = new PresenceNews(3, () => {});
		news.route([join("x")], 4, 0);
		news.route([leave("ann"), join("ann"), join("dan"), leave("dan"), leave("bob")], 3, 10);
		expect(presenceOf(news.route([], 3, PRESENCE_INTERVAL_MS))).toEqual({
			type: "presence",
			memberCount: 3,
			joins: [],
			leaves: [{ name: "bob" }],
			joined: 0,
			left: 1,
		});
		news.route([leave("cat"), join("cat")], 3, PRESENCE_INTERVAL_MS + 10);
		expect(presenceOf(news.route([], 3, 2 * PRESENCE_INTERVAL_MS))).toEqual({
			type: "presence",
			memberCount: 3,
			joins: [],
			leaves: [],
			joined: 0,
			left: 0,
		});
	});

	it("names at most PRESENCE_NAMES of a crowd and counts them all", () => {
		const news = new PresenceNews(3, () => {});
		const crowd = Array.from({ length: PRESENCE_NAMES + 7 }, (_, i) => join(`m${i}`));
		const event = presenceOf(news.route(crowd, 100, 0));
		expect(event?.joins).toHaveLength(PRESENCE_NAMES);
		expect(event?.joins[0]).toEqual({ name: "m0" });
		expect(event?.joined).toBe(PRESENCE_NAMES + 7);
	});

	it("keeps signed-mode members apart by user id and names them with it", () => {
		const news = new PresenceNews(1, () => {});
		const event = presenceOf(
			news.route(
				[
					{ kind: "join", name: "Ann", userId: "u1" },
					{ kind: "join", name: "Ann", userId: "u2" },
				],
				2,
				0,
			),
		);
		expect(event?.joins).toEqual([
			{ name: "Ann", userId: "u1" },
			{ name: "Ann", userId: "u2" },
		]);
	});
});
