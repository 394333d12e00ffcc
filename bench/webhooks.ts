/**
 * Webhooks on against webhooks off (README.md, "Webhooks"): what recording every message in the
 * room's outbox, handing it to the queue and sending it costs the fan-out, and how long an event
 * takes to reach the operator's receiver.
 *
 * Two workerd processes of this tree, pinned to the same core in turn (bench/processes.ts): one
 * as usual, one with WEBHOOK_URL pointing at a receiver in this process, which verifies every
 * request with `standardwebhooks` as an operator's backend would (its CPU is this process's, not
 * the server's). The queue's consumer runs in the server's workerd, so its CPU (signing, one
 * HTTP request per event) is in the server's CPU figures: the comparison includes the queue's
 * whole cost, as a deployment pays it within the Worker.
 *
 * 1. Fan-out, rich, 200 clients and 10 senders in one room, the two servers alternating at each
 *    rate; afterwards every message sent to the webhooks-on server must have reached the receiver.
 * 2. Latency at 100 messages per second from one rich client: for each message, from its send to
 *    the sender's own copy coming back (the chat's latency, the reference) and to the receiver
 *    getting its `message.created`.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import WebSocket from "ws";
import type { LoadGenerator, Server } from "./processes.ts";
import { log, rising, type WebhooksMeasured } from "./scenarios.ts";

/** A secret in Standard Webhooks' form, made for this run. */
export const BENCH_WEBHOOK_SECRET = `whsec_${randomBytes(32).toString("base64")}`;

/** The receiver: counts events, and when each message's event arrived (by `clientId`). */
export interface BenchReceiver {
	readonly url: string;
	/** `message.created` events received, in all (each `webhook-id` once: a repeat is not counted). */
	created: number;
	/** Arrival time (performance.now()) of each message's event, by its clientId. */
	readonly arrivals: Map<string, number>;
	/** Resolves once `created` reaches `count`, or after `ms` without a new event. */
	drained(count: number, ms: number): Promise<void>;
	stop(): Promise<void>;
}

/** Starts the receiver on 127.0.0.1: verifies each request, answers 204, and records it. */
export async function startBenchReceiver(): Promise<BenchReceiver> {
	const verifier = new Webhook(BENCH_WEBHOOK_SECRET);
	let lastArrival = performance.now();
	const ids = new Set<string>();
	const server: HttpServer = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on("data", (chunk: Buffer) => chunks.push(chunk));
		request.on("end", () => {
			const headers = {
				"webhook-id": String(request.headers["webhook-id"]),
				"webhook-timestamp": String(request.headers["webhook-timestamp"]),
				"webhook-signature": String(request.headers["webhook-signature"]),
			};
			const event = verifier.verify(Buffer.concat(chunks).toString("utf8"), headers) as {
				type: string;
				data: { clientId?: string | null };
			};
			lastArrival = performance.now();
			if (event.type === "message.created" && !ids.has(headers["webhook-id"])) {
				ids.add(headers["webhook-id"]);
				receiver.created++;
				if (event.data.clientId) receiver.arrivals.set(event.data.clientId, lastArrival);
			}
			response.writeHead(204).end();
		});
	});
	const receiver: BenchReceiver = {
		url: "",
		created: 0,
		arrivals: new Map(),
		drained: async (count, ms) => {
			lastArrival = performance.now();
			while (receiver.created < count && performance.now() - lastArrival < ms) {
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
		},
		stop: () => new Promise((resolve) => server.close(() => resolve())),
	};
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	return Object.assign(receiver, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` });
}

/** The `p`-th percentile of sorted `values`. */
function percentile(values: number[], p: number): number {
	return values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? 0;
}

/**
 * One rich client sends `rate` messages per second for `seconds` to `server` (webhooks on) and
 * times each to its own copy and to its event at the receiver.
 */
async function latency(server: Server, receiver: BenchReceiver, rate: number, seconds: number) {
	const url = server.url.replace("ROOM", `webhook-latency-${Date.now()}`);
	const socket = new WebSocket(url, ["edgechat.v1"], { perMessageDeflate: true });
	const sentAt = new Map<string, number>();
	const echoed = new Map<string, number>();
	await new Promise<void>((resolve, reject) => {
		socket.once("error", reject);
		socket.on("message", (data) => {
			const event = JSON.parse(String(data)) as { type: string; events?: { type: string; clientId?: string }[] };
			for (const single of event.type === "batch"
				? (event.events ?? [])
				: [event as { type: string; clientId?: string }]) {
				if (single.type === "welcome") resolve();
				if (single.type === "message" && single.clientId) echoed.set(single.clientId, performance.now());
			}
		});
		socket.once("open", () => socket.send(JSON.stringify({ type: "hello", name: "timer" })));
	});
	const total = rate * seconds;
	const started = performance.now();
	let sent = 0;
	while (sent < total) {
		const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
		for (; sent < due; sent++) {
			const clientId = `lat-${sent}`;
			sentAt.set(clientId, performance.now());
			socket.send(JSON.stringify({ type: "send", clientId, text: `timed ${sent}` }));
		}
		await new Promise((resolve) => setTimeout(resolve, 2));
	}
	const before = receiver.created;
	await receiver.drained(before + total, 10_000);
	socket.close();
	const echo: number[] = [];
	const webhook: number[] = [];
	for (const [clientId, at] of sentAt) {
		const back = echoed.get(clientId);
		const arrived = receiver.arrivals.get(clientId);
		if (back !== undefined) echo.push(back - at);
		if (arrived !== undefined) webhook.push(arrived - at);
	}
	echo.sort((a, b) => a - b);
	webhook.sort((a, b) => a - b);
	return {
		rate,
		messages: total,
		echo: { p50: percentile(echo, 50), p99: percentile(echo, 99) },
		webhook: { p50: percentile(webhook, 50), p99: percentile(webhook, 99) },
		missing: total - webhook.length,
	};
}

/** Runs both parts: `off` and `on` are this tree's rich edgechat without and with webhooks. */
export async function webhooksScenario(
	load: LoadGenerator,
	servers: { off: Server; on: Server },
	receiver: BenchReceiver,
	{ quick, stepSeconds }: { quick: boolean; stepSeconds: number },
): Promise<WebhooksMeasured> {
	const rates = quick ? [100, 300] : [100, 300, 600, 1000];
	const fanout = await rising(
		load,
		stepSeconds,
		"fan-out, webhooks off and on",
		[servers.off, servers.on],
		{ rooms: 1, clients: 200, senders: 10 },
		rates,
	);
	// Every message sent, a step's first try included when it was run again.
	const sentWithWebhooks = fanout.filter((s) => s.server === servers.on.label).reduce((n, s) => n + s.sentInAll, 0);
	await receiver.drained(sentWithWebhooks, 10_000);
	const received = receiver.created;
	log(`  webhooks: ${received} of ${sentWithWebhooks} messages' events received`);
	const measured = await latency(servers.on, receiver, 100, quick ? 3 : 20);
	log(
		`  webhook latency at 100 msg/s: p50 ${measured.webhook.p50.toFixed(1)} ms, p99 ${measured.webhook.p99.toFixed(1)} ms (the sender's own copy: p50 ${measured.echo.p50.toFixed(1)} ms, p99 ${measured.echo.p99.toFixed(1)} ms), ${measured.missing} missing`,
	);
	return { fanout, sentWithWebhooks, received, latency: measured };
}
