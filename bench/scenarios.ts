/**
 * The scenarios: what load each step applies, to which servers, at which rates, and what is
 * read off the servers meanwhile. Every scenario alternates the servers step by step
 * (A B C A B C ...) so that drift on the shared machine hits all of them alike. Progress goes to
 * stderr as it runs; the measurements are returned for the report (bench/report.ts).
 */

import { type HeapMeasured, heapScenario } from "./heap.ts";
import type { FanoutResult, StallResult, StormResult } from "./load.ts";
import { cpuSeconds, rssKiB } from "./measure.ts";
import { type LoadGenerator, type Phase, type Server, type ShardServer, socketUrl, type Workerd } from "./processes.ts";
import type { ReactionStormResult } from "./reaction-storm.ts";
import { SHARD_OBJECTS } from "./settings.ts";

/** Sustained = zero loss, no duplicates and p99 at most this (ms). */
export const P99_LIMIT_MS = 100;

export function log(line: string): void {
	process.stderr.write(`${line}\n`);
}

/** The flags that shape the scenarios (read by bench/run.ts). */
export interface ScenarioOptions {
	/** `--quick`: shorter steps, fewer rates, fewer connections, no hibernation. */
	readonly quick: boolean;
	/** `--only=fanout|rooms|slow|storm|reactions|hibernation|shards|heap|webhooks`: just that scenario, and no results file. */
	readonly only: string | undefined;
	/** `--rates=a,b,...`: the rates of the `--only` scenario (fan-out or rooms) instead of its ladder. */
	readonly rates: number[] | undefined;
	/** Seconds of sending per step. */
	readonly stepSeconds: number;
}

/** The servers under test, as the scenarios pick from them. */
export interface Lineup {
	readonly reference: Server;
	/** This tree's edgechat, plain and rich. */
	readonly edgechat: Server[];
	/** The workerd process that serves `edgechat`. */
	readonly workerd: Workerd;
	/** The servers every scenario runs: the reference, edgechat on workerd (and its baseline), the naive room. */
	readonly core: Server[];
	/** `core` and edgechat through `wrangler dev` (unless `--no-wrangler`), for the fan-out. */
	readonly all: Server[];
	/** The shards scenario's two servers (one object, four objects), and its shape. */
	readonly shards: { servers: ShardServer[]; options: ShardOptions };
	/** A workerd with the V8 inspector on, for the isolate's heap (bench/heap.ts); `null` when not run. */
	readonly heap: Workerd | null;
}

export interface Step extends FanoutResult {
	server: string;
	rate: number;
	/** Server CPU-seconds from the first send until every message arrived (or the drain gave up). */
	serverCpuSeconds: number;
	/** The wall time that CPU was read over. */
	measuredSeconds: number;
	sustained: boolean;
	/** Messages sent in this step, with those of a first try that was not sustained and was run again. */
	sentInAll: number;
}

/** Everything a whole run measures, in the order results.json lists it. */
/** What the webhooks scenario measured (bench/webhooks.ts). */
export interface WebhooksMeasured {
	/** The fan-out steps of both servers (labels say which). */
	fanout: Step[];
	/** Messages sent to the webhooks-on server during the fan-out, and `message.created` events received for them. */
	sentWithWebhooks: number;
	received: number;
	latency: {
		rate: number;
		messages: number;
		/** Send to the sender's own copy (ms). */
		echo: { p50: number; p99: number };
		/** Send to the receiver's `message.created` (ms). */
		webhook: { p50: number; p99: number };
		/** Messages whose event never arrived within the drain. */
		missing: number;
	};
}

export interface Measured {
	memory: { server: string; kibPerConnection: number }[];
	fanout: Step[];
	latencyAt40k: { server: string; p50: number | null; p99: number | null }[];
	rooms: Step[];
	crowd: Step[];
	setup: { server: string; connectionsPerSecond: number; kibPerConnection: number }[];
	hibernation?: { first: number; woken: number; evicted: boolean; delivered: number; of: number; ms: number };
	slowConsumer: (StallResult & { server: string; serverGrowthKiB: number })[];
	storm: (StormResult & { server: string })[];
	/** One room on one object against the same room over several (full runs, and `--only=shards`). */
	shards?: ShardComparison;
	/** The isolate's heap per idle rich connection and while a reader stalls (bench/heap.ts). */
	heap?: HeapMeasured;
	/** A reaction storm on this tree's rich edgechat (bench/reaction-storm.ts). */
	reactions?: ReactionStormResult & { server: string };
	/** Webhooks on against off, and their delivery latency (bench/webhooks.ts). */
	webhooks?: WebhooksMeasured;
}

