/**
 * Webhooks (docs/operating.md, "Webhooks") against `wrangler dev`, which runs the webhook queue, its
 * consumer and its dead-letter queue locally, with a receiver on loopback that verifies every
 * request with the `standardwebhooks` package, as an operator's backend would.
 *
 * Two servers: the Worker as shipped (retries 1 s, 3 s, 9 s, … apart; a 2 s timeout), and the
 * same Worker with a switch to lose the hand-off of one commit and reset the room's object
 * (test/workerd/webhooks/resetting-worker.ts), retrying at once so the dead-letter queue is
 * reached in a few seconds.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { startWranglerDev, type WranglerDev } from "../../scripts/local-server.ts";
import type { WebhookBody } from "../../src/room/webhook-events.ts";
import { ApiClient, checkAll, documentValidator } from "../support/openapi.ts";
import { joinRich, type RichClient } from "../support/rich-client.ts";
import { freshRoom } from "../support/room-names.ts";
import { signToken, TEST_SECRET } from "../support/tokens.ts";
import { RESET_MARK, RESET_PATH } from "../support/webhook-faults.ts";
import { startReceiver, type WebhookReceiver } from "../support/webhook-receiver.ts";

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const API_KEY = randomBytes(32).toString("base64url");

let shipped: WranglerDev;
let resetting: WranglerDev;
let shippedReceiver: WebhookReceiver;
let resettingReceiver: WebhookReceiver;
let shippedApi: ApiClient;
let resettingApi: ApiClient;

/** Each test's answers, by room (both servers' receivers answer every room's events). */
const answers = new Map<string, (event: WebhookBody, previousAttempts: number) => number | "hang">();
const answerByRoom = (event: WebhookBody | null, previousAttempts: number) =>
	event ? (answers.get(event.data.room)?.(event, previousAttempts) ?? 200) : 400;

beforeAll(async () => {
	[shippedReceiver, resettingReceiver] = await Promise.all([startReceiver(SECRET), startReceiver(SECRET)]);
	shippedReceiver.answer = answerByRoom;
	resettingReceiver.answer = answerByRoom;
	const vars = { WEBHOOK_SECRET: SECRET, API_KEY, RATE_LIMIT_MESSAGES: "0" };
	[shipped, resetting] = await Promise.all([
		startWranglerDev({
			vars: {
				...vars,
				WEBHOOK_URL: shippedReceiver.url,
				AUTH_SECRET: TEST_SECRET,
				WEBHOOK_RETRY_BASE_SECONDS: "1",
				WEBHOOK_TIMEOUT_SECONDS: "2",
			},
		}),
		startWranglerDev({
			main: "test/workerd/webhooks/resetting-worker.ts",
			vars: { ...vars, WEBHOOK_URL: resettingReceiver.url, WEBHOOK_RETRY_BASE_SECONDS: "0" },
		}),
	]);
	shippedApi = new ApiClient(shipped.origin, API_KEY);
	resettingApi = new ApiClient(resetting.origin, API_KEY);
}, 120_000);
afterAll(() => Promise.all([shipped?.stop(), resetting?.stop(), shippedReceiver?.stop(), resettingReceiver?.stop()]));

/** A rich client of `room` on the shipped (signed) server, as user `sub`. */
async function member(room: string, sub: string, role: "member" | "moderator" = "member"): Promise<RichClient> {
	const token = await signToken({ sub, name: sub, room, role });
	return joinRich(`${shipped.socketUrl(room)}?token=${token}`, sub);
}

/** The events of `room` the receiver acknowledged, once `count` of them are in. */
async function deliveredIn(receiver: WebhookReceiver, room: string, count: number): Promise<WebhookBody[]> {
	// If the wait never ends, what did arrive says where delivery stopped.
	onTestFailed(() => {
		const attempts = receiver.attempts.filter((attempt) => attempt.payload.includes(`"room":"${room}"`));
		console.error(
			`attempts for ${room}:`,
			attempts.map(({ id, receivedAt, status, error }) => ({ id, receivedAt, status, error })),
		);
	});
	const ofRoom = () => receiver.delivered().filter((event) => event.data.room === room);
	await receiver.until(() => ofRoom().length >= count);
	return ofRoom();
}

