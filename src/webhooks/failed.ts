/**
 * Webhook events that failed every attempt: the queue moved them to its dead-letter queue
 * (`DEAD_LETTER_QUEUE`), whose consumer, in the Worker, hands each one back to the room that
 * committed it, where it is kept (`webhook_failed`) until the operator sends it again through
 * the HTTP API (`POST /api/rooms/NAME/webhooks/failed/retry`). So an event is never lost even
 * when the receiver is down for longer than the retries last: it waits in its room, listed by
 * `GET /api/rooms/NAME/webhooks/failed`.
 */
import type { WebhookDelivery } from "./delivery.ts";

/** The most failed events one listing returns. */
export const FAILED_PAGE = 100;

/** One kept event. */
export interface FailedWebhook {
	readonly webhookId: string;
	readonly failedAt: number;
	readonly body: string;
}

/**
 * The dead-letter queue's consumer: each event goes back to its room (`data.room` of its body),
 * one call per room per batch. What a room does not take (its call failed) is retried.
 */
export async function returnToRooms(batch: MessageBatch<WebhookDelivery>, rooms: Env["ROOMS"]): Promise<void> {
	const byRoom = new Map<string, Message<WebhookDelivery>[]>();
	for (const message of batch.messages) {
		const room = (JSON.parse(message.body.body) as { data: { room: string } }).data.room;
		byRoom.set(room, [...(byRoom.get(room) ?? []), message]);
	}
	await Promise.all(
		[...byRoom].map(async ([room, messages]) => {
			try {
				await rooms.get(rooms.idFromName(room)).keepFailedWebhooks(messages.map((message) => message.body));
				for (const message of messages) message.ack();
			} catch {
				for (const message of messages) message.retry();
			}
		}),
	);
}

/** The room's failed events (its table is created on first use: most rooms never have one). */
export class FailedWebhooks {
	readonly #sql: SqlStorage;
	#ready = false;

	constructor(sql: SqlStorage) {
		this.#sql = sql;
	}

	#table(): SqlStorage {
		if (!this.#ready) {
			this.#sql.exec(`CREATE TABLE IF NOT EXISTS webhook_failed (
				webhook_id TEXT PRIMARY KEY,
				body TEXT NOT NULL,
				failed_at INTEGER NOT NULL
			)`);
			this.#ready = true;
		}
		return this.#sql;
	}

	/** Keeps `deliveries` as failed at `now` (the same event twice is kept once). */
	keep(deliveries: readonly WebhookDelivery[], now: number): void {
		const sql = this.#table();
		for (const { id, body } of deliveries) {
			sql.exec("INSERT OR IGNORE INTO webhook_failed (webhook_id, body, failed_at) VALUES (?, ?, ?)", id, body, now);
		}
	}

	/** The oldest `FAILED_PAGE` failed events, and whether there are more. */
	list(): { failed: FailedWebhook[]; more: boolean } {
		const rows = this.#table()
			.exec<{ webhook_id: string; body: string; failed_at: number }>(
				"SELECT webhook_id, body, failed_at FROM webhook_failed ORDER BY failed_at, rowid LIMIT ?",
				FAILED_PAGE + 1,
			)
			.toArray();
		const failed = rows
			.slice(0, FAILED_PAGE)
			.map((row) => ({ webhookId: row.webhook_id, failedAt: row.failed_at, body: row.body }));
		return { failed, more: rows.length > FAILED_PAGE };
	}

	/** Removes and returns every failed event, oldest first (to be written to the outbox in the same transaction). */
	takeAll(): WebhookDelivery[] {
		const sql = this.#table();
		const rows = sql
			.exec<{ webhook_id: string; body: string }>(
				"SELECT webhook_id, body FROM webhook_failed ORDER BY failed_at, rowid",
			)
			.toArray();
		sql.exec("DELETE FROM webhook_failed");
		return rows.map((row) => ({ id: row.webhook_id, body: row.body }));
	}
}