type Shape = { rooms: number; clients: number; senders: number };

/**
 * Server CPU while messages flow (from the first send until all arrived), not while clients
 * connect: `onPhase` hears the load generator's notices, and the fields hold the reading after
 * "drained". The wall window encloses the CPU window (reading /proc takes a few ms), so the CPU
 * read can never exceed one core's worth of the wall time.
 */
function cpuWindow(pid: number): { onPhase(phase: Phase): void; serverCpuSeconds: number; measuredSeconds: number } {
	let before = 0;
	let startedAt = 0;
	const window = {
		serverCpuSeconds: 0,
		measuredSeconds: 0,
		onPhase: (phase: Phase) => {
			if (phase === "sending") {
				startedAt = performance.now();
				before = cpuSeconds(pid);
			} else {
				window.serverCpuSeconds = cpuSeconds(pid) - before;
				window.measuredSeconds = (performance.now() - startedAt) / 1000;
			}
		},
	};
	return window;
}

/** One fan-out step against one server, with the server's CPU use. */
async function step(
	load: LoadGenerator,
	stepSeconds: number,
	server: Server,
	shape: Shape,
	rate: number,
	retried = false,
): Promise<Step> {
	const cpu = cpuWindow(server.pid);
	const result = await load.run<FanoutResult>(
		{
			kind: "fanout",
			url: server.url,
			mode: server.mode,
			rooms: shape.rooms,
			clientsPerRoom: shape.clients,
			sendersPerRoom: shape.senders,
			rate,
			seconds: stepSeconds,
		},
		cpu.onPhase,
	);
	const { serverCpuSeconds, measuredSeconds } = cpu;
	const sustained = result.lost === 0 && result.duplicates === 0 && result.p99 <= P99_LIMIT_MS;
	if (!sustained && !retried) {
		// One pause (a GC in a server or in the load generator) on a shared 2-core machine should
		// not end a server's climb: a step counts as failed only when it fails twice in a row.
		log(
			`  ${server.label.padEnd(26)} ${String(rate).padStart(5)} msg/s -> not sustained (p99 ${result.p99.toFixed(1)} ms, lost ${result.lost}); once more`,
		);
		const again = await step(load, stepSeconds, server, shape, rate, true);
		return { ...again, sentInAll: result.sent + again.sent };
	}
	const flag = result.loadCpu > 0.7 ? " (load generator above 70% of its core)" : "";
	log(
		`  ${server.label.padEnd(26)} ${String(rate).padStart(5)} msg/s -> ${Math.round(result.deliveriesPerSecond).toString().padStart(7)} deliveries/s  p50 ${result.p50.toFixed(1)} ms  p99 ${result.p99.toFixed(1)} ms  lost ${result.lost}  dup ${result.duplicates}  server cpu ${serverCpuSeconds.toFixed(2)} s  ${sustained ? "ok" : "NOT SUSTAINED"}${flag}`,
	);
	return {
		...result,
		server: server.label,
		rate,
		serverCpuSeconds,
		measuredSeconds,
		sustained,
		sentInAll: result.sent,
	};
}

/**
 * Rising rates, servers alternating at each rate; a server drops out after its first step that
 * is not sustained. Returns every step.
 */
export async function rising(
	load: LoadGenerator,
	stepSeconds: number,
	name: string,
	servers: Server[],
	shape: Shape,
	rates: number[],
): Promise<Step[]> {
	log(`\n${name}: ${shape.rooms} room(s) x ${shape.clients} clients, ${shape.senders} sender(s) per room`);
	const steps: Step[] = [];
	const active = new Set(servers);
	for (const rate of rates) {
		for (const server of servers) {
			if (!active.has(server)) continue;
			const s = await step(load, stepSeconds, server, shape, rate);
			steps.push(s);
			if (!s.sustained) active.delete(server);
		}
		if (active.size === 0) break;
	}
	return steps;
}

/**
 * Idle memory, first, on fresh processes: RSS before and after holding `idle` idle connections
 * (plain, then rich on top of them for workerd), all held until measured.
 */
