/**
 * The load generator: a separate process (started by bench/processes.ts, pinned to its own
 * core) that opens rooms of clients, lets some of them send tagged messages at a set rate, and
 * times every delivery. Senders and receivers live in this one process, so send and receive
 * times come from one clock (`performance.now()`).
 *
 * It speaks plain mode (the tutorial's protocol; both servers) or edgechat.v1 (edgechat only).
 * It takes jobs over IPC and answers with measurements.
 */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { reactionStorm } from "./reaction-storm.ts";

export type Mode = "plain" | "rich";

/** One job: open, measure, close. */
export type Job =
	| {
			kind: "fanout";
			url: string;
			mode: Mode;
			rooms: number;
			clientsPerRoom: number;
			sendersPerRoom: number;
			/** Messages per second, all senders together. */
			rate: number;
			seconds: number;
	  }
	| { kind: "connect"; url: string; mode: Mode; connections: number; parallel: number }
	| { kind: "hold"; url: string; mode: Mode; connections: number; room?: string }
	/** One held client sends one message; resolves when every held client got it (or after 10 s). */
	| { kind: "heldBroadcast" }
	/**
	 * A reconnect storm: `clients` rich clients in one room, mid-conversation, all dropped at once
	 * and all back at once, resuming, while a talker sends `ratePerSecond` messages.
	 */
	| { kind: "storm"; url: string; clients: number; messagesBefore: number; ratePerSecond: number }
	/**
	 * A slow consumer: in one plain room of `clients`, one client stops reading while `senders`
	 * others each send `frameBytes` binary frames `perSecond` times a second for `seconds`.
	 */
	| {
			kind: "stall";
			url: string;
			clients: number;
			senders: number;
			frameBytes: number;
			perSecond: number;
			seconds: number;
	  }
	| { kind: "release" }
	/**
	 * One big room, held between jobs (bench/scenarios.ts, the shards scenario): `members` plain
	 * clients opened `parallel` at a time; the first of every `senderEvery` of them is a sender, so
	 * in a room split into objects of `senderEvery` connections each object holds one sender.
	 */
	| { kind: "crowdOpen"; url: string; room: string; members: number; senderEvery: number; parallel: number }
	/** The held room's senders send `rate` messages a second (all together) for `seconds`, timed as in a fan-out. */
	| { kind: "crowdSend"; room: string; rate: number; seconds: number }
	| { kind: "crowdClose"; room: string }
	/** A reaction storm (bench/reaction-storm.ts): `members` rich clients each react to one message within `seconds`. */
	| { kind: "reactionStorm"; url: string; members: number; seconds: number };

/** What a fan-out job measured. */
export interface FanoutResult {
	sent: number;
	expected: number;
	delivered: number;
	duplicates: number;
	lost: number;
	deliveriesPerSecond: number;
	p50: number;
	p99: number;
	max: number;
	/** Payload bytes received per delivery (the frame's header adds 2 more below 126 bytes). */
	bytesPerDelivery: number;
	/** This process's CPU use during the job (1.0 = one core). */
	loadCpu: number;
}

let held: WebSocket[] = [];
/** Frames received by held clients that carry the held-broadcast tag. */
let heldReceived = 0;

function roomUrl(base: string, room: string): string {
	return base.replace("ROOM", room);
}

/** Opens one client and resolves once it may send (rich clients once welcomed). */
function openClient(
	url: string,
	mode: Mode,
	name: string,
	onText: (text: string, bytes: number) => void,
): Promise<WebSocket> {
	return new Promise((resolve, reject) => {
		// Offer permessage-deflate as every browser does; the server decides whether to take it.
		const ws = new WebSocket(url, mode === "rich" ? ["edgechat.v1"] : [], { perMessageDeflate: true });
		let ready = false;
		ws.on("open", () => {
			if (mode === "plain") {
				ready = true;
				resolve(ws);
			} else {
				ws.send(JSON.stringify({ type: "hello", name }));
			}
		});
		ws.on("message", (data, isBinary) => {
			if (isBinary) return;
			const text = data.toString();
			if (!ready) {
				if (text.includes('"type":"welcome"')) {
					ready = true;
					resolve(ws);
				}
				return;
			}
			onText(text, Buffer.isBuffer(data) ? data.length : Buffer.byteLength(text));
		});
		ws.on("error", (error) => {
			if (!ready) reject(error);
		});
	});
}

/** Tags look like `t|SENDER|SEQ|MS`; rich frames carry them in `"text":"..."` (maybe several per batch). */
const TAG = /t\|(\d+)\|(\d+)\|([\d.]+)/g;