describe("webhook events", () => {
	it("sends every event type, each verifying with standardwebhooks and matching its documented schema", async () => {
		const room = freshRoom("hooks-all");
		const mod = await member(room, "mod", "moderator");
		const bob = await member(room, "bob");
		const carl = await member(room, "carl");
		const dave = await member(room, "dave");

		bob.send("hello from bob", "b-1");
		await bob.until(() => bob.messages.some((message) => message.clientId === "b-1"));
		const bobsId = bob.messages.find((message) => message.clientId === "b-1")?.id as number;
		bob.client.socket.send(JSON.stringify({ type: "edit", id: bobsId, text: "hello, from bob" }));
		mod.client.socket.send(JSON.stringify({ type: "delete", id: bobsId }));
		mod.client.socket.send(JSON.stringify({ type: "kick", userId: "carl" }));
		mod.client.socket.send(JSON.stringify({ type: "ban", userId: "dave", seconds: 60 }));
		await Promise.all([carl.client.closed, dave.client.closed]);
		const posted = await shippedApi.request("POST", `/api/rooms/${room}/messages`, {
			body: { name: "Announcements", text: "from the backend" },
		});
		const postedId = (posted.body as { id: number }).id;
		expect((await shippedApi.request("DELETE", `/api/rooms/${room}/messages/${postedId}`)).status).toBe(204);

		const events = await deliveredIn(shippedReceiver, room, 7);
		// Every request the receiver got so far verified.
		expect(shippedReceiver.attempts.map((attempt) => attempt.error)).toEqual(shippedReceiver.attempts.map(() => null));
		// The queue promises no order; each log event carries its id, which does.
		const logId = (event: WebhookBody) => ("id" in event.data ? event.data.id : 0);
		const byType = (type: string) => events.filter((event) => event.type === type).sort((a, b) => logId(a) - logId(b));
		expect(byType("message.created").map((event) => event.data)).toEqual([
			expect.objectContaining({ room, id: bobsId, text: "hello from bob", userId: "bob", clientId: "b-1" }),
			expect.objectContaining({ room, id: postedId, text: "from the backend", name: "Announcements", api: true }),
		]);
		expect(byType("message.edited").map((event) => event.data)).toEqual([
			expect.objectContaining({ room, target: bobsId, text: "hello, from bob", userId: "bob" }),
		]);
		expect(byType("message.deleted").map((event) => event.data)).toEqual([
			expect.objectContaining({ room, target: bobsId, userId: "mod" }),
			expect.objectContaining({ room, target: postedId, api: true, name: "API" }),
		]);
		expect(byType("user.kicked").map((event) => event.data)).toEqual([
			{ room, userId: "carl", name: "carl", by: "mod" },
		]);
		expect(byType("user.banned").map((event) => event.data)).toEqual([
			{ room, userId: "dave", name: "dave", by: "mod", until: expect.any(Number) },
		]);
		for (const event of events) expect(Date.parse(event.timestamp)).toBeGreaterThan(Date.now() - 60_000);

		const document = (await shippedApi.request("GET", "/api/openapi.json")).body as Parameters<typeof checkAll>[0];
		const validate = documentValidator(document);
		for (const event of events) expect(validate("/components/schemas/WebhookEvent", event)).toEqual([]);
		for (const client of [mod, bob]) client.client.socket.close();
	});

	it("a receiver that fails three times, then answers 200, gets the event with the same webhook-id each time, backing off", async () => {
		const room = freshRoom("hooks-retry");
		answers.set(room, (_event, previous) => (previous < 3 ? 503 : 200));
		const posted = await shippedApi.request("POST", `/api/rooms/${room}/messages`, {
			body: { name: "bot", text: "try, try again" },
		});
		expect(posted.status).toBe(201);
		const [event] = await deliveredIn(shippedReceiver, room, 1);
		expect(event?.data).toMatchObject({ id: (posted.body as { id: number }).id, text: "try, try again" });

		const attempts = shippedReceiver.attempts.filter((attempt) => attempt.event?.data.room === room);
		expect(attempts.map((attempt) => attempt.status)).toEqual([503, 503, 503, 200]);
		expect(new Set(attempts.map((attempt) => attempt.id)).size).toBe(1);
		// Each attempt is signed anew, for its own time, and verifies.
		expect(attempts.every((attempt) => attempt.error === null)).toBe(true);
		// WEBHOOK_RETRY_BASE_SECONDS 1: waits of 1, 3 and 9 s (each gap also holds the sender's turn).
		const gaps = attempts.slice(1).map((attempt, i) => attempt.receivedAt - (attempts[i]?.receivedAt ?? 0));
		expect(gaps[0]).toBeGreaterThanOrEqual(900);
		expect(gaps[1]).toBeGreaterThanOrEqual(2_900);
		expect(gaps[2]).toBeGreaterThanOrEqual(8_900);
	}, 60_000);

	it("a receiver that does not answer within WEBHOOK_TIMEOUT_SECONDS gets the event again", async () => {
		const room = freshRoom("hooks-timeout");
		answers.set(room, (_event, previous) => (previous === 0 ? "hang" : 204));
		await shippedApi.request("POST", `/api/rooms/${room}/messages`, { body: { name: "bot", text: "are you there?" } });
		await deliveredIn(shippedReceiver, room, 1);
		const attempts = shippedReceiver.attempts.filter((attempt) => attempt.event?.data.room === room);
		expect(attempts.map((attempt) => attempt.status)).toEqual([null, 204]);
		expect(attempts[0]?.id).toBe(attempts[1]?.id);
		// A 2 s timeout, then the 1 s wait.
		expect((attempts[1]?.receivedAt ?? 0) - (attempts[0]?.receivedAt ?? 0)).toBeGreaterThanOrEqual(2_900);
	}, 30_000);
});