async function idleMemory(load: LoadGenerator, servers: Server[], idle: number): Promise<Measured["memory"]> {
	if (idle > 0) log(`\nidle memory: ${idle} connections`);
	const memory: Measured["memory"] = [];
	for (const server of idle ? servers : []) {
		const before = rssKiB(server.pid);
		await load.run({ kind: "hold", url: server.url, mode: server.mode, connections: idle });
		const kibPerConnection = (rssKiB(server.pid) - before) / idle;
		log(
			`  ${server.label.padEnd(26)} ${kibPerConnection.toFixed(1)} KiB per idle connection (resident, whole process tree)`,
		);
		memory.push({ server: server.label, kibPerConnection });
	}
	await load.run({ kind: "release" });
	return memory;
}

/** Connection setup: `connections` connections, 50 at a time; with the idle memory measured before. */
async function connectionSetup(
	load: LoadGenerator,
	servers: Server[],
	connections: number,
	memory: Measured["memory"],
): Promise<Measured["setup"]> {
	const setup: Measured["setup"] = [];
	if (servers.length > 0) log(`\nconnection setup: ${connections} connections, 50 at a time`);
	for (const server of servers) {
		const { connectionsPerSecond } = await load.run<{ connectionsPerSecond: number }>({
			kind: "connect",
			url: server.url,
			mode: server.mode,
			connections,
			parallel: 50,
		});
		const kibPerConnection = memory.find((m) => m.server === server.label)?.kibPerConnection ?? 0;
		log(`  ${server.label.padEnd(26)} ${Math.round(connectionsPerSecond)} connections/s`);
		setup.push({ server: server.label, connectionsPerSecond, kibPerConnection });
	}
	return setup;
}

/**
 * Hibernation (it has to sit idle): an idle room must leave memory while its sockets stay open.
 * The runtime's own signal: after the idle spell the object is created anew (its constructor
 * runs again, so its instance number changes), and every socket still works.
 */
async function hibernation(load: LoadGenerator, workerd: Workerd): Promise<NonNullable<Measured["hibernation"]>> {
	// Asking a room over RPC keeps it in memory, so ask a fresh probe room instead: the room
	// created right after it is the isolate's next instance.
	const room = `hibernate-${Date.now()}`;
	const first = (await workerd.ask(`probe-${Date.now()}`, "instanceNumber")) + 1;
	log("\nhibernation: 100 rich clients, then 15 s without a frame");
	await load.run({ kind: "hold", url: socketUrl(workerd.port), mode: "rich", connections: 100, room });
	await new Promise((resolve) => setTimeout(resolve, 15_000));
	const wake = await load.run<{ delivered: number; of: number; ms: number }>({ kind: "heldBroadcast" });
	const woken = await workerd.ask(room, "instanceNumber");
	await load.run({ kind: "release" });
	const evicted = woken > first;
	log(
		`  room instance ${first} when created, ${woken} after the idle spell: ${evicted ? "evicted and re-created by the runtime" : "NOT evicted"}; the first message after it reached ${wake.delivered}/${wake.of} clients in ${wake.ms.toFixed(1)} ms`,
	);
	return { first, woken, evicted, ...wake };
}

/**
 * A slow consumer: one plain client of ten stops reading while four others each send 16 KiB
 * binary frames 50 times a second (flood control off), about 90 MiB addressed to it in a full
 * run. Reads how much the server's resident memory grew by the end of the sending, whether the
 * stalled client was cut off, and whether any reading client missed anything.
 */
async function slowConsumer(
	load: LoadGenerator,
	servers: Server[],
	seconds: number,
): Promise<Measured["slowConsumer"]> {
	log(`
slow consumer: 10 plain clients, 1 stops reading, 4 send 16 KiB x 50/s for ${seconds} s`);
	const results: Measured["slowConsumer"] = [];
	for (const server of servers) {
		// The peak while the frames flow, sampled twice a second, against the memory before them.
		const before = rssKiB(server.pid);
		let peak = before;
		let sampler: ReturnType<typeof setInterval> | undefined;
		const result = await load.run<StallResult>(
			{ kind: "stall", url: server.url, clients: 10, senders: 4, frameBytes: 16_384, perSecond: 50, seconds },
			(phase) => {
				if (phase === "sending") {
					sampler = setInterval(() => {
						peak = Math.max(peak, rssKiB(server.pid));
					}, 500);
				} else {
					clearInterval(sampler);
					peak = Math.max(peak, rssKiB(server.pid));
				}
			},
		);
		const growth = peak - before;
		log(
			`  ${server.label.padEnd(26)} ${(result.addressedBytes / 2 ** 20).toFixed(0)} MiB addressed to it; server memory at most +${(growth / 1024).toFixed(1)} MiB; stalled client ${result.stalledClose === null ? "never closed" : `closed with ${result.stalledClose}`} after ${result.stalledReceived} frames; readers short by ${result.worstReaderShortBy}`,
		);
		results.push({ ...result, server: server.label, serverGrowthKiB: growth });
	}
	return results;
}

