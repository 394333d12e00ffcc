/**
 * What a room keeps of its bans stays bounded (src/room/bans.ts): a ban that has ended is removed
 * when the next ban is written, a room keeps at most `MAX_BANS` in force and refuses one more
 * (`too_many_bans` on a socket, 409 `too-many-bans` through the HTTP API), and after a wake it
 * still enforces every ban in force, read back from its storage.
 */
import { createExecutionContext, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import api from "../../../src/api/app.ts";
import { MAX_BANS } from "../../../src/room/bans.ts";
import { freshRoom, inRoom, stubFor } from "../rooms.ts";
import { connect } from "../sockets.ts";
import { signedIn, tokenFor } from "./tokens.ts";

/** The rows of a room's bans table: user and end. */
function banRows(room: string): Promise<{ user_id: string; until: number }[]> {
	return runInDurableObject(stubFor(room), (_room, state) =>
		state.storage.sql.exec<{ user_id: string; until: number }>("SELECT user_id, until FROM bans").toArray(),
	);
}

/**
 * Writes bans straight into a room's table, as if its moderators had banned these users before,
 * then evicts the room, so its next instance reads them back as a wake does.
 */
async function bannedBefore(room: string, bans: { userId: string; until: number }[]): Promise<void> {
	await runInDurableObject(stubFor(room), (_room, state) => {
		// The room keeps something (as it would once a moderator has banned): its table, as bans.ts makes it.
		state.storage.sql.exec("CREATE TABLE IF NOT EXISTS bans (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL)");
		for (const { userId, until } of bans) {
			state.storage.sql.exec("INSERT INTO bans (user_id, until) VALUES (?, ?)", userId, until);
		}
	});
	await evictDurableObject(stubFor(room));
}

/** The API, keyed (the auth project has no API_KEY of its own). */
const API_KEY = "an-api-key-of-at-least-32-bytes-0123456789";
const keyed = { ...env, API_KEY };

describe("bans kept by a room", () => {
	it("removes the bans that have ended when the next ban is written", async () => {
		const room = freshRoom();
		const now = Date.now();
		await bannedBefore(room, [
			{ userId: "u-ended-1", until: now - 60_000 },
			{ userId: "u-ended-2", until: now - 1 },
			{ userId: "u-still", until: now + 3_600_000 },
		]);
		// An ended ban keeps nobody out, even before it is removed.
		expect((await signedIn(room, "u-ended-1")).welcome.userId).toBe("u-ended-1");
		const mod = await signedIn(room, "u-mod", "moderator");
		mod.send({ type: "ban", userId: "u-new", seconds: 60 });
		expect(await mod.nextOf("removed")).toMatchObject({ userId: "u-new" });
		const rows = await banRows(room);
		expect(rows.map((row) => row.user_id).sort()).toEqual(["u-new", "u-still"]);
	});

	it(`keeps at most ${MAX_BANS} bans in force: one more is refused to its moderator alone, a ban replaced is not`, async () => {
		const room = freshRoom();
		const now = Date.now();
		const inForce = Array.from({ length: MAX_BANS - 1 }, (_, i) => ({ userId: `u-${i}`, until: now + 3_600_000 }));
		const ended = Array.from({ length: 50 }, (_, i) => ({ userId: `u-gone-${i}`, until: now - 1_000 }));
		await bannedBefore(room, [...inForce, ...ended]);
		const mod = await signedIn(room, "u-mod", "moderator");
		const watcher = await signedIn(room, "u-watcher");

		// The last one that fits: the ended bans do not count, and are removed with it.
		mod.send({ type: "ban", userId: "u-last", seconds: 60 });
		expect(await watcher.nextOf("removed")).toMatchObject({ userId: "u-last" });
		expect(await banRows(room)).toHaveLength(MAX_BANS);

		mod.send({ type: "ban", userId: "u-watcher", seconds: 60 });
		expect(await mod.nextOf("error")).toEqual({
			type: "error",
			code: "too_many_bans",
			message: `this room keeps at most ${MAX_BANS} bans in force: lift one, or wait for one to end`,
		});
		// Nobody was removed: the watcher talks on, and was told of no ban.
		expect((await watcher.say("still here")).text).toBe("still here");
		expect(watcher.raw.received.filter((frame) => String(frame).includes('u-watcher","by'))).toEqual([]);

		// Replacing a ban adds none.
		mod.send({ type: "ban", userId: "u-7", seconds: 7_200 });
		const replaced = await mod.nextOf("removed");
		expect(replaced).toMatchObject({ userId: "u-7", by: "mod" });
		expect(await banRows(room)).toHaveLength(MAX_BANS);

		// Through the HTTP API: 409 problem details, and nothing stored.
		const ctx = createExecutionContext();
		const put = (userId: string) =>
			api.fetch(
				new Request(`http://chat.test/api/rooms/${room}/bans/${userId}`, {
					method: "PUT",
					headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
					body: JSON.stringify({ seconds: 60 }),
				}),
				keyed,
				ctx,
			);
		const refused = await put("u-api");
		expect(refused.status).toBe(409);
		expect(refused.headers.get("Content-Type")).toBe("application/problem+json");
		expect(await refused.json()).toEqual({
			type: "tag:edgechat,2026:problem:too-many-bans",
			title: "The room keeps too many bans",
			status: 409,
			detail: `this room keeps at most ${MAX_BANS} bans in force: lift one, or wait for one to end`,
		});
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(1);
		expect((await banRows(room)).some((row) => row.user_id === "u-api")).toBe(false);

		// Lifting one makes room for one.
		const lifted = await api.fetch(
			new Request(`http://chat.test/api/rooms/${room}/bans/u-3`, {
				method: "DELETE",
				headers: { Authorization: `Bearer ${API_KEY}` },
			}),
			keyed,
			ctx,
		);
		expect(lifted.status).toBe(204);
		const banned = await put("u-api");
		expect(banned.status).toBe(200);
		expect(await banned.json()).toMatchObject({ userId: "u-api" });
	});

	it("enforces every ban in force after a wake, at the door and on what a shard passes on", async () => {
		const room = freshRoom();
		const now = Date.now();
		const bans = Array.from({ length: 1_000 }, (_, i) => ({ userId: `u-${i}`, until: now + 3_600_000 + i }));
		await bannedBefore(room, [...bans, { userId: "u-ended", until: now - 1 }]);
		await expect(signedIn(room, "u-0")).rejects.toThrow(/403: banned until/);
		await expect(signedIn(room, "u-999")).rejects.toThrow(/403: banned until/);
		expect((await signedIn(room, "u-ended")).welcome.userId).toBe("u-ended");
		// As if a shard that missed every ban passed on a message of each of them, and one of a
		// user who is not banned: only that one is stored.
		const send = (userId: string) =>
			({
				kind: "send",
				from: `1/${userId}`,
				name: userId,
				userId,
				role: "member",
				text: `from ${userId}`,
				clientId: `c-${userId}`,
				replyTo: null,
			}) as const;
		await inRoom(room, (r) =>
			r.submit({ shard: 1, connections: 1, submissions: [...bans.map(({ userId }) => send(userId)), send("u-free")] }),
		);
		const stored = await runInDurableObject(
			stubFor(room),
			(_room, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM bans").one().n,
		);
		expect(stored).toBe(1_001);
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(1);
	});

	it("holds a banned user's plain binary frames back like its messages, wherever they come through", async () => {
		const room = freshRoom();
		const mod = await signedIn(room, "u-mod", "moderator");
		const watcher = await connect(room, undefined, await tokenFor(room, { sub: "u-watch" }));
		mod.send({ type: "ban", userId: "u-bad", seconds: 3_600 });
		await mod.nextOf("removed");
		// As if a shard that missed the ban passed on a binary frame of the banned user, then another's.
		const frame = (userId: string, bytes: number[]) =>
			({
				kind: "frame",
				from: `1/${userId}`,
				name: userId,
				userId,
				role: "member",
				frame: new Uint8Array(bytes).buffer,
			}) as const;
		await inRoom(room, (r) =>
			r.submit({ shard: 1, connections: 2, submissions: [frame("u-bad", [1, 2, 3]), frame("u-free", [4, 5, 6])] }),
		);
		const got = await watcher.next();
		expect(got).toBeInstanceOf(ArrayBuffer);
		expect([...new Uint8Array(got as ArrayBuffer)]).toEqual([4, 5, 6]);
	});
});
