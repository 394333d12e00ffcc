/**
 * Room settings (PROTOCOL.md, "Room settings") in signed mode, over a room spread on objects of
 * three connections (SHARD_SIZE 3 in this project): moderators change them, everyone hears it,
 * and the room applies them to every new message wherever its sender's socket is held: slow
 * mode per user across tabs and shards, announcement rooms, retention by age.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../../src/deployment/config.ts";
import { RoomPolicies } from "../../../src/room/policies.ts";
import { RoomStore } from "../../../src/room/room-store.ts";
import type { Submission } from "../../../src/wire/rpc.ts";
import { freshRoom, inRoom, stubFor } from "../rooms.ts";
import { connect } from "../sockets.ts";
import { signedIn, tokenFor } from "./tokens.ts";

describe("changing the settings", () => {
	it("a moderator's change reaches every member, shards included, and the next welcome carries it", async () => {
		const room = freshRoom();
		const mod = await signedIn(room, "u-mod", "moderator");
		expect(mod.welcome.settings).toEqual({ slowModeSeconds: 0, postingRole: "everyone", retentionDays: 0 });
		await signedIn(room, "u-x1");
		await signedIn(room, "u-x2");
		const onShard = await signedIn(room, "u-cat"); // the fourth connection: shard 1
		mod.send({ type: "settings", slowModeSeconds: 30 });
		const expected = { slowModeSeconds: 30, postingRole: "everyone", retentionDays: 0 };
		for (const client of [mod, onShard]) {
			expect(await client.nextOf("settings")).toEqual({ type: "settings", settings: expected, by: "mod" });
		}
		const later = await signedIn(room, "u-late");
		expect(later.welcome.settings).toEqual(expected);
		// Kept in the room's storage: they outlive the object.
		expect(await inRoom(room, (r) => r.settings())).toEqual(expected);
	});

	it("refuses a change from a member, and a change that names nothing or is out of range", async () => {
		const room = freshRoom();
		const ann = await signedIn(room, "u-ann");
		ann.send({ type: "settings", postingRole: "moderators" });
		expect(await ann.nextOf("error")).toMatchObject({
			code: "forbidden",
			message: "only moderators may change the room's settings",
		});
		const mod = await signedIn(room, "u-mod", "moderator");
		mod.send({ type: "settings" });
		expect(await mod.nextOf("error")).toMatchObject({ code: "bad_event" });
		mod.send({ type: "settings", slowModeSeconds: 21_601 });
		expect(await mod.nextOf("error")).toMatchObject({ code: "bad_event", message: /slowModeSeconds/ });
		mod.send({ type: "settings", postingRole: "admins" });
		expect(await mod.nextOf("error")).toMatchObject({ code: "bad_event", message: /postingRole/ });
		expect(await inRoom(room, (r) => r.settings().postingRole)).toBe("everyone");
	});
});

describe("slow mode", () => {
	it("holds one interval per user across its tabs and shards; moderators, retries and other users pass", async () => {
		const room = freshRoom();
		const mod = await signedIn(room, "u-mod", "moderator");
		const samHere = await signedIn(room, "u-sam");
		await signedIn(room, "u-x1");
		const samOnShard = await signedIn(room, "u-sam"); // shard 1
		const bobOnShard = await signedIn(room, "u-bob"); // shard 1
		mod.send({ type: "settings", slowModeSeconds: 60 });
		await samOnShard.nextOf("settings");
		const first = await samHere.say("first", "s-1");
		samOnShard.send({ type: "send", clientId: "s-2", text: "too soon, from another tab" });
		const refused = await samOnShard.nextOf("error");
		expect(refused).toMatchObject({ code: "slow_mode", clientId: "s-2" });
		expect(refused.retryAfterMs).toBeGreaterThan(55_000);
		expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
		// The same message again (its clientId stored) is not a new one: it comes back, not refused.
		samOnShard.send({ type: "send", clientId: "s-1", text: "first" });
		expect(await samOnShard.nextOf("message")).toMatchObject({ id: first.id, clientId: "s-1" });
		expect((await bobOnShard.say("bob has his own interval", "b-1")).text).toBe("bob has his own interval");
		await mod.say("moderators are exempt", "m-1");
		expect((await mod.say("twice", "m-2")).text).toBe("twice");
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(4);
	});

	it("admits just at the end of the interval and refuses just before it", async () => {
		const room = freshRoom();
		const verdicts = await runInDurableObject(stubFor(room), (_room, state) => {
			const policies = new RoomPolicies(new RoomStore(state.storage), state.storage, {
				...DEFAULTS,
				rateLimitMessages: 0,
			});
			policies.change({ slowModeSeconds: 10 }, "mod");
			const send = (clientId: string): Extract<Submission, { kind: "send" }> => ({
				kind: "send",
				from: "c1",
				name: "sam",
				userId: "u-sam",
				role: "member",
				text: "hi",
				clientId,
				replyTo: null,
			});
			const t0 = 1_000_000;
			return [
				policies.refusalOf("send", send("a"), t0),
				policies.refusalOf("send", send("b"), t0 + 9_999),
				policies.refusalOf("send", send("c"), t0 + 10_000),
				policies.refusalOf("send", send("d"), t0 + 10_001),
			];
		});
		expect(verdicts[0]).toBeNull();
		expect(verdicts[1]).toMatchObject({ code: "slow_mode", retryAfterMs: 1, clientId: "b" });
		expect(verdicts[2]).toBeNull();
		expect(verdicts[3]).toMatchObject({ code: "slow_mode", retryAfterMs: 9_999 });
	});
});

describe("announcement rooms", () => {
	it("refuse members' messages, admit moderators' and the HTTP API's, and close a plain member that posts", async () => {
		const room = freshRoom();
		const mod = await signedIn(room, "u-mod", "moderator");
		const ann = await signedIn(room, "u-ann");
		mod.send({ type: "settings", postingRole: "moderators" });
		await ann.nextOf("settings");
		ann.send({ type: "send", clientId: "a-1", text: "can I talk?" });
		expect(await ann.nextOf("error")).toMatchObject({ code: "posting_restricted", clientId: "a-1" });
		// Reactions stay open to everyone.
		const news = await mod.say("the news", "m-1");
		ann.send({ type: "react", id: news.id, emoji: "👍", on: true });
		expect(await ann.nextOf("reactions")).toMatchObject({ target: news.id });
		const posted = await stubFor(room).post({
			room,
			name: "Site",
			text: "from the backend",
			clientId: null,
			replyTo: null,
		});
		expect(posted.kind).toBe("stored");
		expect(await ann.nextOf("message")).toMatchObject({ text: "from the backend", api: true });
		const plain = await connect(room, undefined, await tokenFor(room, { sub: "u-pat" }));
		plain.socket.send("me too");
		expect(await plain.closed).toMatchObject({ code: 1008, reason: "refused: only moderators may post in this room" });
	});
});

describe("edits and reactions meet the rules", () => {
	it("refuses an edit in an announcement room and within slow mode, like a new message; a moderator's passes", async () => {
		const room = freshRoom();
		const mod = await signedIn(room, "u-mod", "moderator");
		const ann = await signedIn(room, "u-ann");
		const said = await ann.say("before the rules", "a-1");
		mod.send({ type: "settings", slowModeSeconds: 60 });
		await ann.nextOf("settings");
		// Slow mode: the edit is new words, in the same interval as a new message.
		const next = await ann.say("within the interval's start", "a-2");
		ann.send({ type: "edit", id: said.id, text: "rewritten at once" });
		expect(await ann.nextOf("error")).toMatchObject({ code: "slow_mode" });
		mod.send({ type: "settings", slowModeSeconds: 0, postingRole: "moderators" });
		await ann.nextOf("settings");
		ann.send({ type: "edit", id: next.id, text: "rewritten in an announcement room" });
		expect(await ann.nextOf("error")).toMatchObject({
			code: "posting_restricted",
			message: "only moderators may edit messages in this room",
		});
		const own = await mod.say("the news", "m-1");
		mod.send({ type: "edit", id: own.id, text: "the news, corrected" });
		expect(await ann.nextOf("edit")).toMatchObject({ target: own.id, text: "the news, corrected" });
	});

	it("draws a user's reactions from its one allowance (past it, rate_limited), and nothing else", async () => {
		const refusals = await runInDurableObject(stubFor(freshRoom()), (_room, state) => {
			const policies = new RoomPolicies(new RoomStore(state.storage), state.storage, DEFAULTS);
			policies.change({ slowModeSeconds: 60, postingRole: "moderators" }, "mod");
			const react = (tab: number) => ({ from: `tab-${tab}`, name: "sam", userId: "u-sam", role: "member" as const });
			// Reacting stays open in an announcement room and under slow mode: only the allowance counts.
			return Array.from({ length: 6 }, (_, i) => policies.refusalOf("react", react(i % 3), 1_000_000)?.code ?? null);
		});
		expect(refusals).toEqual([null, null, null, null, null, "rate_limited"]);
	});
});

describe("retention by age", () => {
	it("drops what is older than retentionDays at the alarm, and a client resuming from before the cut hears of the gap", async () => {
		const room = freshRoom();
		const mod = await signedIn(room, "u-mod", "moderator");
		for (let i = 1; i <= 5; i++) await mod.say(`m${i}`, `c${i}`);
		mod.send({ type: "settings", retentionDays: 1 });
		await mod.nextOf("settings");
		// Time passes for the first three: they were stored two days ago.
		await runInDurableObject(stubFor(room), (_room, state) => {
			state.storage.sql.exec("UPDATE messages SET ts = ts - 2 * 86400000 WHERE id <= 3");
		});
		expect(await runDurableObjectAlarm(stubFor(room))).toBe(true);
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(2);
		const fromBefore = await signedIn(room, "u-ann", "member", { since: 1 });
		expect(fromBefore.welcome.gap).toBe(true);
		const fromTheCut = await signedIn(room, "u-bob", "member", { since: 3 });
		expect(fromTheCut.welcome.gap).toBe(false);
		expect(fromTheCut.welcome.history.map((entry) => entry.id)).toEqual([4, 5]);
		// The alarm stays due while retention is on.
		expect(await runInDurableObject(stubFor(room), (_room, state) => state.storage.getAlarm())).not.toBeNull();
	});

	it("keeps counting ids after every message aged out, across a restart of the object", async () => {
		const room = freshRoom();
		const mod = await signedIn(room, "u-mod", "moderator");
		for (let i = 1; i <= 3; i++) await mod.say(`m${i}`, `c${i}`);
		mod.send({ type: "settings", retentionDays: 1 });
		await mod.nextOf("settings");
		await mod.close();
		await runInDurableObject(stubFor(room), (_room, state) => {
			state.storage.sql.exec("UPDATE messages SET ts = ts - 2 * 86400000");
		});
		await runDurableObjectAlarm(stubFor(room));
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(0);
		await runInDurableObject(stubFor(room), (_room, state) => state.abort("restart for a test")).catch(() => {});
		const back = await signedIn(room, "u-mod", "moderator");
		expect((await back.say("after the cut", "c4")).id).toBe(4);
	});
});
