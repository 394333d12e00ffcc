/**
 * Webhook events that failed every attempt: the queue moved them to its dead-letter queue
 * (`DEAD_LETTER_QUEUE`), whose consumer, in the Worker, hands each one back to the room that
 * committed it, where it is kept (`webhook_failed`) until the operator sends it again through
 * the HTTP API (`POST /api/rooms/NAME/webhooks/failed/retry`). So an event outlives a receiver
 * that is down for longer than the retries last: it waits in its room, listed by
 * `GET /api/rooms/NAME/webhooks/failed`.
 *
 * Bounded, because a receiver that stays down keeps them coming: a room keeps at most
 * `MAX_FAILED`, and past it drops the oldest with a word (a `webhook_dropped` log line, and a
 * count the listing reports), and a retry sends one page at a time, so neither a retry nor a
 * listing ever reads the whole table.
 */
import { logEvent } from "../deployment/log-event.ts";
import { roomOf, type WebhookDelivery } from "../webhooks/delivery.ts";
import type { RoomStore } from "./room-store.ts";

/**
 * The most failed events one room keeps: as many as the history it keeps by default
 * (`HISTORY_RETENTION`), so every entry of a room's retained log can wait for its receiver. A few
 * hundred bytes an event plus its text: a few MB of the room's storage (80 MB if every one
 * carried 2,000 four-byte characters), and 100 retries of a page to send them all.
 */
export const MAX_FAILED = 10_000;

/**
 * The most failed events one listing returns and one retry sends again: the same page, so a retry
 * sends what the listing showed, and one queue batch (`sendBatch` takes 100 messages).
 */
export const FAILED_PAGE = 100;

/** Where the count of events dropped in all is kept (the room's key-value storage). */
const DROPPED_KEY = "webhook_failed_dropped";

/** One kept event. */
export interface FailedWebhook {
	readonly webhookId: string;
	readonly failedAt: number;
	readonly body: string;
}

/**
 * A page of the room's failed events, oldest first: `more`, whether others wait after it;
 * `dropped`, how many this room has dropped in all because it kept `MAX_FAILED` already (never
 * reset, so a loss stays visible after a retry: compare it with the last one seen).
 */
export interface FailedPage {
	readonly failed: FailedWebhook[];
	readonly more: boolean;
	readonly dropped: number;
}

/** What one retry sent back to the queue: how many, and whether more failed events wait. */
export interface Requeued {
	readonly requeued: number;
	readonly more: boolean;
}

/** The room's failed events (their table exists once the room keeps anything: src/room/room-store.ts). */
export class FailedWebhooks {
	readonly #store: RoomStore;

	constructor(store: RoomStore) {
		this.#store = store;
		store.define(() => {
			store.sql.exec(`CREATE TABLE IF NOT EXISTS webhook_failed (
				webhook_id TEXT PRIMARY KEY,
				body TEXT NOT NULL,
				failed_at INTEGER NOT NULL
			)`);
			// Every read and delete goes oldest first: by this index, never a sort of the table.
			store.sql.exec("CREATE INDEX IF NOT EXISTS webhook_failed_by_age ON webhook_failed (failed_at)");
		});
	}

	#table(): SqlStorage {
		this.#store.keep();
		return this.#store.sql;
	}

	/**
	 * Keeps `deliveries` as failed at `now` (the same event twice is kept once); past `MAX_FAILED`
	 * the oldest are dropped, logged and counted.
	 */
	keep(deliveries: readonly WebhookDelivery[], now: number): void {
		const sql = this.#table();
		for (const { id, body } of deliveries) {
			sql.exec("INSERT OR IGNORE INTO webhook_failed (webhook_id, body, failed_at) VALUES (?, ?, ?)", id, body, now);
		}
		const over = this.count() - MAX_FAILED;
		if (over <= 0) return;
		this.#deleteOldest(over);
		const dropped = this.dropped + over;
		this.#store.kv.put(DROPPED_KEY, dropped);
		const room = deliveries[0] ? roomOf(deliveries[0]) : "";
		logEvent("webhook_dropped", { room, dropped: over, droppedInAll: dropped, kept: MAX_FAILED });
	}

	/** How many failed events wait. */
	count(): number {
		if (!this.#store.kept) return 0;
		return this.#table().exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_failed").one().n;
	}

	/** How many failed events this room has dropped in all. */
	get dropped(): number {
		return this.#store.kept ? (this.#store.kv.get<number>(DROPPED_KEY) ?? 0) : 0;
	}

	/** The oldest `FAILED_PAGE` failed events, whether there are more, and how many were dropped. */
	list(): FailedPage {
		const { rows, more } = this.#oldest();
		const failed = rows.map((row) => ({ webhookId: row.webhook_id, failedAt: row.failed_at, body: row.body }));
		return { failed, more, dropped: this.dropped };
	}

	/**
	 * Removes and returns the oldest `FAILED_PAGE` failed events, and whether more wait (to be
	 * written to the outbox in the same transaction).
	 */
	takePage(): { deliveries: WebhookDelivery[]; more: boolean } {
		const { rows, more } = this.#oldest();
		this.#deleteOldest(rows.length);
		return { deliveries: rows.map((row) => ({ id: row.webhook_id, body: row.body })), more };
	}

	/** The oldest page of rows, and whether more follow. */
	#oldest() {
		if (!this.#store.kept) return { rows: [], more: false };
		const rows = this.#table()
			.exec<{ webhook_id: string; body: string; failed_at: number }>(
				"SELECT webhook_id, body, failed_at FROM webhook_failed ORDER BY failed_at, rowid LIMIT ?",
				FAILED_PAGE + 1,
			)
			.toArray();
		return { rows: rows.slice(0, FAILED_PAGE), more: rows.length > FAILED_PAGE };
	}

	/** Deletes the `count` oldest rows, in the order every read goes. */
	#deleteOldest(count: number): void {
		if (count <= 0) return;
		this.#store.sql.exec(
			"DELETE FROM webhook_failed WHERE rowid IN (SELECT rowid FROM webhook_failed ORDER BY failed_at, rowid LIMIT ?)",
			count,
		);
	}
}
