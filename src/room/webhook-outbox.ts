/**
 * The room's webhook outbox: how an event the room committed reaches the webhook queue without
 * ever being lost on the way (docs/operating.md, "Webhooks").
 *
 * An event is written to the room's SQLite database (`webhook_outbox`) inside the same
 * transaction as the log entry it reports (src/room/message-log.ts `commit`), so it exists
 * exactly when its entry does. Then, once the commit is durable, the outbox hands what it holds
 * to the Cloudflare Queue (`WEBHOOKS`); the Worker's queue consumer delivers it
 * (src/webhooks/sender.ts). What the queue accepted is deleted in the next commit's transaction
 * (or when the alarm fires, if none comes), not in a write of its own: every write transaction
 * costs the room a commit, and a busy room commits once per burst. If the hand-off fails, or the object is reset
 * between the commit and the hand-off (an eviction, a deploy, a crash), the rows stay, and the
 * object's alarm, set in the same event as the commit, wakes the room to hand them over again.
 *
 * Delivery is at least once: a reset between the queue accepting a batch and the rows' delete
 * sends that batch again, with the same `webhook-id`s, which is how a receiver recognises it.
 * Events are handed over in the order the room committed them; the queue may deliver them in
 * another (each carries its log id and time).
 */

import { logEvent } from "../deployment/log-event.ts";
import { alarmBy } from "../hub/alarm.ts";
import type { WebhookDelivery } from "../webhooks/delivery.ts";
import type { RoomStore } from "./room-store.ts";
import type { WebhookEvent } from "./webhook-events.ts";

/** The queue the outbox hands events to (the `WEBHOOKS` binding). */
export type WebhookQueue = Pick<Queue<WebhookDelivery>, "sendBatch">;

/**
 * How long after a commit the alarm wakes the room to hand over what a reset interrupted (and
 * how long after a failed hand-off it tries again). The hand-off normally takes milliseconds;
 * this only bounds how late an event is after the object was reset.
 */
export const OUTBOX_ALARM_MS = 5_000;

/**
 * How long one hand-off may take before it counts as failed. A `sendBatch` normally answers in
 * milliseconds; one that never answers would otherwise hold every later hand-off of this instance
 * (they go one at a time, in order). If it did succeed after all, its events are sent again
 * later, with the same ids: at least once, as always.
 */
const HANDOFF_TIMEOUT_MS = 10_000;

/**
 * What one `sendBatch` may carry: the platform takes at most 100 messages and 256 KB per batch;
 * the byte budget leaves room for each message's envelope.
 */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 192 * 1024;

/** The room's outbox of webhook events. */
export class WebhookOutbox {
	readonly #storage: DurableObjectStorage;
	readonly #store: RoomStore;
	readonly #queue: WebhookQueue;
	/** Whether rows not yet handed over may be waiting (known after a write; read after a wake). */
	#pending: boolean;
	/** The newest row the queue has accepted, and the newest deleted (they differ until the next commit). */
	#handedUpTo = 0;
	#deletedUpTo = 0;
	/** Whether the current commit's transaction wrote to the outbox, and what was deleted before it. */
	#recorded = false;
	#deletedBefore = 0;
	/** The hand-off under way, if any: one at a time, in order. */
	#handing: Promise<void> | null = null;
	/** Until when the alarm this instance set is still ahead (0: none set). */
	#armedUntil = 0;

	/**
	 * Opens the outbox table of the room's database (it exists once the room keeps anything:
	 * src/room/room-store.ts); `storage` is the object's, for its alarm.
	 */
	constructor(store: RoomStore, storage: DurableObjectStorage, queue: WebhookQueue) {
		this.#store = store;
		this.#storage = storage;
		this.#queue = queue;
		store.define(
			() =>
				store.sql.exec(`CREATE TABLE IF NOT EXISTS webhook_outbox (
					seq INTEGER PRIMARY KEY AUTOINCREMENT,
					webhook_id TEXT NOT NULL,
					body TEXT NOT NULL
				)`),
			() => {
				this.#pending = false;
				this.#handedUpTo = this.#deletedUpTo = this.#armedUntil = 0;
			},
		);
		this.#pending = store.kept && store.sql.exec("SELECT 1 FROM webhook_outbox LIMIT 1").toArray().length > 0;
	}

	/** Whether events are still in the outbox (waiting for the queue, or taken and not yet deleted). */
	get holdsEvents(): boolean {
		return this.#pending || this.#handedUpTo > this.#deletedUpTo;
	}