/**
 * Resolves once `progress()` reaches `expected`, or after two seconds without progress (what
 * has not arrived by then is counted lost).
 */
function drain(progress: () => number, expected: number): Promise<void> {
	return new Promise((resolve) => {
		let last = -1;
		let still = 0;
		const check = setInterval(() => {
			const now = progress();
			if (now >= expected || still >= 20) {
				clearInterval(check);
				resolve();
			}
			still = now === last ? still + 1 : 0;
			last = now;
		}, 100);
	});
}

/** Resolves with whether `ready()` held, once it does or `ms` have passed. */
function waitUntil(ready: () => boolean, ms: number): Promise<boolean> {
	return new Promise((resolve) => {
		const started = performance.now();
		const check = setInterval(() => {
			if (ready() || performance.now() - started > ms) {
				clearInterval(check);
				resolve(ready());
			}
		}, 5);
	});
}

/** Counts and times the deliveries of one sending period's tagged messages. */
class Meter {
	/** Messages each sender may send at most. */
	readonly perSender: number;
	/** deliveries[sender * perSender + seq] counts arrivals of that message. */
	readonly #deliveries: Uint16Array;
	readonly #latencies: Float64Array;
	#latencyCount = 0;
	delivered = 0;
	duplicates = 0;
	bytes = 0;
	#measuring = true;

	readonly senderCount: number;
	/** The clients every message should reach. */
	readonly recipients: number;

	constructor(senderCount: number, recipients: number, rate: number, seconds: number) {
		this.senderCount = senderCount;
		this.recipients = recipients;
		this.perSender = Math.ceil((rate * seconds) / senderCount) + 1;
		this.#deliveries = new Uint16Array(senderCount * this.perSender);
		this.#latencies = new Float64Array(Math.min(8_000_000, rate * seconds * recipients + 1000));
	}

