/**
 * Signed mode inside the room: the token is the identity, read-only tokens send nothing,
 * authors edit and delete their own messages, moderators delete any and kick and ban
 * (PROTOCOL.md, "Signed identity and moderation"). SHARD_SIZE is 3 here, so the fourth and later
 * connections of a room are held by shards: moderation must reach them too.
 */
import { evictDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { freshRoom, inRoom, stubFor } from "../rooms.ts";
import { connect, textOf } from "../sockets.ts";
import { signedIn, tokenFor } from "./tokens.ts";

describe("identity", () => {
	it("shows the token's name, and welcomes with the user's id and role", async () => {
		const room = freshRoom();
		const ann = await signedIn(room, "u-ann", "moderator");
		expect(ann.welcome).toMatchObject({ name: "ann", userId: "u-ann", role: "moderator", members: ["ann"] });
		const said = await ann.say("hello");
		expect(said).toMatchObject({ name: "ann", userId: "u-ann", text: "hello" });
	});

	it("counts two tabs of one user as one member, whatever else", async () => {
		const room = freshRoom();
		const bob = await signedIn(room, "u-bob");
		await signedIn(room, "u-ann");
		expect(await bob.nextOf("join")).toEqual({ type: "join", name: "ann", userId: "u-ann" });
		const secondTab = await signedIn(room, "u-ann");
		expect(secondTab.welcome.memberCount).toBe(2);
		await secondTab.close();
		const third = await signedIn(room, "u-cat");
		expect(third.welcome.members).toEqual(["ann", "bob", "cat"]);
		// bob heard one join for ann, none for her second tab, and none of it leaving.
		expect(await bob.nextOf("join")).toEqual({ type: "join", name: "cat", userId: "u-cat" });
	});

	it("lets a read-only token receive everything and send nothing", async () => {
		const room = freshRoom();
		const ann = await signedIn(room, "u-ann");
		const reader = await signedIn(room, "u-reader", "readonly");
		reader.send({ type: "send", clientId: "r1", text: "let me talk" });
		expect(await reader.nextOf("error")).toMatchObject({ code: "forbidden", clientId: "r1" });
		reader.send({ type: "typing" });
		expect(await reader.nextOf("error")).toMatchObject({ code: "forbidden" });
		const said = await ann.say("you can read this");
		expect(await reader.nextOf("message")).toMatchObject({ id: said.id, text: "you can read this" });
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(1);
	});

	it("shows a plain client under its token's name, and closes a read-only plain client that sends", async () => {
		const room = freshRoom();
		const ann = await signedIn(room, "u-ann");
		const plain = await connect(room, undefined, await tokenFor(room, { sub: "u-pat" }));
		expect(await ann.nextOf("join")).toEqual({ type: "join", name: "pat", userId: "u-pat" });
		plain.socket.send("from the tutorial client");
		expect(await ann.nextOf("message")).toMatchObject({ name: "pat", userId: "u-pat", clientId: null });
		const reader = await connect(room, undefined, await tokenFor(room, { sub: "u-rita", role: "readonly" }));
		reader.socket.send("hi");
		expect(await reader.closed).toMatchObject({ code: 1008, reason: "read-only: this token may not send" });
	});
});

describe("edits and deletes", () => {
	it("lets authors edit and delete their own messages, everyone sees it, and refuses others'", async () => {
		const room = freshRoom();
		const ann = await signedIn(room, "u-ann");
		const bob = await signedIn(room, "u-bob");
		const first = await ann.say("frist");
		ann.send({ type: "edit", id: first.id, text: "first" });
		expect(await bob.nextOf("edit")).toMatchObject({ target: first.id, text: "first", userId: "u-ann", name: "ann" });
		bob.send({ type: "edit", id: first.id, text: "bob was here" });
		expect(await bob.nextOf("error")).toMatchObject({ code: "forbidden" });
		bob.send({ type: "delete", id: first.id });
		expect(await bob.nextOf("error")).toMatchObject({ code: "forbidden" });
		ann.send({ type: "delete", id: first.id });
		const deleted = await bob.nextOf("delete");
		expect(deleted).toMatchObject({ target: first.id, userId: "u-ann" });
		ann.send({ type: "edit", id: first.id, text: "too late" });
		expect(await ann.nextOf("error")).toMatchObject({ code: "not_found" });
		ann.send({ type: "delete", id: 999 });
		expect(await ann.nextOf("error")).toMatchObject({ code: "not_found" });
		// An edit's or delete's own id is not a message.
		ann.send({ type: "delete", id: deleted.id });
		expect(await ann.nextOf("error")).toMatchObject({ code: "not_found" });
	});

	it("lets a moderator delete anyone's message, and every part of the room sees it", async () => {
		const room = freshRoom();
		const ann = await signedIn(room, "u-ann");
		const mod = await signedIn(room, "u-mod", "moderator");
		await signedIn(room, "u-x1");
		const onShard = await signedIn(room, "u-cat"); // the fourth connection: shard 1
		const said = await ann.say("spam spam");
		mod.send({ type: "delete", id: said.id });
		for (const client of [ann, onShard]) {
			expect(await client.nextOf("delete")).toMatchObject({ target: said.id, userId: "u-mod", name: "mod" });
		}
	});

	it("replays edits and deletes, in order, to a late joiner and to a client resuming", async () => {
		const room = freshRoom();
		const ann = await signedIn(room, "u-ann");
		const one = await ann.say("one");
		const bob = await signedIn(room, "u-bob");
		await bob.close();
		ann.send({ type: "edit", id: one.id, text: "one, edited" });
		const two = await ann.say("two");
		ann.send({ type: "delete", id: two.id });
		await ann.nextOf("delete");
		const back = await signedIn(room, "u-bob", "member", { since: one.id });
		// A deleted message's words are gone from the log; its entry and id stay.
		expect(back.welcome.history.map((entry) => ["kind" in entry ? entry.kind : "message", textOf(entry)])).toEqual([
			["edit", "one, edited"],
			["message", ""],
			["delete", null],
		]);
		// A late joiner gets the messages as they stand now: the edit applied, the deleted one empty.
		const late = await signedIn(room, "u-cat");
		expect(late.welcome.history).toMatchObject([
			{ id: 1, text: "one, edited", edited: true },
			{ id: 3, text: "", deleted: true },
		]);
		expect(late.welcome.latestId).toBe(4);
	});

	it("refuses a kick or a ban from anyone but a moderator", async () => {
		const room = freshRoom();
		const ann = await signedIn(room, "u-ann");
		ann.send({ type: "kick", userId: "u-bob" });
		expect(await ann.nextOf("error")).toMatchObject({ code: "forbidden", message: "only moderators may kick" });
		ann.send({ type: "ban", userId: "u-bob", seconds: 60 });
		expect(await ann.nextOf("error")).toMatchObject({ code: "forbidden", message: "only moderators may ban" });
	});
});

describe("kicks and bans", () => {
	it("kicks every connection of a user, in every part of the room, with 4001; the others are told", async () => {
		const room = freshRoom();
		const mod = await signedIn(room, "u-mod", "moderator");
		const bobHere = await signedIn(room, "u-bob");
		const watcher = await signedIn(room, "u-cat");
		const bobOnShard = await signedIn(room, "u-bob"); // the fourth connection: shard 1
		mod.send({ type: "kick", userId: "u-bob" });
		for (const bob of [bobHere, bobOnShard]) {
			expect(await bob.raw.closed).toMatchObject({ code: 4001, reason: "kicked by a moderator" });
		}
		expect(await watcher.nextOf("removed")).toEqual({ type: "removed", userId: "u-bob", name: "bob", by: "mod" });
		expect(await watcher.nextOf("leave")).toEqual({ type: "leave", name: "bob", userId: "u-bob" });
		// A kick is not a ban: bob may come back.
		expect((await signedIn(room, "u-bob")).welcome.name).toBe("bob");
	});

	it("bans a user: its connections close with 4003, and it is kept out until the ban ends, across evictions", async () => {
		const room = freshRoom();
		const mod = await signedIn(room, "u-mod", "moderator");
		await signedIn(room, "u-x1");
		await signedIn(room, "u-x2");
		const bob = await signedIn(room, "u-bob"); // on shard 1
		mod.send({ type: "ban", userId: "u-bob", seconds: 600 });
		const closed = await bob.raw.closed;
		expect(closed.code).toBe(4003);
		expect(closed.reason).toMatch(/^banned until \d{4}-\d\d-\d\dT/);
		const again = () =>
			tokenFor(room, { sub: "u-bob" }).then((token) =>
				exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket?token=${token}`, {
					headers: { Upgrade: "websocket" },
				}),
			);
		// The room is past its own object's size, so the Worker places bob's upgrade on a shard by
		// itself (src/wire/placement.ts): the room sees bob arrive and closes the socket with the
		// ban at once, before anything reaches it.
		const keptOut = async () => {
			const response = await again();
			expect(response.status).toBe(101);
			const socket = response.webSocket as WebSocket;
			const frames: unknown[] = [];
			socket.addEventListener("message", (event) => frames.push(event.data));
			const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
			socket.accept();
			const close = await closed;
			expect(close.code).toBe(4003);
			expect(close.reason).toMatch(/^banned until /);
			expect(frames).toEqual([]);
		};
		await keptOut();
		// A page whose socket was closed asks why (a plain GET, always the room's object): 403.
		const asked = await exports.default.fetch(
			`http://chat.test/api/rooms/${room}/websocket?token=${await tokenFor(room, { sub: "u-bob" })}`,
		);
		expect(asked.status).toBe(403);
		expect(await asked.text()).toMatch(/^banned until /);
		// The ban is in the room's storage: an evicted room still keeps bob out.
		await evictDurableObject(stubFor(room));
		await keptOut();
		// Others are not affected.
		expect((await signedIn(room, "u-dan")).welcome.name).toBe("dan");
	});

	it("drops what a banned user still sends through a shard that missed the ban, and closes it again", async () => {
		const room = freshRoom();
		const mod = await signedIn(room, "u-mod", "moderator");
		mod.send({ type: "ban", userId: "u-eve", seconds: 60 });
		await mod.nextOf("removed");
		// As if shard 1 had not heard of the ban (its push lost) and eve sent a message through it.
		await inRoom(room, (r) =>
			r.submit({
				shard: 1,
				connections: 1,
				submissions: [
					{
						kind: "send",
						from: "1/eve",
						name: "eve",
						userId: "u-eve",
						role: "member",
						text: "still here",
						clientId: "e1",
						replyTo: null,
					},
				],
			}),
		);
		const said = await mod.say("after");
		expect(said.id).toBe(1);
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(1);
		// Everyone was told of the ban once, not again.
		expect(mod.raw.received.filter((frame) => String(frame).includes('"removed"'))).toHaveLength(1);
	});

	it("lets a banned moderator remove nobody, even through a shard that missed the ban", async () => {
		const room = freshRoom();
		const boss = await signedIn(room, "u-boss", "moderator");
		const victim = await signedIn(room, "u-vic");
		boss.send({ type: "ban", userId: "u-rogue", seconds: 60 });
		await boss.nextOf("removed");
		// As if shard 1 had not heard of the ban and the banned moderator kicked and banned through it.
		const rogue = { from: "1/rogue", name: "rogue", userId: "u-rogue", role: "moderator" as const };
		await inRoom(room, (r) =>
			r.submit({
				shard: 1,
				connections: 1,
				submissions: [
					{ kind: "kick", ...rogue, target: "u-vic" },
					{ kind: "ban", ...rogue, target: "u-boss", seconds: 600 },
				],
			}),
		);
		// Both are still here and talking; nobody was told of a removal but the rogue's own ban.
		expect((await victim.say("still here")).text).toBe("still here");
		expect((await boss.say("me too")).text).toBe("me too");
		const removals = boss.raw.received.filter((frame) => String(frame).includes('"removed"'));
		expect(removals).toHaveLength(1);
		const token = await tokenFor(room, { sub: "u-boss", role: "moderator" });
		const upgrade = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket?token=${token}`, {
			headers: { Upgrade: "websocket" },
		});
		expect(upgrade.status).toBe(101);
	});

	it("bans a user who is not connected", async () => {
		const room = freshRoom();
		const mod = await signedIn(room, "u-mod", "moderator");
		mod.send({ type: "ban", userId: "u-later", seconds: 60 });
		expect(await mod.nextOf("removed")).toMatchObject({ userId: "u-later", by: "mod" });
		await expect(signedIn(room, "u-later")).rejects.toThrow(/403: banned until/);
	});
});
