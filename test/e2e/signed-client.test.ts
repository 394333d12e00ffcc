/**
 * A client written from PROTOCOL.md alone ("Signed identity and moderation"), over loopback
 * against the Worker in workerd with AUTH_SECRET set: it mints its tokens with jose as a site's
 * backend would, offers them as the subprotocol `edgechat.token.<jwt>`, and speaks raw JSON over
 * `ws`. It imports nothing of the server's code: if PROTOCOL.md is enough to authenticate,
 * moderate and follow edits and deletes, this passes.
 */
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type LocalServer, startMiniflare } from "../../scripts/local-server.ts";
import { conditionWaits } from "../support/clients.ts";
import { freshRoom } from "../support/room-names.ts";

const SECRET = "e2e-secret-that-is-at-least-32-bytes-long";
let server: LocalServer;

beforeAll(async () => {
	server = await startMiniflare({ vars: { AUTH_SECRET: SECRET, RATE_LIMIT_MESSAGES: "0" } });
});
afterAll(() => server?.stop());

/** A token as PROTOCOL.md describes it: HS256, sub, name, room, role, exp. */
function token(room: string, sub: string, role: string): Promise<string> {
	return new SignJWT({ name: sub, room, role })
		.setProtectedHeader({ alg: "HS256" })
		.setSubject(sub)
		.setExpirationTime("10m")
		.sign(new TextEncoder().encode(SECRET));
}

type Event = Record<string, unknown> & { type: string };

/** What a signed-mode rich client offers: the protocol, and its token as a second subprotocol. */
const offer = (jwt: string) => ["edgechat.v1", `edgechat.token.${jwt}`];

/** A rich client: the token offered as a subprotocol, every event (batches unpacked) in a list. */
async function join(room: string, sub: string, role = "member", since?: number) {
	const jwt = await token(room, sub, role);
	const socket = new WebSocket(server.socketUrl(room), offer(jwt));
	/** The headers of the server's 101. */
	const upgraded = new Promise<Record<string, string | string[] | undefined>>((resolve) =>
		socket.once("upgrade", (response) => resolve(response.headers)),
	);
	const events: Event[] = [];
	const waits = conditionWaits();
	socket.on("message", (data) => {
		const event = JSON.parse(String(data)) as Event;
		events.push(...(event.type === "batch" ? (event.events as Event[]) : [event]));
		waits.recheck();
	});
	const closed = new Promise<{ code: number; reason: string }>((resolve) =>
		socket.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
	);
	await new Promise((resolve, reject) => {
		socket.once("open", resolve);
		socket.once("error", reject);
	});
	socket.send(JSON.stringify(since === undefined ? { type: "hello" } : { type: "hello", since }));
	/** The first event of `type` received so far (or the next to come) that `match` accepts. */
	const next = (type: string, match: (event: Event) => boolean = () => true) =>
		waits.when(() => events.find((event) => event.type === type && match(event)));
	const welcome = await next("welcome");
	return {
		socket,
		jwt,
		upgraded: await upgraded,
		events,
		closed,
		welcome,
		next,
		send: (event: object) => socket.send(JSON.stringify(event)),
	};
}

/** The status and body of an upgrade the server refuses. */
function refusal(url: string, protocols: string[]): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		const socket = new WebSocket(url, protocols);
		socket.once("open", () => reject(new Error("the upgrade was accepted")));
		socket.once("unexpected-response", (_request, response) => {
			let body = "";
			response.on("data", (chunk: Buffer) => {
				body += chunk;
			});
			response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
		});
	});
}

