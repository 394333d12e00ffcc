/**
 * The webhook events' shapes, as zod schemas: the bodies the Worker sends (docs/operating.md, "Webhooks"),
 * registered in the OpenAPI document as its `webhooks`, and the API's answers about events that
 * failed. Checked at compile time against the events the room builds (src/room/webhook-events.ts).
 */
import { z } from "@hono/zod-openapi";
import { FAILED_PAGE, type FailedPage, MAX_FAILED, type Requeued } from "../room/failed-webhooks.ts";
import type { WebhookBody } from "../room/webhook-events.ts";
import { type Describes, MessageSchema } from "./schemas.ts";

/** `data.room` of every webhook event. */
const RoomField = { room: z.string().openapi({ description: "The room's name." }) };

/** Signed mode: an edit's or a delete's entry (its own log id, the message's as `target`). */
const ChangeFields = {
	id: z.number().int().min(1),
	target: z.number().int().min(1),
	name: z.string(),
	ts: z.number().int(),
};

/** The body of each webhook request (docs/operating.md, "Webhooks"), by `type`. */
export const WebhookBodySchema = z
	.discriminatedUnion("type", [
		z.object({ type: z.literal("message.created"), data: MessageSchema.extend(RoomField).strict() }),
		z.object({
			type: z.literal("message.edited"),
			data: z.object({ ...RoomField, ...ChangeFields, text: z.string(), userId: z.string() }).strict(),
		}),
		z.object({
			type: z.literal("message.deleted"),
			data: z
				.object({ ...RoomField, ...ChangeFields, userId: z.string().optional(), api: z.literal(true).optional() })
				.strict(),
		}),
		z.object({
			type: z.literal("user.kicked"),
			data: z.object({ ...RoomField, userId: z.string(), name: z.string().optional(), by: z.string() }).strict(),
		}),
		z.object({
			type: z.literal("user.banned"),
			data: z
				.object({
					...RoomField,
					userId: z.string(),
					name: z.string().optional(),
					by: z.string(),
					until: z.number().int(),
				})
				.strict(),
		}),
	])
	.and(z.object({ timestamp: z.string().openapi({ description: "When the room committed it (ISO 8601)." }) }))
	.openapi("WebhookEvent");

/** Events the receiver never took (they went to the dead-letter queue). */
export const FailedWebhooksSchema = z
	.object({
		failed: z.array(
			z
				.object({
					webhookId: z.string(),
					failedAt: z
						.number()
						.int()
						.openapi({ description: "When it reached the dead-letter queue, ms since the epoch." }),
					event: WebhookBodySchema,
				})
				.strict(),
		),
		more: z.boolean().openapi({ description: "More failed events than this page (the oldest come first)." }),
		dropped: z
			.number()
			.int()
			.min(0)
			.openapi({
				description: `Failed events this room dropped, in all, because it kept ${MAX_FAILED} already (the oldest go first; each drop is logged as webhook_dropped). Never reset: compare it with the last value seen.`,
			}),
	})
	.strict()
	.openapi("FailedWebhooks");

/** What one retry sent back to the queue. */
export const RequeuedSchema = z
	.object({
		requeued: z
			.number()
			.int()
			.min(0)
			.max(FAILED_PAGE)
			.openapi({ description: `How many went back to the queue: the oldest, at most ${FAILED_PAGE}.` }),
		more: z.boolean().openapi({ description: "More failed events wait: retry again to send the next page." }),
	})
	.strict()
	.openapi("Requeued");

true satisfies Describes<Omit<z.infer<typeof FailedWebhooksSchema>, "failed">, Omit<FailedPage, "failed">>;
true satisfies Describes<z.infer<typeof RequeuedSchema>, Requeued>;

true satisfies Describes<z.infer<typeof WebhookBodySchema>, WebhookBody>;
