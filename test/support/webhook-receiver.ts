/**
 * A webhook receiver on loopback, as an operator's backend would run one: every request is
 * verified with the `standardwebhooks` package and `WEBHOOK_SECRET`, and kept with what it
 * carried. What it answers is up to the test (`answer`): a status, or no answer at all (to make
 * the sender time out). Tests wait on its requests, never on timers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import type { WebhookBody } from "../../src/room/webhook-events.ts";
import { conditionWaits } from "./clients.ts";

/** One request the receiver got. */
export interface Attempt {
	/** `webhook-id` */
	readonly id: string;
	/** `webhook-timestamp`, seconds since the epoch. */
	readonly timestamp: number;
	/** When it arrived (ms since the epoch, the receiver's clock). */
	readonly receivedAt: number;
	/** The raw body. */
	readonly payload: string;
	/** The body, verified: `null` when verification failed (`error` says why). */
	readonly event: WebhookBody | null;
	readonly error: string | null;
	/** What the receiver answered (`null`: nothing, the request was left hanging). */
	readonly status: number | null;
}

/** What to answer a request: a status, or `"hang"` to never answer it. */
export type Answer = number | "hang";

/** The receiver: its URL, every attempt in arrival order, and waits. */
export interface WebhookReceiver {
	readonly url: string;
	readonly attempts: Attempt[];
	/** Decides each answer from the verified event (or `null`) and how many attempts of its id came before (0, 1, ...). */
	answer: (event: WebhookBody | null, previousAttempts: number) => Answer;
	/** Resolves once `predicate` holds for the attempts so far. */
	until(predicate: (attempts: readonly Attempt[]) => boolean): Promise<void>;
	/** The attempts of one `webhook-id`, in order. */
	attemptsOf(id: string): Attempt[];
	/** The events answered 2xx, one per `webhook-id` (the first success). */
	delivered(): WebhookBody[];
	stop(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 that verifies with `secret` (whsec_…). */
export async function startReceiver(secret: string): Promise<WebhookReceiver> {
	const verifier = new Webhook(secret);
	const attempts: Attempt[] = [];
	const waits = conditionWaits();
	const hanging = new Set<ServerResponse>();
	const receiver: WebhookReceiver = {
		url: "",
		attempts,
		answer: () => 200,
		until: (predicate) => waits.when(() => (predicate(attempts) ? true : undefined)).then(() => {}),
		attemptsOf: (id) => attempts.filter((attempt) => attempt.id === id),
		delivered: () => {
			const seen = new Set<string>();
			const events: WebhookBody[] = [];
			for (const attempt of attempts) {
				if (attempt.event === null || attempt.status === null || attempt.status >= 300 || seen.has(attempt.id))
					continue;
				seen.add(attempt.id);
				events.push(attempt.event);
			}
			return events;
		},
		stop: () =>
			new Promise<void>((resolve) => {
				for (const response of hanging) response.destroy();
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
	const server: Server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
		const chunks: Buffer[] = [];
		for await (const chunk of request) chunks.push(chunk as Buffer);
		const payload = Buffer.concat(chunks).toString("utf8");
		const headers = Object.fromEntries(
			["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => [
				name,
				String(request.headers[name] ?? ""),
			]),
		);
		let event: WebhookBody | null = null;
		let error: string | null = null;
		try {
			event = verifier.verify(payload, headers) as WebhookBody;
		} catch (failure) {
			error = String(failure);
		}
		const id = headers["webhook-id"] ?? "";
		const answer = receiver.answer(event, attempts.filter((attempt) => attempt.id === id).length);
		attempts.push({
			id,
			timestamp: Number(headers["webhook-timestamp"]),
			receivedAt: Date.now(),
			payload,
			event,
			error,
			status: answer === "hang" ? null : answer,
		});
		waits.recheck();
		if (answer === "hang") {
			hanging.add(response);
			return;
		}
		response.writeHead(answer).end();
	});
	// Node closes an idle keep-alive connection after 5 s, and a sender may reuse the pooled
	// connection just as it closes: the attempt then fails before reaching the receiver (a network
	// error, retried after a longer wait). Retries here wait up to 9 s; keep connections longer.
	server.keepAliveTimeout = 120_000;
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return Object.assign(receiver, { url: `http://127.0.0.1:${port}/hooks` });
}