	/** A text frame a client received. */
	readonly onText = (text: string, bytes: number): void => {
		if (!this.#measuring) return;
		const now = performance.now();
		this.bytes += bytes;
		for (const match of text.matchAll(TAG)) {
			const index = Number(match[1]) * this.perSender + Number(match[2]);
			const seen = this.#deliveries[index] ?? 0;
			this.#deliveries[index] = seen + 1;
			if (seen + 1 > this.recipients) this.duplicates++;
			this.delivered++;
			if (this.#latencyCount < this.#latencies.length) this.#latencies[this.#latencyCount++] = now - Number(match[3]);
		}
	};

	/** Stops counting. */
	stop(): void {
		this.#measuring = false;
	}

	/** The latency quantiles of what was counted. */
	quantiles(): { p50: number; p99: number; max: number } {
		const sorted = this.#latencies.subarray(0, this.#latencyCount).sort();
		const pick = (q: number) =>
			sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) : 0;
		return { p50: pick(0.5), p99: pick(0.99), max: pick(1) };
	}
}

/**
 * `senders` send `rate` tagged messages a second between them for `seconds`, and `meter` hears
 * what every client receives; resolves once all arrived (or the drain gave up). The orchestrator
 * reads the server's CPU time between the two phase notices, so connecting and disconnecting
 * the clients is not charged to the deliveries.
 */
async function sendAndMeasure(
	meter: Meter,
	senders: WebSocket[],
	mode: Mode,
	rate: number,
	seconds: number,
): Promise<FanoutResult> {
	process.send?.({ phase: "sending" });
	const cpuStart = process.cpuUsage();
	const started = performance.now();
	const { senderCount, perSender } = meter;
	const sentBy = new Uint32Array(senderCount);
	let sent = 0;
	let clientIds = 0;
	await new Promise<void>((resolve) => {
		const tick = setInterval(() => {
			const elapsed = (performance.now() - started) / 1000;
			const due = Math.min(Math.floor(rate * Math.min(elapsed, seconds)), perSender * senderCount);
			while (sent < due) {
				const s = sent % senderCount;
				const seq = sentBy[s] ?? 0;
				if (seq >= perSender) break;
				sentBy[s] = seq + 1;
				const tag = `t|${s}|${seq}|${performance.now().toFixed(3)}`;
				const socket = senders[s];
				if (mode === "plain") socket?.send(tag);
				else socket?.send(`{"type":"send","clientId":"c${++clientIds}","text":"${tag}"}`);
				sent++;
			}
			if (elapsed >= seconds) {
				clearInterval(tick);
				resolve();
			}
		}, 5);
	});
	const expected = sent * meter.recipients;
	await drain(() => meter.delivered, expected);
	const cpu = process.cpuUsage(cpuStart);
	const wall = (performance.now() - started) / 1000;
	meter.stop();
	process.send?.({ phase: "drained" });
	const { delivered, duplicates } = meter;
	return {
		sent,
		expected,
		delivered,
		duplicates,
		lost: Math.max(0, expected - (delivered - duplicates)),
		deliveriesPerSecond: delivered / seconds,
		...meter.quantiles(),
		bytesPerDelivery: delivered ? meter.bytes / delivered : 0,
		loadCpu: (cpu.user + cpu.system) / 1e6 / wall,
	};
}

async function fanout(job: Extract<Job, { kind: "fanout" }>): Promise<FanoutResult> {
	const meter = new Meter(job.rooms * job.sendersPerRoom, job.clientsPerRoom, job.rate, job.seconds);
	const sockets: WebSocket[] = [];
	const senders: WebSocket[] = [];
	for (let r = 0; r < job.rooms; r++) {
		const url = roomUrl(job.url, `bench-${process.pid}-${Date.now()}-${r}`);
		const opening: Promise<WebSocket>[] = [];
		for (let c = 0; c < job.clientsPerRoom; c++) opening.push(openClient(url, job.mode, `u${r}-${c}`, meter.onText));
		const room = await Promise.all(opening);
		sockets.push(...room);
		senders.push(...room.slice(0, job.sendersPerRoom));
	}
	const result = await sendAndMeasure(meter, senders, job.mode, job.rate, job.seconds);
	for (const ws of sockets) ws.terminate();
	return result;
}

/** A big room held between jobs: its clients, its senders, and the meter of the step under way. */
interface Crowd {
	readonly sockets: WebSocket[];
	readonly senders: WebSocket[];
	meter: Meter | null;
}

const crowds = new Map<string, Crowd>();

/**
 * Opens a big plain room and holds it: block by block of `senderEvery` connections, a sender
 * first and then the rest of the block, `parallel` at a time. Resolves with the time it took.
 */
async function crowdOpen(job: Extract<Job, { kind: "crowdOpen" }>) {
	const url = roomUrl(job.url, job.room);
	const crowd: Crowd = { sockets: [], senders: [], meter: null };
	crowds.set(job.room, crowd);
	const onText = (text: string, bytes: number) => crowd.meter?.onText(text, bytes);
	const started = performance.now();
	for (let block = 0; block < job.members; block += job.senderEvery) {
		const sender = await openClient(url, "plain", "sender", onText);
		crowd.senders.push(sender);
		crowd.sockets.push(sender);
		let next = block + 1;
		const end = Math.min(job.members, block + job.senderEvery);
		const worker = async () => {
			while (next < end) {
				next++;
				crowd.sockets.push(await openClient(url, "plain", "member", onText));
			}
		};
		await Promise.all(Array.from({ length: job.parallel }, worker));
	}
	const seconds = (performance.now() - started) / 1000;
	return { setupSeconds: seconds, connectionsPerSecond: job.members / seconds };
}

async function crowdSend(job: Extract<Job, { kind: "crowdSend" }>): Promise<FanoutResult> {
	const crowd = crowds.get(job.room);
	if (!crowd) throw new Error(`no held room ${job.room}`);
	const meter = new Meter(crowd.senders.length, crowd.sockets.length, job.rate, job.seconds);
	crowd.meter = meter;
	try {
		return await sendAndMeasure(meter, crowd.senders, "plain", job.rate, job.seconds);
	} finally {
		crowd.meter = null;
	}
}

function crowdClose(job: Extract<Job, { kind: "crowdClose" }>) {
	const crowd = crowds.get(job.room);
	crowds.delete(job.room);
	for (const ws of crowd?.sockets ?? []) ws.terminate();
	return { closed: crowd?.sockets.length ?? 0 };
}

/** What a stall job saw. */
export interface StallResult {
	/** Bytes the senders sent, each addressed to the stalled client too. */
	addressedBytes: number;
	/** Frames each reading client should have got, and how many fewer the worst one got. */
	expectedPerReader: number;
	worstReaderShortBy: number;
	/** What the stalled client got once it read again, and how its connection ended. */
	stalledReceived: number;
	stalledClose: number | null;
}

async function stall(job: Extract<Job, { kind: "stall" }>): Promise<StallResult> {
	const url = roomUrl(job.url, `stall-${process.pid}-${Date.now()}`);
	const clients: WebSocket[] = [];
	const received = new Map<WebSocket, number>();
	for (let i = 0; i < job.clients; i++) {
		const ws = await openClient(url, "plain", `s${i}`, () => {});
		received.set(ws, 0);
		ws.on("message", () => received.set(ws, (received.get(ws) ?? 0) + 1));
		clients.push(ws);
	}
	const [stalled, ...readers] = clients as [WebSocket, ...WebSocket[]];
	const senders = readers.slice(0, job.senders);
	stalled.pause();
	const stalledClose = new Promise<number>((resolve) => stalled.once("close", resolve));
	process.send?.({ phase: "sending" });
	const frame = Buffer.alloc(job.frameBytes, 1);
	const total = Math.round(job.perSecond * job.seconds);
	const started = performance.now();
	let sent = 0;
	await new Promise<void>((resolve) => {
		const tick = setInterval(() => {
			const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * job.perSecond));
			for (; sent < due; sent++) for (const sender of senders) sender.send(frame);
			if (sent >= total) {
				clearInterval(tick);
				resolve();
			}
		}, 10);
	});
	const expectedPerReader = total * senders.length;
	const leastRead = () => Math.min(...readers.map((ws) => received.get(ws) ?? 0));
	await drain(leastRead, expectedPerReader);
	process.send?.({ phase: "drained" });
	const worst = leastRead();
	stalled.resume();
	// Reading again, it gets what the network held for it and then the Close, if the server sent
	// one; a server that never cut it off delivers everything instead.
	let code: number | null = null;
	void stalledClose.then((closedWith) => {
		code = closedWith;
	});
	await waitUntil(() => code !== null || (received.get(stalled) ?? 0) >= expectedPerReader, 15_000);
	for (const ws of clients) ws.terminate();
	return {
		addressedBytes: expectedPerReader * job.frameBytes,
		expectedPerReader,
		worstReaderShortBy: expectedPerReader - worst,
		stalledReceived: received.get(stalled) ?? 0,
		stalledClose: code,
	};
}