/**
 * A reaction storm: `members` rich clients in one room each react to one message at a random
 * moment within a second. Reads frames and bytes per member and that every member ends with
 * every reaction counted.
 */
async function reactionStormScenario(
	load: LoadGenerator,
	server: Server,
	members: number,
): Promise<NonNullable<Measured["reactions"]>> {
	log(`\nreaction storm: ${members} rich clients each react to one message within 1 s`);
	const result = await load.run<ReactionStormResult>({ kind: "reactionStorm", url: server.url, members, seconds: 1 });
	log(
		`  ${server.label.padEnd(26)} ${result.framesPerMember.mean.toFixed(1)} frames (max ${result.framesPerMember.max}) and ${Math.round(result.bytesPerMember.mean)} bytes per member, ${result.reactionEventsPerMember.mean.toFixed(1)} reactions events per member, ${result.logEntries} log entries; all counted in ${(result.allCountedMs / 1000).toFixed(2)} s; lost ${result.lost}`,
	);
	return { ...result, server: server.label };
}

/**
 * A reconnect storm, as after a deploy: `clients` rich clients mid-conversation all dropped at
 * once and all back at once, each resuming from the last message it saw, while the conversation
 * goes on (10 messages a second). Every client must end with every message exactly once.
 */
async function reconnectStorm(load: LoadGenerator, servers: Server[], clients: number): Promise<Measured["storm"]> {
	log(`\nreconnect storm: ${clients} rich clients dropped and back at once, resuming`);
	const results: Measured["storm"] = [];
	for (const server of servers) {
		const result = await load.run<StormResult>({
			kind: "storm",
			url: server.url,
			clients,
			messagesBefore: 20,
			ratePerSecond: 10,
		});
		log(
			`  ${server.label.padEnd(26)} all ${clients} back in ${(result.reconnectMs / 1000).toFixed(1)} s (${Math.round((clients * 1000) / result.reconnectMs)}/s), caught up in ${(result.catchUpMs / 1000).toFixed(1)} s; ${result.messages} messages, lost ${result.lost}, duplicated ${result.duplicated}`,
		);
		results.push({ ...result, server: server.label });
	}
	return results;
}

/**
 * The shape of the shards scenario: `members` connections (the full run's 8,000 is what one
 * workerd process can hold here: bench/README.md), rates the one-object room sustains.
 */
export function shardOptions(quick: boolean, members: number, rates: number[] | undefined): ShardOptions {
	return quick
		? { members, rates: rates ?? [5], stepSeconds: 1.5, rounds: 1 }
		: { members, rates: rates ?? [0.5, 1, 2], stepSeconds: 10, rounds: 2 };
}

/** The shape of the shards scenario. */
export interface ShardOptions {
	/** Connections in the room, senders included. */
	readonly members: number;
	/** Messages per second, all senders together, one step each per server per round. */
	readonly rates: number[];
	readonly stepSeconds: number;
	/** How many times each server opens its room and runs every rate (A B A B ...). */
	readonly rounds: number;
}

/** One sending step of the shards scenario. */
export interface ShardStep extends FanoutResult {
	server: string;
	objects: number;
	round: number;
	rate: number;
	serverCpuSeconds: number;
	measuredSeconds: number;
	/** Calls the room's object received from shards and made to them during the step (null: it was re-created meanwhile). */
	calls: { submitted: number; pushed: number } | null;
}

/** Opening the room of one round. */
export interface ShardSetup {
	server: string;
	objects: number;
	round: number;
	setupSeconds: number;
	connectionsPerSecond: number;
	/** Resident growth of the server's process tree over the opening, per connection (round 1: a fresh process). */
	kibPerConnection: number;
	/** Connections per object once open, the room's own first (from the room's `stats()`). */
	parts: number[];
	/** Seconds from closing every client until the room counted none (all departures seen, shards' too). */
	emptiedSeconds: number;
}

export interface ShardComparison {
	members: number;
	senders: number;
	stepSeconds: number;
	setup: ShardSetup[];
	steps: ShardStep[];
}

