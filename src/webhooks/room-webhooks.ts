/**
 * A room's side of webhooks: the outbox its commits write events to (when webhooks are on), and
 * the events that failed every attempt, kept for the operator. The room's object
 * (src/room/room.ts) asks this one part at each commit, at its alarm, and for the API's
 * `/webhooks/failed` routes.
 */
import type { Staged } from "../room/burst.ts";
import type { WebhookDelivery } from "./delivery.ts";
import { eventsOf } from "./events.ts";
import { type FailedWebhook, FailedWebhooks } from "./failed.ts";
import { WebhookOutbox, type WebhookQueue } from "./outbox.ts";

/** The room's webhooks. */
export class RoomWebhooks {
	readonly #storage: DurableObjectStorage;
	readonly #outbox: WebhookOutbox | null;
	readonly #failed: FailedWebhooks;

	/** `queue`: the webhook queue, or `null` when webhooks are off (nothing is recorded). */
	constructor(storage: DurableObjectStorage, queue: WebhookQueue | null) {
		this.#storage = storage;
		this.#outbox = queue ? new WebhookOutbox(storage, queue) : null;
		this.#failed = new FailedWebhooks(storage.sql);
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
	afterCommit(now: number, stored: boolean): void {
		this.#outbox?.afterCommit(now, stored);
	}

	/** The object's alarm fired: whatever the outbox still holds is handed over. */
	alarmFired(): Promise<void> {
		return this.#outbox?.alarmFired() ?? Promise.resolve();
	}

	/** Events the dead-letter queue handed back: kept until retried. */
	keepFailed(deliveries: readonly WebhookDelivery[]): void {
		this.#failed.keep(deliveries, Date.now());
	}

	/** The oldest failed events, and whether there are more. */
	listFailed(): { failed: FailedWebhook[]; more: boolean } {
		return this.#failed.list();
	}

	/** Every failed event goes back to the outbox, in one transaction, for a new round; returns how many. */
	retryFailed(): number {
		const outbox = this.#outbox;
		if (!outbox) return 0;
		let requeued = 0;
		this.#storage.transactionSync(() => {
			const failed = this.#failed.takeAll();
			outbox.requeue(failed);
			requeued = failed.length;
		});
		outbox.afterCommit(Date.now(), true);
		return requeued;
	}
}
