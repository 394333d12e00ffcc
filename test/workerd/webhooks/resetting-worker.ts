/**
 * The Worker as shipped (src/index.ts), with the room's object given one fault the runtime
 * cannot produce on cue: the object reset between a commit and its events' hand-off to the
 * webhook queue (an eviction, a deploy or a crash at the worst moment). test/e2e/webhooks.test.ts
 * runs `wrangler dev` with this file as its entry point.
 *
 * - A batch for the queue that holds a message whose text contains `RESET_MARK` is never sent
 *   (the first time only: the object remembers it in its storage), as if the isolate went away
 *   before the call left it.
 * - `POST RESET_PATH?room=NAME` then resets that room's object (`ctx.abort()`).
 *
 * With no marked message the classes do exactly what the product's own do.
 */
import worker from "../../../src/index.ts";
import { Room as ShippedRoom } from "../../../src/room/room.ts";
import type { WebhookQueue } from "../../../src/room/webhook-outbox.ts";
import type { WebhookDelivery } from "../../../src/webhooks/delivery.ts";
import { RESET_MARK, RESET_PATH } from "../../support/webhook-faults.ts";

export { AccountRegistry, Person, RoomRelay, RoomShard } from "../../../src/index.ts";

/** Storage key: the marked hand-off has been swallowed once already. */
const SWALLOWED = "test:swallowed";

/** `queue`, except that the first batch carrying a marked message is swallowed. */
function swallowingMarked(storage: DurableObjectStorage, queue: WebhookQueue): WebhookQueue {
	return {
		sendBatch(batch, options) {
			const messages = [...batch];
			const marked = messages.some((message) => message.body.body.includes(RESET_MARK));
			if (marked && storage.kv.get(SWALLOWED) === undefined) {
				storage.kv.put(SWALLOWED, true);
				return new Promise<never>(() => {});
			}
			return queue.sendBatch(messages, options);
		},
	};
}

/** The room's object, with the marked hand-off lost and a reset on demand. */
export class Room extends ShippedRoom {
	constructor(ctx: DurableObjectState, env: Env) {
		// The outbox calls only `sendBatch` (WebhookQueue); the rest of the binding is not used.
		super(ctx, { ...env, WEBHOOKS: swallowingMarked(ctx.storage, env.WEBHOOKS) as Env["WEBHOOKS"] });
	}

	/** Resets this object, as the runtime does when it evicts or restarts it. */
	resetForTest(): void {
		this.ctx.abort("reset for a test");
	}
}

export default {
	...worker,
	async fetch(request, env, ctx) {
		const url = new URL(request.url);
		if (request.method === "POST" && url.pathname === RESET_PATH) {
			const stub = env.ROOMS.get(env.ROOMS.idFromName(url.searchParams.get("room") ?? "")) as unknown as {
				resetForTest(): Promise<void>;
			};
			// The call fails: the object it reached is gone.
			const outcome = await stub.resetForTest().then(
				() => "not reset",
				() => "reset",
			);
			return new Response(outcome);
		}
		return worker.fetch?.(request, env, ctx) ?? new Response(null, { status: 500 });
	},
} satisfies ExportedHandler<Env, WebhookDelivery>;