/** Resolves once `check()` holds (polling every 250 ms), or throws after `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
	const started = performance.now();
	while (!(await check())) {
		if (performance.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
}

/** One step in the held room: the senders send at `rate` for `stepSeconds`; CPU, latency and the room's calls. */
async function shardStep(
	load: LoadGenerator,
	server: ShardServer,
	room: string,
	round: number,
	rate: number,
	stepSeconds: number,
): Promise<ShardStep> {
	const { workerd, pid } = server;
	// Asking wakes the room's object before the CPU window opens, should it have been evicted.
	const instance = await workerd.ask(room, "instanceNumber");
	const before = await workerd.ask(room, "shardCalls");
	const cpu = cpuWindow(pid);
	const result = await load.run<FanoutResult>({ kind: "crowdSend", room, rate, seconds: stepSeconds }, cpu.onPhase);
	const after = await workerd.ask(room, "shardCalls");
	const calls =
		(await workerd.ask(room, "instanceNumber")) === instance
			? { submitted: after.submitted - before.submitted, pushed: after.pushed - before.pushed }
			: null;
	const { serverCpuSeconds, measuredSeconds } = cpu;
	const perDelivery = (serverCpuSeconds / Math.max(1, result.delivered)) * 1e6;
	const callText = calls
		? `room calls/s ${(calls.submitted / stepSeconds).toFixed(1)} in, ${(calls.pushed / stepSeconds).toFixed(1)} out`
		: "room re-created";
	const flag = result.loadCpu > 0.7 ? " (load generator above 70% of its core)" : "";
	log(
		`  ${server.label.padEnd(26)} ${String(rate).padStart(3)} msg/s -> ${Math.round(result.deliveriesPerSecond).toString().padStart(6)} deliveries/s  p50 ${result.p50.toFixed(1)} ms  p99 ${result.p99.toFixed(1)} ms  lost ${result.lost}  dup ${result.duplicates}  server cpu ${serverCpuSeconds.toFixed(2)} s (${perDelivery.toFixed(2)} s per million)  ${callText}${flag}`,
	);
	return {
		...result,
		server: server.label,
		objects: server.objects,
		round,
		rate,
		serverCpuSeconds,
		measuredSeconds,
		calls,
	};
}

/**
 * One room of `members` plain clients on one object against the same room over several (the
 * room's own object and shards), on two workerd processes that differ only in `SHARD_SIZE`.
 * Round by round, each server in turn (A B A B ...) opens its room 50 connections at a time
 * (the first of every members/4 a sender, so the sharded room has one sender in each object),
 * runs every rate, and closes it. All objects of a process share its one thread, so compare
 * CPU per delivery, not speed.
 */
export async function shardComparison(
	load: LoadGenerator,
	servers: readonly ShardServer[],
	options: ShardOptions,
): Promise<ShardComparison> {
	const { members, rates, stepSeconds, rounds } = options;
	const senderEvery = members / SHARD_OBJECTS;
	log(
		`\nshards: one room of ${members} plain clients (${SHARD_OBJECTS} of them sending, one per ${senderEvery} connections), ${servers.map((s) => s.label).join(" against ")}`,
	);
	const setup: ShardSetup[] = [];
	const steps: ShardStep[] = [];
	for (let round = 1; round <= rounds; round++) {
		for (const server of servers) {
			const { workerd, pid } = server;
			const room = `shards-${server.objects}-${round}-${Date.now()}`;
			const rss = rssKiB(pid);
			const opened = await load.run<{ setupSeconds: number; connectionsPerSecond: number }>({
				kind: "crowdOpen",
				url: socketUrl(workerd.port),
				room,
				members,
				senderEvery,
				parallel: 50,
			});
			const kibPerConnection = (rssKiB(pid) - rss) / members;
			const parts = (await workerd.ask(room, "stats")).shards.map((part) => part.connections);
			log(
				`  ${server.label.padEnd(26)} round ${round}: ${members} connections in ${opened.setupSeconds.toFixed(1)} s (${Math.round(opened.connectionsPerSecond)}/s), +${kibPerConnection.toFixed(1)} KiB resident per connection; per object ${parts.join(" / ")}`,
			);
			for (const rate of rates) steps.push(await shardStep(load, server, room, round, rate, stepSeconds));
			const closedAt = performance.now();
			await load.run({ kind: "crowdClose", room });
			await until(async () => (await workerd.ask(room, "stats")).connections === 0, 120_000, `${room} to empty`);
			const emptiedSeconds = (performance.now() - closedAt) / 1000;
			setup.push({
				server: server.label,
				objects: server.objects,
				round,
				...opened,
				kibPerConnection,
				parts,
				emptiedSeconds,
			});
		}
	}
	return { members, senders: SHARD_OBJECTS, stepSeconds, setup, steps };
}