	/**
	 * Writes `events` as committed at `now`. Runs inside the commit's transaction: if the commit
	 * fails, they were never written.
	 */
	record(events: readonly WebhookEvent[], now: number): void {
		if (events.length === 0) return;
		this.#deleteHanded();
		this.#recorded = true;
		const timestamp = new Date(now).toISOString();
		for (const event of events) {
			const body = JSON.stringify({ type: event.type, timestamp, data: event.data });
			this.#store.sql.exec(
				"INSERT INTO webhook_outbox (webhook_id, body) VALUES (?, ?)",
				`msg_${crypto.randomUUID()}`,
				body,
			);
		}
		this.#pending = true;
	}

	/**
	 * Writes events that failed before back, with their own `webhook-id`s, for a new round of
	 * attempts (src/webhooks/dead-letter.ts, src/room/failed-webhooks.ts); inside the transaction that takes them from there.
	 */
	requeue(deliveries: readonly WebhookDelivery[]): void {
		for (const { id, body } of deliveries) {
			this.#store.sql.exec("INSERT INTO webhook_outbox (webhook_id, body) VALUES (?, ?)", id, body);
		}
		if (deliveries.length > 0) this.#pending = true;
	}

	/**
	 * After a commit (`stored`: whether it succeeded), in the same event: the alarm that covers a
	 * reset before the hand-off is set (its write is committed with the entries'), and the
	 * hand-off starts. It runs once the commit is durable: the output gate holds the queue call
	 * until then.
	 */
	afterCommit(now: number, { stored }: { stored: boolean }): void {
		// A failed commit rolled back its writes: the delete too, so it is done again next time.
		if (!stored && this.#recorded) this.#deletedUpTo = this.#deletedBefore;
		this.#recorded = false;
		if (!this.#pending) return;
		this.#arm(now + OUTBOX_ALARM_MS);
		void this.handOff();
	}

	/** The alarm fired: whatever waits is handed over (the alarm this instance set is spent). */
	alarmFired(): Promise<void> {
		this.#armedUntil = 0;
		this.#deleteHanded();
		return this.handOff();
	}

	/**
	 * Hands every waiting event to the queue, oldest first, in batches. A failure leaves the rest
	 * for the alarm, set to try again soon.
	 * Resolves when nothing more can be done now.
	 */
	handOff(): Promise<void> {
		this.#handing ??= this.#handOffAll().finally(() => {
			this.#handing = null;
		});
		return this.#handing;
	}

	async #handOffAll(): Promise<void> {
		while (this.#pending) {
			const rows = this.#store.sql
				.exec<{ seq: number; webhook_id: string; body: string }>(
					"SELECT seq, webhook_id, body FROM webhook_outbox WHERE seq > ? ORDER BY seq LIMIT ?",
					this.#handedUpTo,
					BATCH_MESSAGES,
				)
				.toArray();
			const batch: MessageSendRequest<WebhookDelivery>[] = [];
			let bytes = 0;
			for (const row of rows) {
				// A JSON string's UTF-8 size is at most three bytes per UTF-16 unit.
				const size = row.body.length * 3 + row.webhook_id.length;
				if (batch.length > 0 && bytes + size > BATCH_BYTES) break;
				bytes += size;
				batch.push({ body: { id: row.webhook_id, body: row.body }, contentType: "json" });
			}
			const last = rows[batch.length - 1];
			if (!last) {
				this.#pending = false;
				return;
			}
			try {
				await withTimeout(this.#queue.sendBatch(batch), HANDOFF_TIMEOUT_MS);
			} catch (error) {
				logEvent("webhook_handoff_failed", { waiting: rows.length, error: String(error) });
				this.#arm(Date.now() + OUTBOX_ALARM_MS);
				return;
			}
			this.#handedUpTo = last.seq;
		}
	}

	/** Deletes the rows the queue has accepted (inside the commit's transaction when there is one). */
	#deleteHanded(): void {
		this.#deletedBefore = this.#deletedUpTo;
		if (this.#handedUpTo === this.#deletedUpTo) return;
		this.#store.sql.exec("DELETE FROM webhook_outbox WHERE seq <= ?", this.#handedUpTo);
		this.#deletedUpTo = this.#handedUpTo;
	}

	/** Makes sure the alarm fires by `at` (src/hub/alarm.ts); no storage call while one this instance asked for is due by then. */
	#arm(at: number): void {
		if (this.#armedUntil !== 0 && this.#armedUntil <= at) return;
		this.#armedUntil = at;
		alarmBy(this.#storage, at).catch((error: unknown) => {
			logEvent("storage_failed", { during: "webhook_alarm", error: String(error) });
		});
	}
}

/** `promise`, or a rejection after `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | null = null;
	const late = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
	});
	try {
		return await Promise.race([promise, late]);
	} finally {
		if (timer !== null) clearTimeout(timer);
	}
}
