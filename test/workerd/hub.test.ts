/**
 * The hub (src/hub/hub.ts) on its own: real WebSocketPairs and a real Durable Object's alarm,
 * no SQL. It is handed deliveries the way the room hands them after a commit, and returns what
 * it cannot answer by itself.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../src/deployment/config.ts";
import { Hub } from "../../src/hub/hub.ts";
import type { ChatMessage } from "../../src/wire/log-entries.ts";
import type { WelcomeEvent } from "../../src/wire/protocol.ts";
import type { Delivery, Submission } from "../../src/wire/rpc.ts";
import { DEFAULT_SETTINGS } from "../../src/wire/settings.ts";
import { type OpenPair, openPair } from "./pairs.ts";
import { freshRoom, stubFor } from "./rooms.ts";

/** A hub whose sockets are in-memory pairs; `accept` takes a pair's server end. */
function makeHub(overrides: Partial<typeof DEFAULTS> = {}, storage?: DurableObjectStorage) {
	return new Hub(
		{ ...DEFAULTS, rateLimitMessages: 0, ...overrides },
		{
			acceptWebSocket: () => {},
			getWebSockets: () => [],
			getWebSocketAutoResponseTimestamp: () => null,
			storage: storage ?? {
				getAlarm: () => Promise.resolve(null),
				setAlarm: () => Promise.resolve(),
			},
		},
	);
}

/** A client end whose server end the hub accepts, in `mode`. */
function join(hub: Hub, mode: "plain" | "rich"): OpenPair & { id: string } {
	const pair = openPair();
	const connection = hub.accept(pair.server, mode);
	return { ...pair, id: connection.id };
}

/** Welcomes a connection with an empty room, as the room would answer its hello. */
function welcome(hub: Hub, to: string, name: string): void {
	const event: WelcomeEvent = {
		type: "welcome",
		name,
		members: [name],
		memberCount: 1,
		history: [],
		gap: false,
		latestId: 0,
		messageCap: 50,
		settings: { ...DEFAULT_SETTINGS },
	};
	hub.deliver([{ kind: "welcome", to, event }]);
}

/** Says hello through `receive` and welcomes with an empty history, as the room would. */
function hello(hub: Hub, client: OpenPair, name: string): void {
	const received = hub.receive(client.server, JSON.stringify({ type: "hello", name }));
	if (received?.kind !== "hello") throw new Error(`expected a hello, got ${JSON.stringify(received)}`);
	welcome(hub, received.from, received.name);
}

/** Rich clients that have joined under `names`, with what the joins brought already sent. */
function members(hub: Hub, ...names: string[]): (OpenPair & { id: string })[] {
	// Everyone connects first, then says hello in turn, so the earlier ones hear of the later.
	const clients = names.map(() => join(hub, "rich"));
	for (const [i, client] of clients.entries()) hello(hub, client, names[i] as string);
	hub.flush();
	return clients;
}

type Member = OpenPair & { id: string };

/** The names of presence changes (frames have none). */
const namesOf = (changes: Submission[]) => changes.map((change) => ("name" in change ? change.name : null));

const message = (id: number, name: string, text: string, clientId: string | null): ChatMessage => ({
	id,
	clientId,
	name,
	text,
	ts: 1,
});

/** Every event a rich client got, batches unpacked. */
function events(client: OpenPair): { type: string }[] {
	return client.received.flatMap((frame) => {
		const event = JSON.parse(String(frame));
		return event.type === "batch" ? event.events : [event];
	});
}