/** What a reconnect storm saw. */
export interface StormResult {
	clients: number;
	/** Messages in the room by the end (before, during and after the storm). */
	messages: number;
	/** From the moment every socket was dropped until every client had every message again (ms). */
	catchUpMs: number;
	/** How long until every client was welcomed back (ms), and the resulting reconnects/s. */
	reconnectMs: number;
	/** Messages some client never got, and messages some client got twice. */
	lost: number;
	duplicated: number;
}

/** A rich client that keeps what it has seen across reconnects, as the page does. */
interface Tracker {
	readonly seen: Set<number>;
	lastId: number;
	duplicated: number;
	socket: WebSocket | null;
}

/** Joins as `name` (resuming after `tracker.lastId` when set) and resolves once welcomed. */
function joinTracked(url: string, name: string, tracker: Tracker): Promise<void> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, ["edgechat.v1"], { perMessageDeflate: true });
		tracker.socket = ws;
		const take = (event: { type: string; id?: number; history?: { id: number }[] }) => {
			const ids =
				event.type === "welcome"
					? (event.history ?? []).map((m) => m.id)
					: event.type === "message"
						? [event.id ?? 0]
						: [];
			for (const id of ids) {
				if (tracker.seen.has(id)) tracker.duplicated++;
				tracker.seen.add(id);
				tracker.lastId = Math.max(tracker.lastId, id);
			}
			if (event.type === "welcome") resolve();
		};
		ws.on("open", () =>
			ws.send(
				JSON.stringify(tracker.lastId ? { type: "hello", name, since: tracker.lastId } : { type: "hello", name }),
			),
		);
		ws.on("message", (data) => {
			const event = JSON.parse(data.toString());
			for (const single of event.type === "batch" ? event.events : [event]) take(single);
		});
		ws.on("error", reject);
	});
}