describe("nothing committed is lost", () => {
	it("an event whose hand-off was lost when the room's object was reset is delivered by the next instance", async () => {
		const room = freshRoom("hooks-reset");
		const before = await resettingApi.request("POST", `/api/rooms/${room}/messages`, {
			body: { name: "bot", text: "before the reset" },
		});
		await deliveredIn(resettingReceiver, room, 1);
		const marked = await resettingApi.request("POST", `/api/rooms/${room}/messages`, {
			body: { name: "bot", text: `committed ${RESET_MARK}` },
		});
		expect(marked.status).toBe(201);
		const reset = await fetch(`${resetting.origin}${RESET_PATH}?room=${room}`, { method: "POST" });
		expect(await reset.text()).toBe("reset");

		const events = await deliveredIn(resettingReceiver, room, 2);
		expect(events.map((event) => event.data)).toEqual([
			expect.objectContaining({ id: (before.body as { id: number }).id }),
			expect.objectContaining({ id: (marked.body as { id: number }).id, text: `committed ${RESET_MARK}` }),
		]);
		// Delivered once: the new instance handed it over, nothing else did.
		const ofMarked = resettingReceiver.attempts.filter((attempt) => attempt.payload.includes(RESET_MARK));
		expect(ofMarked).toHaveLength(1);
	}, 30_000);

	it("an event the receiver never takes goes to the dead-letter queue, is listed by its room, and is sent again with its id", async () => {
		const room = freshRoom("hooks-dead");
		let receiverUp = false;
		answers.set(room, () => (receiverUp ? 200 : 500));
		const posted = await resettingApi.request("POST", `/api/rooms/${room}/messages`, {
			body: { name: "bot", text: "into the void" },
		});
		const id = (posted.body as { id: number }).id;
		// max_retries = 9 in wrangler.toml: 10 attempts, then the dead-letter queue.
		const ATTEMPTS = 10;
		await resettingReceiver.until((attempts) => attempts.filter((a) => a.event?.data.room === room).length >= ATTEMPTS);
		const failed = async () =>
			(await resettingApi.request("GET", `/api/rooms/${room}/webhooks/failed`)).body as {
				failed: { webhookId: string; event: WebhookBody }[];
				more: boolean;
				dropped: number;
			};
		await expect.poll(async () => (await failed()).failed.length, { timeout: 20_000 }).toBe(1);
		const listed = await failed();
		expect({ more: listed.more, dropped: listed.dropped }).toEqual({ more: false, dropped: 0 });
		const [kept] = listed.failed;
		expect(kept?.event).toMatchObject({ type: "message.created", data: { room, id, text: "into the void" } });
		const attempts = resettingReceiver.attempts.filter((attempt) => attempt.event?.data.room === room);
		expect(attempts).toHaveLength(ATTEMPTS);
		expect(attempts.every((attempt) => attempt.id === kept?.webhookId)).toBe(true);

		receiverUp = true;
		const retried = await resettingApi.request("POST", `/api/rooms/${room}/webhooks/failed/retry`);
		expect(retried.body).toEqual({ requeued: 1, more: false });
		const [delivered] = await deliveredIn(resettingReceiver, room, 1);
		expect(delivered?.data).toMatchObject({ id });
		expect(resettingReceiver.attemptsOf(kept?.webhookId ?? "").at(-1)?.status).toBe(200);
		expect((await failed()).failed).toEqual([]);
	}, 60_000);
});

describe("the API's answers here", () => {
	it("hold against the OpenAPI document", async () => {
		const document = (await shippedApi.request("GET", "/api/openapi.json")).body as Parameters<typeof checkAll>[0];
		expect(checkAll(document, [...shippedApi.seen, ...resettingApi.seen])).toEqual([]);
	});
});