describe("Hub", () => {
	it("hands back a rich client's hello and message, and answers the rest itself", async () => {
		const hub = makeHub();
		const alice = join(hub, "rich");
		expect(hub.receive(alice.server, '{"type":"send","clientId":"c1","text":"early"}')).toBeNull();
		const received = hub.receive(alice.server, '{"type":"hello","name":"alice"}');
		expect(received).toMatchObject({ kind: "hello", name: "alice", since: undefined });
		if (received?.kind === "hello") welcome(hub, received.from, "alice");
		expect(hub.receive(alice.server, '{"type":"send","clientId":"c2","text":"hi"}')).toMatchObject({
			kind: "send",
			name: "alice",
			text: "hi",
			clientId: "c2",
		});
		expect(hub.receive(alice.server, "not json")).toBeNull();
		hub.flush();
		await alice.frames(1);
		expect(events(alice).map((e) => e.type)).toEqual(["error", "welcome", "error"]);
		// A refused send carries its clientId, so the client can match it to its optimistic copy.
		expect(events(alice)[0]).toMatchObject({ code: "not_joined", clientId: "c1" });
		expect(events(alice)[2]).toMatchObject({ code: "bad_json" });
	});

	it("hands back a plain client's text cut to the cap (bidi overrides disarmed), and its binary frames as frames", () => {
		const hub = makeHub({ plainMessageCap: 5 });
		const plain = join(hub, "plain");
		expect(hub.receive(plain.server, "hello world")).toMatchObject({
			kind: "send",
			name: "guest",
			text: "hello",
			clientId: null,
		});
		// A right-to-left override cannot turn the text around: it shows as U+FFFD.
		expect(hub.receive(plain.server, "a\u202Egnp")).toMatchObject({ kind: "send", text: "a\uFFFDgnp" });
		const bytes = new Uint8Array([1, 2]).buffer;
		// As the guest it is, so the room can hold a banned user's binary frames back too (signed mode).
		expect(hub.receive(plain.server, bytes)).toEqual({
			kind: "frame",
			frame: bytes,
			from: plain.id,
			name: "guest",
			userId: null,
			role: null,
		});
	});

	it("asks for a frame over MAX_FRAME_BYTES to be closed with 1009, and closes it when told", async () => {
		const hub = makeHub({ maxFrameBytes: 4 });
		const plain = join(hub, "plain");
		const received = hub.receive(plain.server, "12345");
		expect(received).toMatchObject({ kind: "close", code: 1009, reason: "frame larger than 4 bytes" });
		hub.startClosing(plain.server, { code: 1009, reason: "frame larger than 4 bytes" });
		hub.closeAnswered(0);
		expect((await plain.closed).code).toBe(1009);
		expect(hub.size).toBe(0);
	});

	it("fans a delivered message out: an event to rich members, `name: text` to plain sockets", async () => {
		const hub = makeHub();
		const alice = join(hub, "rich");
		const plain = join(hub, "plain");
		hello(hub, alice, "alice");
		hub.flush();
		hub.deliver([{ kind: "message", message: message(1, "alice", "hi all", "c1") }]);
		hub.flush();
		expect(await plain.frames(1)).toEqual(["alice: hi all"]);
		await alice.frames(2);
		expect(events(alice).at(-1)).toEqual({ type: "message", ...message(1, "alice", "hi all", "c1") });
	});

	it("delivers echoes and refusals to the connection named, and no one else", async () => {
		const hub = makeHub();
		const plain = join(hub, "plain");
		const [alice, bob] = members(hub, "alice", "bob");
		if (!alice || !bob) throw new Error("two members expected");
		const deliveries: Delivery[] = [
			{ kind: "echo", message: message(7, "alice", "again", "c7"), to: alice.id },
			{ kind: "refused", clientId: "c8", to: alice.id },
			{ kind: "refused", clientId: null, to: plain.id },
		];
		hub.deliver(deliveries);
		hub.flush();
		expect((await plain.closed).code).toBe(1011);
		// The plain client's leaving is news for the room (presence is the room's), not sent here.
		expect(hub.takePresenceChanges()).toEqual([
			{ kind: "arrive", from: plain.id, name: "guest", userId: null, role: null },
			{ kind: "depart", from: plain.id, name: "guest", userId: null, role: null },
		]);
		hub.deliver([{ kind: "message", message: message(8, "carol", "to all", "c9") }]);
		hub.flush();
		await alice.frames(3);
		expect(events(alice).slice(-3)).toMatchObject([
			{ type: "message", id: 7, text: "again" },
			{ type: "error", code: "server_error", clientId: "c8" },
			{ type: "message", id: 8 },
		]);
		// bob got only what was for everyone.
		await bob.frames(2);
		expect(events(bob).map((e) => e.type)).toEqual(["welcome", "message"]);
	});

	it("hands typing back at most once per interval per connection, a message in between or not, for all but the typist", async () => {
		const hub = makeHub();
		const [alice, bob] = members(hub, "alice", "bob");
		if (!alice || !bob) throw new Error("two members expected");
		await bob.frames(1);
		// One synchronous run: workerd's clock does not move without I/O, so all of this is
		// within one interval.
		const typing = hub.receive(alice.server, '{"type":"typing"}');
		expect(typing).toEqual({ kind: "typing", from: alice.id, name: "alice", userId: null, role: null });
		expect(hub.receive(alice.server, '{"type":"typing"}')).toBeNull();
		expect(hub.receive(alice.server, '{"type":"send","clientId":"t1","text":"done"}')).toMatchObject({ kind: "send" });
		expect(hub.receive(alice.server, '{"type":"typing"}')).toBeNull();
		if (typing?.kind === "typing") hub.deliver([typing]);
		hub.deliver([{ kind: "message", message: message(1, "alice", "done", "t1") }]);
		hub.flush();
		await bob.frames(2);
		await alice.frames(2);
		expect(events(bob).slice(-2)).toMatchObject([{ type: "typing", name: "alice" }, { type: "message" }]);
		expect(events(alice).some((e) => e.type === "typing")).toBe(false);
	});

	it("reports plain arrivals and named departures for the room's presence, and broadcasts none itself", () => {
		const hub = makeHub();
		const plain = join(hub, "plain");
		const [ann] = members(hub, "ann");
		const stranger = join(hub, "rich");
		if (!ann) throw new Error("a member expected");
		const nobody = { userId: null, role: null };
		expect(hub.takePresenceChanges()).toEqual([{ kind: "arrive", from: plain.id, name: "guest", ...nobody }]);
		hub.leave(stranger.server);
		hub.startClosing(ann.server, { code: 1000, reason: "bye" });
		hub.closeAnswered(0);
		hub.leave(plain.server);
		expect(hub.takePresenceChanges()).toEqual([
			{ kind: "depart", from: ann.id, name: "ann", ...nobody },
			{ kind: "depart", from: plain.id, name: "guest", ...nobody },
		]);
		expect(hub.hasQueued).toBe(false);
	});

	it("lets go of a connection waiting for the room's answer however it ends: error, close, timeout, sweep, closeAll", async () => {
		const hub = makeHub({ heartbeatTimeoutSeconds: 10 });
		const clients = members(hub, "a", "b", "c", "d", "e");
		const [failed, answered, waited, byId, swept] = clients as [Member, Member, Member, Member, Member];
		// Each has sent something the room answers in a later batch (as a shard's connections do).
		for (const client of clients) hub.awaitAnswer(client.id, 7);
		hub.takePresenceChanges();
		const departed = () => namesOf(hub.takePresenceChanges());

		hub.leave(failed.server);
		expect(departed()).toEqual(["a"]);
		hub.startClosing(answered.server, { code: 1000, reason: "bye" });
		const late = hub.startClosing(waited.server, { code: 1000, reason: "bye" });
		hub.closeAnswered(6);
		expect(hub.closingCount).toBe(2);
		hub.closeNow(late as NonNullable<typeof late>);
		hub.closeAnswered(7);
		expect(departed()).toEqual(["c", "b"]);
		hub.closeById(byId.id, { code: 1001, reason: "test" });
		expect(departed()).toEqual(["d"]);
		expect(hub.sweepSilent(Date.now() + 11_000)).toBe(1);
		expect(departed()).toEqual(["e"]);
		expect(await swept.closed).toMatchObject({ code: 1001 });

		const other = makeHub();
		const [f, g] = members(other, "f", "g") as [Member, Member];
		other.awaitAnswer(f.id, 3);
		other.startClosing(g.server, { code: 1000, reason: "bye" });
		other.takePresenceChanges();
		other.closeAll({ code: 1012, reason: "test" });
		expect(namesOf(other.takePresenceChanges())).toEqual(["f", "g"]);

		for (const emptied of [hub, other]) {
			expect(emptied.size).toBe(0);
			expect(emptied.closingCount).toBe(0);
		}
	});

	it("closes rich connections silent past the heartbeat timeout with 1001, and plain ones idle past theirs", async () => {
		const hub = makeHub({ heartbeatTimeoutSeconds: 10, plainIdleTimeoutSeconds: 60 });
		const rich = join(hub, "rich");
		const plain = join(hub, "plain");
		hello(hub, rich, "quiet");
		expect(hub.sweepSilent(Date.now() + 5_000)).toBe(0);
		expect(hub.sweepSilent(Date.now() + 11_000)).toBe(1);
		expect(await rich.closed).toMatchObject({ code: 1001, reason: "no heartbeat" });
		expect(hub.size).toBe(1);
		// A plain client has no heartbeat: only a minute of saying nothing closes it.
		expect(hub.sweepSilent(Date.now() + 59_000)).toBe(0);
		expect(hub.sweepSilent(Date.now() + 61_000)).toBe(1);
		expect(await plain.closed).toMatchObject({ code: 1001, reason: "idle: nothing sent for 60 s" });
		expect(hub.size).toBe(0);
	});

	it("keeps one liveness alarm pending while connections exist, at half the shorter timeout that applies", async () => {
		const alarm = await runInDurableObject(stubFor(freshRoom("hub")), async (_room, state) => {
			await state.storage.deleteAlarm();
			const hub = makeHub({ heartbeatTimeoutSeconds: 10, plainIdleTimeoutSeconds: 60 }, state.storage);
			await hub.keepSweeping();
			const withNobody = await state.storage.getAlarm();
			join(hub, "plain");
			await hub.keepSweeping();
			const withPlainOnly = await state.storage.getAlarm();
			await state.storage.deleteAlarm();
			hub.alarmFired();
			join(hub, "rich");
			await hub.keepSweeping();
			return { withNobody, withPlainOnly, withRich: await state.storage.getAlarm() };
		});
		expect(alarm.withNobody).toBeNull();
		expect(alarm.withPlainOnly).toBeGreaterThan(Date.now() + 5_000);
		expect(alarm.withPlainOnly).toBeLessThanOrEqual(Date.now() + 30_000);
		expect(alarm.withRich).toBeGreaterThan(Date.now());
		expect(alarm.withRich).toBeLessThanOrEqual(Date.now() + 5_000);
	});
});
