/**
 * The webhook outbox on its own (src/room/webhook-outbox.ts), in a real Durable Object's SQLite
 * storage beside the real log: an event exists exactly when the commit of its entry does, what
 * the queue took is deleted inside the next commit, and what it did not take stays for the
 * alarm. The queue here is a recorder standing in for the `WEBHOOKS` binding (the real queue,
 * its retries and the receiver are tested end to end in test/e2e/webhooks.test.ts).
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MessageLog } from "../../src/room/message-log.ts";
import { RoomStore } from "../../src/room/room-store.ts";
import type { WebhookEvent } from "../../src/room/webhook-events.ts";
import { WebhookOutbox, type WebhookQueue } from "../../src/room/webhook-outbox.ts";
import type { WebhookDelivery } from "../../src/webhooks/delivery.ts";
import { freshRoom, stubFor } from "./rooms.ts";

/** A queue that records what it is handed, or refuses while `refusing`. */
function recordingQueue() {
	const handed: WebhookDelivery[][] = [];
	const queue = {
		refusing: false,
		handed,
		sendBatch: async (batch: Iterable<MessageSendRequest<WebhookDelivery>>) => {
			if (queue.refusing) throw new Error("queue unavailable (for a test)");
			handed.push([...batch].map((message) => message.body));
			return {} as QueueSendBatchResponse;
		},
	};
	return queue;
}

const created = (id: number, text: string): WebhookEvent => ({
	type: "message.created",
	data: { room: "r", id, clientId: null, name: "ann", text, ts: 1 },
});

/** The rows waiting in the outbox. */
const waiting = (storage: DurableObjectStorage) =>
	storage.sql
		.exec<{ body: string }>("SELECT body FROM webhook_outbox ORDER BY seq")
		.toArray()
		.map((row) => JSON.parse(row.body).data.text);

/** Runs `use` in a room of its own with a log, an outbox and its recording queue. */
function withOutbox<T>(
	use: (parts: {
		log: MessageLog;
		outbox: WebhookOutbox;
		queue: ReturnType<typeof recordingQueue>;
		storage: DurableObjectStorage;
	}) => Promise<T> | T,
): Promise<T> {
	return runInDurableObject(stubFor(freshRoom("outbox")), async (_room, state) => {
		const queue = recordingQueue();
		const store = new RoomStore(state.storage);
		const outbox = new WebhookOutbox(store, state.storage, queue as WebhookQueue);
		return use({ log: new MessageLog(store, 100), outbox, queue, storage: state.storage });
	});
}

const plain = { userId: null, replyTo: null, mentions: [] };

describe("WebhookOutbox", () => {
	it("writes an event only with its entry: a commit that fails leaves neither", async () => {
		const outcome = await withOutbox(({ log, outbox, storage }) => {
			log.stageNew("ann", "kept", null, 1, plain);
			log.commit(undefined, () => outbox.record([created(1, "kept")], 1));
			log.stageNew("ann", "lost", null, 2, plain);
			let failed = false;
			try {
				log.commit(undefined, () => {
					outbox.record([created(2, "lost")], 2);
					throw new Error("the commit fails after the outbox's write");
				});
			} catch {
				failed = true;
			}
			outbox.afterCommit(2, { stored: false });
			return { failed, waiting: waiting(storage), stored: log.count() };
		});
		expect(outcome).toEqual({ failed: true, waiting: ["kept"], stored: 1 });
	});

	it("hands what it holds to the queue after the commit, and deletes it in the next commit's transaction", async () => {
		const outcome = await withOutbox(async ({ log, outbox, queue, storage }) => {
			log.stageNew("ann", "one", null, 1, plain);
			log.commit(undefined, () => outbox.record([created(1, "one")], 1));
			outbox.afterCommit(1, { stored: true });
			await outbox.handOff();
			const afterHandOff = waiting(storage);
			log.stageNew("ann", "two", null, 2, plain);
			log.commit(undefined, () => outbox.record([created(2, "two")], 2));
			const afterNextCommit = waiting(storage);
			outbox.afterCommit(2, { stored: true });
			await outbox.handOff();
			return {
				handed: queue.handed.map((batch) => batch.map((d) => JSON.parse(d.body).data.text)),
				afterHandOff,
				afterNextCommit,
			};
		});
		// Taken by the queue but not yet deleted (no write of its own), then deleted with the next commit.
		expect(outcome).toEqual({ handed: [["one"], ["two"]], afterHandOff: ["one"], afterNextCommit: ["two"] });
	});

	it("keeps what the queue refused, with its webhook-id, and hands it over at the alarm", async () => {
		const outcome = await withOutbox(async ({ log, outbox, queue, storage }) => {
			queue.refusing = true;
			log.stageNew("ann", "held", null, 1, plain);
			log.commit(undefined, () => outbox.record([created(1, "held")], 1));
			outbox.afterCommit(1, { stored: true });
			await outbox.handOff();
			const alarm = await storage.getAlarm();
			const refused = waiting(storage);
			queue.refusing = false;
			await outbox.alarmFired();
			return {
				alarmSet: alarm !== null,
				refused,
				handed: queue.handed.flat().map((d) => JSON.parse(d.body).data.text),
				left: waiting(storage),
			};
		});
		// Handed over at the alarm; its row goes with the next commit (or the next alarm).
		expect(outcome).toEqual({ alarmSet: true, refused: ["held"], handed: ["held"], left: ["held"] });
	});
});