async function storm(job: Extract<Job, { kind: "storm" }>): Promise<StormResult> {
	const url = roomUrl(job.url, `storm-${process.pid}-${Date.now()}`);
	const trackers: Tracker[] = Array.from({ length: job.clients }, () => ({
		seen: new Set<number>(),
		lastId: 0,
		duplicated: 0,
		socket: null,
	}));
	for (let i = 0; i < job.clients; i += 100) {
		await Promise.all(trackers.slice(i, i + 100).map((t, j) => joinTracked(url, `s${i + j}`, t)));
	}
	const talker: Tracker = { seen: new Set(), lastId: 0, duplicated: 0, socket: null };
	await joinTracked(url, "talker", talker);
	let said = 0;
	const say = () =>
		talker.socket?.send(JSON.stringify({ type: "send", clientId: `m${++said}`, text: `storm ${said}` }));
	const allHave = (count: number) => trackers.every((t) => t.seen.size >= count);
	// Mid-conversation: everyone has seen the first messages.
	for (let i = 0; i < job.messagesBefore; i++) say();
	await waitUntil(() => allHave(job.messagesBefore), 30_000);
	process.send?.({ phase: "sending" });
	// The storm: every socket drops at once (as on a deploy), and every client comes back at once,
	// resuming from the last id it saw, while the conversation goes on.
	const dropped = performance.now();
	for (const t of trackers) t.socket?.terminate();
	const talking = setInterval(say, 1000 / job.ratePerSecond);
	await Promise.all(trackers.map((t, i) => joinTracked(url, `s${i}`, t)));
	const reconnectMs = performance.now() - dropped;
	clearInterval(talking);
	const total = said;
	await waitUntil(() => allHave(total), 60_000);
	const catchUpMs = performance.now() - dropped;
	process.send?.({ phase: "drained" });
	let lost = 0;
	let duplicated = 0;
	for (const t of trackers) {
		for (let id = 1; id <= total; id++) if (!t.seen.has(id)) lost++;
		duplicated += t.duplicated;
	}
	for (const t of [...trackers, talker]) t.socket?.terminate();
	return { clients: job.clients, messages: total, catchUpMs, reconnectMs, lost, duplicated };
}

async function connectRate(job: Extract<Job, { kind: "connect" }>) {
	const url = roomUrl(job.url, `connect-${process.pid}-${Date.now()}`);
	const sockets: WebSocket[] = [];
	let next = 0;
	const started = performance.now();
	async function worker() {
		while (next < job.connections) {
			next++;
			sockets.push(await openClient(url, job.mode, `c${next}`, () => {}));
		}
	}
	await Promise.all(Array.from({ length: job.parallel }, worker));
	const seconds = (performance.now() - started) / 1000;
	for (const ws of sockets) ws.terminate();
	return { connectionsPerSecond: job.connections / seconds };
}

async function hold(job: Extract<Job, { kind: "hold" }>) {
	const url = roomUrl(job.url, job.room ?? `idle-${process.pid}-${Date.now()}`);
	const onText = (text: string) => {
		if (text.includes("held-broadcast")) heldReceived++;
	};
	for (let i = 0; i < job.connections; i += 100) {
		const batch = [];
		for (let j = i; j < Math.min(job.connections, i + 100); j++) batch.push(openClient(url, job.mode, `i${j}`, onText));
		held.push(...(await Promise.all(batch)));
	}
	return { held: held.length };
}

async function heldBroadcast() {
	heldReceived = 0;
	const started = performance.now();
	const first = held[0];
	if (!first || first.readyState !== WebSocket.OPEN) throw new Error(`no open held client (${held.length} held)`);
	first.send(`{"type":"send","clientId":"hb${Date.now()}","text":"held-broadcast"}`);
	await new Promise<void>((resolve) => {
		const check = setInterval(() => {
			if (heldReceived >= held.length || performance.now() - started > 10_000) {
				clearInterval(check);
				resolve();
			}
		}, 1);
	});
	return { delivered: heldReceived, of: held.length, ms: performance.now() - started };
}

process.on("message", async (job: Job) => {
	try {
		let result: unknown;
		if (job.kind === "fanout") result = await fanout(job);
		else if (job.kind === "connect") result = await connectRate(job);
		else if (job.kind === "hold") result = await hold(job);
		else if (job.kind === "heldBroadcast") result = await heldBroadcast();
		else if (job.kind === "stall") result = await stall(job);
		else if (job.kind === "storm") result = await storm(job);
		else if (job.kind === "crowdOpen") result = await crowdOpen(job);
		else if (job.kind === "crowdSend") result = await crowdSend(job);
		else if (job.kind === "crowdClose") result = crowdClose(job);
		else if (job.kind === "reactionStorm")
			result = await reactionStorm(
				roomUrl(job.url, `reactions-${process.pid}-${Date.now()}`),
				job.members,
				job.seconds,
			);
		else {
			for (const ws of held) ws.terminate();
			held = [];
			result = { released: true };
		}
		process.send?.({ ok: true, result });
	} catch (error) {
		process.send?.({ ok: false, error: String(error) });
	}
});
process.send?.({ ready: true });
