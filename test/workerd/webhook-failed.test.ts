/**
 * The webhook events a room keeps after they failed every attempt (src/room/failed-webhooks.ts), in a
 * real room's SQLite storage: at most `MAX_FAILED`, the oldest dropped past it with a log line
 * and a count the listing reports, and a retry that sends one page at a time. The queue is a
 * recorder standing in for the `WEBHOOKS` binding (the dead-letter queue and the retry through
 * a real queue are tested end to end in test/e2e/webhooks.test.ts).
 */
import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import api from "../../src/api/app.ts";
import { FAILED_PAGE, MAX_FAILED } from "../../src/room/failed-webhooks.ts";
import { RoomStore } from "../../src/room/room-store.ts";
import { RoomWebhooks } from "../../src/room/room-webhooks.ts";
import type { WebhookQueue } from "../../src/room/webhook-outbox.ts";
import type { WebhookDelivery } from "../../src/webhooks/delivery.ts";
import { freshRoom, stubFor } from "./rooms.ts";

/** Failed events `from` to `to` - 1 of `room`, as the dead-letter queue hands them back. */
function failedEvents(room: string, from: number, to: number): WebhookDelivery[] {
	return Array.from({ length: to - from }, (_, i) => {
		const id = from + i;
		const data = { room, id, clientId: null, name: "ann", text: `event ${id}`, ts: 1 };
		return { id: `msg_${id}`, body: JSON.stringify({ type: "message.created", timestamp: "t", data }) };
	});
}

/** A queue that takes every batch (the outbox hands requeued events to it). */
const acceptingQueue: WebhookQueue = { sendBatch: async () => ({}) as QueueSendBatchResponse };

/** The API, keyed (the workerd project has no API_KEY of its own; its WEBHOOK_URL is empty: webhooks off). */
const API_KEY = "an-api-key-of-at-least-32-bytes-0123456789";
const keyed = { ...env, API_KEY };
const callApi = (method: string, path: string) =>
	api.fetch(
		new Request(`http://chat.test${path}`, { method, headers: { Authorization: `Bearer ${API_KEY}` } }),
		keyed,
		createExecutionContext(),
	);

afterEach(() => {
	vi.restoreAllMocks();
});

describe("failed webhook events kept by a room", () => {
	it(`keeps at most ${MAX_FAILED}: past it the oldest are dropped, logged and counted in the listing`, async () => {
		const room = freshRoom("failed-cap");
		const stub = stubFor(room);
		await stub.keepFailedWebhooks(failedEvents(room, 0, MAX_FAILED - 5));
		expect(await stub.failedWebhooks()).toMatchObject({ more: true, dropped: 0 });

		// The log goes to the error stream; it is read, not replaced.
		const errors = vi.spyOn(console, "error");
		await stub.keepFailedWebhooks(failedEvents(room, MAX_FAILED - 5, MAX_FAILED + 15));
		const logged = errors.mock.calls.map(([line]) => JSON.parse(String(line)));
		expect(logged).toEqual([{ event: "webhook_dropped", room, dropped: 15, droppedInAll: 15, kept: MAX_FAILED }]);

		const listed = await stub.failedWebhooks();
		expect(listed.dropped).toBe(15);
		expect(listed.failed).toHaveLength(FAILED_PAGE);
		expect(listed.failed[0]?.webhookId).toBe("msg_15");
		const count = await runInDurableObject(
			stub,
			(_room, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_failed").one().n,
		);
		expect(count).toBe(MAX_FAILED);

		// The count is of all time: more drops add to it.
		await stub.keepFailedWebhooks(failedEvents(room, MAX_FAILED + 15, MAX_FAILED + 20));
		expect((await stub.failedWebhooks()).dropped).toBe(20);

		// The API reports it too.
		const answer = await callApi("GET", `/api/rooms/${room}/webhooks/failed`);
		expect(answer.status).toBe(200);
		const body = (await answer.json()) as { failed: { webhookId: string }[]; more: boolean; dropped: number };
		expect({ first: body.failed[0]?.webhookId, more: body.more, dropped: body.dropped }).toEqual({
			first: "msg_20",
			more: true,
			dropped: 20,
		});
	});

	it(`retries one page of ${FAILED_PAGE} at a time, oldest first, saying whether more wait`, async () => {
		const room = freshRoom("failed-retry");
		const outcome = await runInDurableObject(stubFor(room), (_room, state) => {
			const webhooks = new RoomWebhooks(new RoomStore(state.storage), state.storage, acceptingQueue);
			webhooks.keepFailed(failedEvents(room, 0, 2 * FAILED_PAGE + 50));
			const outbox = () =>
				state.storage.sql
					.exec<{ webhook_id: string }>("SELECT webhook_id FROM webhook_outbox ORDER BY seq")
					.toArray()
					.map((row) => row.webhook_id);
			const rounds = [];
			for (let round = 0; round < 4; round++) {
				const retried = webhooks.retryFailed();
				const listed = webhooks.listFailed();
				rounds.push({ ...retried, nextListed: listed.failed[0]?.webhookId ?? null, queued: outbox().length });
			}
			return { rounds, queuedOrder: outbox() };
		});
		expect(outcome.rounds).toEqual([
			{ requeued: FAILED_PAGE, more: true, nextListed: `msg_${FAILED_PAGE}`, queued: FAILED_PAGE },
			{ requeued: FAILED_PAGE, more: true, nextListed: `msg_${2 * FAILED_PAGE}`, queued: 2 * FAILED_PAGE },
			{ requeued: 50, more: false, nextListed: null, queued: 2 * FAILED_PAGE + 50 },
			{ requeued: 0, more: false, nextListed: null, queued: 2 * FAILED_PAGE + 50 },
		]);
		// Each with its own webhook-id, oldest first.
		expect(outcome.queuedOrder).toEqual(failedEvents(room, 0, 2 * FAILED_PAGE + 50).map((event) => event.id));
	});

	it("refuses a retry while webhooks are off (409), and keeps the events", async () => {
		const room = freshRoom("failed-off");
		await stubFor(room).keepFailedWebhooks(failedEvents(room, 0, 3));
		const answer = await callApi("POST", `/api/rooms/${room}/webhooks/failed/retry`);
		expect(answer.status).toBe(409);
		expect(await answer.json()).toMatchObject({ type: "tag:edgechat,2026:problem:webhooks-off", status: 409 });
		expect((await stubFor(room).failedWebhooks()).failed).toHaveLength(3);
	});
});