/**
 * Runs the scenarios in order. Returns what they measured, or nothing for an `--only` run
 * (which ends once its scenario is done).
 */
export async function runScenarios(
	load: LoadGenerator,
	options: ScenarioOptions,
	lineup: Lineup,
): Promise<Measured | undefined> {
	const { quick, only, rates, stepSeconds } = options;
	const { reference, edgechat, workerd, core, all } = lineup;

	// 0. Idle memory, first, on fresh processes; then the isolate's heap, on a workerd of its own.
	const memory = await idleMemory(load, core, only ? 0 : quick ? 300 : 1000);
	const heap =
		lineup.heap && (!only || only === "heap")
			? await heapScenario(load, lineup.heap, quick ? 300 : 1000, quick ? 5 : 30, log)
			: undefined;
	if (only === "heap") return undefined;

	// 1. One room, 200 clients, 10 senders, rising rates.
	const fanoutRates =
		(only === "fanout" ? rates : undefined) ??
		(quick ? [100, 300] : [50, 100, 200, 300, 400, 500, 600, 700, 800, 1000, 1200]);
	const fanout =
		only && only !== "fanout"
			? []
			: await rising(load, stepSeconds, "fan-out", all, { rooms: 1, clients: 200, senders: 10 }, fanoutRates);
	if (only === "fanout") return undefined;

	// 2. Latency at 40,000 deliveries/s (200 messages/s to 200 clients), from the same steps.
	const latencyAt40k = all.map((s) => {
		const at = fanout.find((x) => x.server === s.label && x.rate === 200) ?? null;
		return { server: s.label, p50: at?.p50 ?? null, p99: at?.p99 ?? null };
	});

	// 3. 50 rooms of 20 clients, 2 senders each.
	const roomRates = rates && only === "rooms" ? rates : quick ? [500] : [250, 500, 1000, 1500, 2000, 3000, 4000];
	const rooms =
		only && only !== "rooms"
			? []
			: await rising(load, stepSeconds, "many rooms", core, { rooms: 50, clients: 20, senders: 2 }, roomRates);
	if (only === "rooms") return undefined;

	// 4. One room of 2,000 mostly idle clients, one sender.
	const idleRates = quick ? [2] : [5, 10, 20];
	const crowd = only
		? []
		: await rising(
				load,
				stepSeconds,
				"crowd",
				[reference, ...edgechat],
				{ rooms: 1, clients: quick ? 500 : 2000, senders: 1 },
				idleRates,
			);

	// 5. Connection setup.
	const setup = await connectionSetup(load, only ? [] : core, quick ? 300 : 1000, memory);

	// 6. A slow consumer, on the servers that speak plain mode to it.
	const stalled =
		!only || only === "slow"
			? await slowConsumer(
					load,
					core.filter((server) => server.mode === "plain"),
					quick ? 5 : 30,
				)
			: [];
	if (only === "slow") return undefined;

	// 7. A reconnect storm, on every rich edgechat.
	const storms =
		!only || only === "storm"
			? await reconnectStorm(
					load,
					core.filter((server) => server.mode === "rich"),
					quick ? 200 : 1000,
				)
			: [];
	if (only === "storm") return undefined;

	// 7b. A reaction storm, on this tree's rich edgechat (reactions are new: no baseline has them).
	const rich = edgechat.find((server) => server.mode === "rich");
	const reactions =
		rich && (!only || only === "reactions") ? await reactionStormScenario(load, rich, quick ? 200 : 1_000) : undefined;
	if (only === "reactions") return undefined;

	// 8. Hibernation, full runs only.
	const hibernated = !quick && (!only || only === "hibernation") ? await hibernation(load, workerd) : undefined;
	if (only) return undefined;

	// 9. One big room on one object against the same room over four.
	const shards = await shardComparison(load, lineup.shards.servers, lineup.shards.options);

	return {
		memory,
		fanout,
		latencyAt40k,
		rooms,
		crowd,
		setup,
		slowConsumer: stalled,
		storm: storms,
		...(hibernated ? { hibernation: hibernated } : {}),
		shards,
		...(heap ? { heap } : {}),
		...(reactions ? { reactions } : {}),
	};
}
