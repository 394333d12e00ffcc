/**
 * A room's side of webhooks: the outbox its commits write events to (when webhooks are on), and
 * the events that failed every attempt, kept for the operator. The room's object
 * (src/room/room.ts) asks this one part at each commit, at its alarm, and for the API's
 * `/webhooks/failed` routes.
 */

import type { WebhookDelivery } from "../webhooks/delivery.ts";
import type { Staged } from "./burst.ts";
import { type FailedPage, FailedWebhooks, type Requeued } from "./failed-webhooks.ts";
import type { RoomStore } from "./room-store.ts";
import { eventsOf } from "./webhook-events.ts";
import { WebhookOutbox, type WebhookQueue } from "./webhook-outbox.ts";

/** The room's webhooks. */
export class RoomWebhooks {
	readonly #store: RoomStore;
	readonly #outbox: WebhookOutbox | null;
	readonly #failed: FailedWebhooks;

	/**
	 * Opens the room's webhook tables in `store` (`storage` is the object's, for the outbox's
	 * alarm); `queue`: the webhook queue, or `null` when webhooks are off (nothing is recorded).
	 */
	constructor(store: RoomStore, storage: DurableObjectStorage, queue: WebhookQueue | null) {
		this.#store = store;
		this.#outbox = queue ? new WebhookOutbox(store, storage, queue) : null;
		this.#failed = new FailedWebhooks(store);
	}

	/** Whether events wait in the outbox or among the failed ones (the room has something to keep). */
	get holdsEvents(): boolean {
		return (this.#outbox?.holdsEvents ?? false) || this.#failed.count() > 0;
	}

	/**
	 * What writes the events `burst` reports into the outbox, to run inside the burst's commit
	 * transaction; `null` when there are none (or webhooks are off).
	 */
	recorder(burst: readonly Staged[], room: string, now: number): (() => void) | null {
		const outbox = this.#outbox;
		if (!outbox) return null;
		const events = eventsOf(burst, room);
		return events.length > 0 ? () => outbox.record(events, now) : null;
	}

	/** After the commit (`stored`: whether it succeeded): the hand-off to the queue starts. */
	afterCommit(now: number, commit: { stored: boolean }): void {
		this.#outbox?.afterCommit(now, commit);
	}

	/** The object's alarm fired: whatever the outbox still holds is handed over. */
	alarmFired(): Promise<void> {
		return this.#outbox?.alarmFired() ?? Promise.resolve();
	}

	/** Events the dead-letter queue handed back: kept until retried (the oldest dropped past `MAX_FAILED`). */
	keepFailed(deliveries: readonly WebhookDelivery[]): void {
		this.#failed.keep(deliveries, Date.now());
	}

	/** The oldest failed events, whether there are more, and how many were dropped in all. */
	listFailed(): FailedPage {
		return this.#failed.list();
	}

	/**
	 * The oldest page of failed events goes back to the outbox, in one transaction, for a new
	 * round; says how many, and whether more wait (with webhooks off, none go).
	 */
	retryFailed(): Requeued {
		const outbox = this.#outbox;
		if (!outbox) return { requeued: 0, more: this.#failed.count() > 0 };
		const page = this.#store.transactionSync(() => {
			const taken = this.#failed.takePage();
			outbox.requeue(taken.deliveries);
			return taken;
		});
		outbox.afterCommit(Date.now(), { stored: true });
		return { requeued: page.deliveries.length, more: page.more };
	}
}