describe("a client written from PROTOCOL.md, signed mode", () => {
	it("authenticates, chats, edits and deletes, and sees the same in a late joiner's history", async () => {
		const room = freshRoom("signed");
		const ann = await join(room, "ann");
		expect(ann.welcome).toMatchObject({ name: "ann", userId: "ann", role: "member" });
		// The server selected edgechat.v1 alone: the token is never sent back.
		expect(ann.socket.protocol).toBe("edgechat.v1");
		expect(ann.upgraded["sec-websocket-protocol"]).toBe("edgechat.v1");
		expect(JSON.stringify(ann.upgraded)).not.toContain(ann.jwt);
		ann.send({ type: "send", clientId: "c1", text: "helo" });
		const message = await ann.next("message", (e) => e.clientId === "c1");
		ann.send({ type: "edit", id: message.id, text: "hello" });
		const edit = await ann.next("edit");
		expect(edit).toMatchObject({ target: message.id, text: "hello", userId: "ann" });
		ann.send({ type: "delete", id: message.id });
		const deleted = await ann.next("delete");
		// A late joiner gets the message as it stands now (PROTOCOL.md, "History"): deleted, its
		// words gone.
		const late = await join(room, "bob");
		expect(late.welcome.history).toEqual([expect.objectContaining({ id: message.id, text: "", deleted: true })]);
		// One resuming from before it replays the entries in order, the edit's words gone too.
		const back = await join(room, "bob", "member", 0);
		expect(back.welcome.history).toEqual([
			expect.objectContaining({ id: message.id, text: "", deleted: true }),
			expect.objectContaining({ id: edit.id, kind: "edit", target: message.id, text: "" }),
			expect.objectContaining({ id: deleted.id, kind: "delete", target: message.id }),
		]);
	});

	it("moderates: a moderator kicks (4001) and bans (4003, then 403)", async () => {
		const room = freshRoom("signed");
		const mod = await join(room, "mod", "moderator");
		const eve = await join(room, "eve");
		mod.send({ type: "kick", userId: "eve" });
		expect(await eve.closed).toEqual({ code: 4001, reason: "kicked by a moderator" });
		const back = await join(room, "eve");
		mod.send({ type: "ban", userId: "eve", seconds: 60 });
		expect((await back.closed).code).toBe(4003);
		const refused = await refusal(server.socketUrl(room), offer(await token(room, "eve", "member")));
		expect(refused.status).toBe(403);
		expect(refused.body).toMatch(/^banned until /);
		// A page asking why (a browser never sees the status) sends the token as Bearer and hears the same.
		const asked = await fetch(server.socketUrl(room).replace(/^ws/, "http"), {
			headers: { Authorization: `Bearer ${await token(room, "eve", "member")}` },
		});
		expect(asked.status).toBe(403);
		expect(await asked.text()).toMatch(/^banned until /);
	});

	it("refuses a token meant to live longer than a day (TOKEN_MAX_LIFETIME_SECONDS as shipped)", async () => {
		const room = freshRoom("signed");
		const week = await new SignJWT({ name: "ann", room })
			.setProtectedHeader({ alg: "HS256" })
			.setSubject("ann")
			.setExpirationTime("7d")
			.sign(new TextEncoder().encode(SECRET));
		const refused = await refusal(server.socketUrl(room), offer(week));
		expect(refused).toEqual({ status: 401, body: "token lives too long: exp is more than 86400 s away\n" });
	});

	it("signs in a plain client, which cannot offer a subprotocol, with ?token=", async () => {
		const room = freshRoom("signed");
		const plain = new WebSocket(`${server.socketUrl(room)}?token=${await token(room, "pat", "member")}`);
		await new Promise((resolve, reject) => {
			plain.once("open", resolve);
			plain.once("error", reject);
		});
		expect(plain.protocol).toBe("");
		const echoed = new Promise<string>((resolve) => plain.once("message", (data) => resolve(String(data))));
		plain.send("hi from a tutorial client");
		// The tutorial's echo to its sender; the room stores it under the token's name and user id.
		expect(await echoed).toBe("hi from a tutorial client");
		const ann = await join(room, "ann", "member", 0);
		expect(ann.welcome.history).toEqual([expect.objectContaining({ name: "pat", userId: "pat" })]);
		plain.close();
	});
});
