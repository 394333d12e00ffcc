/**
 * The room simulation (`npm run bench -- --only=simulate [--sizes=100000,1000000]`, run on the
 * server core; `--json` prints the figures instead of the table; `EDGECHAT_SIM_SECONDS=N` shortens
 * each scenario's window, for trying it out): the real
 * room object, in workerd, at sizes this machine cannot hold sockets for. Its shards are
 * stand-ins (bench/simulate/stand-in.ts), each standing for `SHARD_SIZE` members without
 * sockets, that talk to the room exactly as shards do. For each size it runs three scenarios:
 *
 * - steady: 10 messages a second from random members;
 * - churn: 1% of the members leave and come back each minute, with the 10 messages a second;
 * - deploy: the room's object and every shard are reset at once (as a deploy does) and every
 *   member comes back within 30 s, jittered, resuming, with the 10 messages a second.
 *
 * Reported per scenario: the room object's CPU seconds per second of wall time (from a CPU
 * profile of the isolate, each sample charged to the room or to the stand-ins by the outermost
 * frame of its stack, see `charge`), its calls in (shards' batches) and out (pushes) per second,
 * bytes in and out per second, the isolate's peak heap; and what the members saw: one welcome
 * per hello, the room's count in every welcome and presence event, every message id once.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { freePort, startMiniflare } from "../scripts/local-server.ts";
import { shardObjectName } from "../src/wire/placement.ts";
import { Inspector } from "./inspector.ts";
import { simulateTable } from "./report.ts";
import type { Scenario, SimulatedScenario, StandInReport } from "./simulate/scenario.ts";

/** Members per shard: the shipped `SHARD_SIZE`. */
const SHARD_SIZE = 10_000;
const ROOM = "sim";
/** The window every scenario runs for, and the deploy's window to come back in. */
const SCENARIO_SECONDS = Number(process.env.EDGECHAT_SIM_SECONDS ?? 30);
/** How long after its window a deploy may take to welcome everyone before the run gives up. */
const DEPLOY_GRACE_MS = 90_000;
/** The profiler's sampling interval (µs). */
const SAMPLE_US = 1_000;

/** The room object's methods the simulation calls over RPC. */
interface SimRoom {
	post(post: {
		room: string;
		name: string;
		text: string;
		clientId: string | null;
		replyTo: number | null;
	}): Promise<unknown>;
	stats(): Promise<{ members: number; connections: number }>;
	shardCalls(): Promise<{ pushed: number }>;
	reset(): Promise<void>;
	instanceNumber(): Promise<number>;
}

/** A stand-in's methods, over RPC. */
interface StandInStub {
	setUp(room: string, shard: number, members: number): Promise<void>;
	run(scenario: Scenario): Promise<void>;
	report(): Promise<StandInReport>;
}

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	children?: number[];
}

/** Runs the three scenarios for each size. */
export async function simulate(sizes: readonly number[]): Promise<SimulatedScenario[]> {
	const results: SimulatedScenario[] = [];
	for (const members of sizes) results.push(...(await simulateSize(members)));
	return results;
}

async function simulateSize(members: number): Promise<SimulatedScenario[]> {
	const shards = Math.ceil(members / SHARD_SIZE);
	const inspectorPort = await freePort();
	const server = await startMiniflare({
		main: "bench/simulate/sim-worker.ts",
		inspectorPort,
		vars: { SHARD_SIZE: String(SHARD_SIZE), MAX_CONNECTIONS: String(members * 2) },
	});
	const owners = sourcesOf(server.script);
	const inspector = await Inspector.open(inspectorPort);
	try {
		const rooms = await server.miniflare.getDurableObjectNamespace("ROOMS");
		const room = () => rooms.get(rooms.idFromName(ROOM)) as unknown as SimRoom;
		const shardObjects = await server.miniflare.getDurableObjectNamespace("SHARDS");
		const standIns = Array.from(
			{ length: shards },
			(_, k) => shardObjects.get(shardObjects.idFromName(shardObjectName(ROOM, k + 1))) as unknown as StandInStub,
		);
		// The room learns its name from an API call, as from the Worker's first upgrade.
		await room().post({ room: ROOM, name: "operator", text: "simulation starts", clientId: null, replyTo: null });
		await Promise.all(standIns.map((standIn, k) => standIn.setUp(ROOM, k + 1, SHARD_SIZE)));
		await until(async () => (await room().stats()).members === shards * SHARD_SIZE, 60_000);
		await inspector.call("Profiler.enable");
		await inspector.call("Profiler.setSamplingInterval", { interval: SAMPLE_US });
		const perShard = (total: number) => total / shards;
		const churn = (members * 0.01) / 60;
		const base = { seconds: SCENARIO_SECONDS, messagesPerSecond: perShard(10) };
		const scenarios: [string, Scenario][] = [
			["steady", { ...base, churnPerSecond: 0, rejoinWithinMs: null }],
			["churn", { ...base, churnPerSecond: perShard(churn), rejoinWithinMs: null }],
			["deploy", { ...base, churnPerSecond: 0, rejoinWithinMs: SCENARIO_SECONDS * 1_000 }],
		];
		const results: SimulatedScenario[] = [];
		for (const [name, scenario] of scenarios) {
			const deploy = scenario.rejoinWithinMs !== null;
			if (deploy)
				await room()
					.reset()
					.catch(() => {});
			const before = deploy ? { pushed: 0 } : await room().shardCalls();
			const firstInstance = await room().instanceNumber();
			await inspector.call("Profiler.start");
			let peakHeap = 0;
			let lowestHeap = Number.POSITIVE_INFINITY;
			let sampling = true;
			const sampled = (async () => {
				while (sampling) {
					const used = await heapUsed(inspector);
					peakHeap = Math.max(peakHeap, used);
					lowestHeap = Math.min(lowestHeap, used);
					await new Promise((resolve) => setTimeout(resolve, 250));
				}
			})();
			const started = performance.now();
			await Promise.all(standIns.map((standIn) => standIn.run(scenario)));
			await new Promise((resolve) => setTimeout(resolve, SCENARIO_SECONDS * 1_000));
			// Members on their way back (churn's come back within 3 s, a deploy's within its window) arrive.
			await until(
				async () =>
					(await Promise.all(standIns.map((s) => s.report()))).every((r) => r.waiting === 0 && r.pending === 0),
				DEPLOY_GRACE_MS,
			).catch(() => {});
			// The last joins and leaves reach members in the next presence event, within a second.
			const { members: present } = await room().stats();
			const moved = deploy || scenario.churnPerSecond > 0;
			if (moved)
				await until(
					async () => (await Promise.all(standIns.map((s) => s.report()))).every((r) => r.presenceCount === present),
					5_000,
				).catch(() => {});
			const wallSeconds = (performance.now() - started) / 1_000;
			const { profile } = await inspector.call<{
				profile: { nodes: ProfileNode[]; samples: number[] };
			}>("Profiler.stop");
			sampling = false;
			await sampled;
			const after = await room().shardCalls();
			// A room object reset during the scenario (by the runtime) starts its counters again.
			const restarts = (await room().instanceNumber()) - firstInstance;
			const reports = await Promise.all(standIns.map((standIn) => standIn.report()));
			const stats = await room().stats();
			const cpu = charge(profile, owners);
			const sum = (pick: (r: StandInReport) => number) => reports.reduce((total, r) => total + pick(r), 0);
			const perSecond = (value: number) => value / wallSeconds;
			const seconds = (samples: number) => (samples * SAMPLE_US) / 1e6 / wallSeconds;
			const presence = reports.map((r) => r.presenceCount ?? -1);
			results.push({
				members,
				shards,
				scenario: name,
				wallSeconds,
				roomCpu: seconds(cpu.room),
				unchargedCpu: seconds(cpu.uncharged),
				standInCpu: seconds(cpu.standIns),
				callsIn: perSecond(sum((r) => r.batches)),
				restarts,
				callsOut: perSecond(after.pushed - before.pushed),
				bytesIn: perSecond(sum((r) => r.batchBytes)),
				bytesOut: perSecond(sum((r) => r.pushBytes)),
				peakHeapMiB: peakHeap / 2 ** 20,
				lowestHeapMiB: lowestHeap / 2 ** 20,
				allBackMs: deploy
					? reports.every((r) => r.waiting === 0)
						? Math.max(...reports.map((r) => r.allWelcomedMs ?? 0))
						: null
					: null,
				hellos: sum((r) => r.hellos),
				welcomes: sum((r) => r.welcomes),
				strayWelcomes: sum((r) => r.strayWelcomes),
				waiting: sum((r) => r.waiting),
				welcomeCounts: [
					Math.min(...reports.map((r) => r.welcomeCountMin)),
					Math.max(...reports.map((r) => r.welcomeCountMax)),
				],
				presenceCounts: [Math.min(...presence), Math.max(...presence)],
				roomMembers: stats.members,
				joinLeaveEvents: sum((r) => r.joinLeaveEvents),
				errors: sum((r) => r.errors),
				disorderedIds: sum((r) => r.disorderedIds),
			});
		}
		return results;
	} finally {
		inspector.close();
		await server.stop();
	}
}

/**
 * Which source file each line of the bundle came from: esbuild heads each module's code with a
 * `// path` comment.
 */
function sourcesOf(script: string): { line: number; file: string }[] {
	const starts: { line: number; file: string }[] = [];
	readFileSync(script, "utf8")
		.split("\n")
		.forEach((text, line) => {
			const match = /^\/\/ ((?:src|bench|node_modules)\/\S+)$/.exec(text);
			if (match?.[1]) starts.push({ line, file: match[1] });
		});
	return starts;
}

/**
 * Charges each sample of a CPU profile: to the stand-ins when the outermost JavaScript frame of
 * its stack is theirs (what they run, and the serialising of the calls they make), to the room
 * otherwise (the room's own calls, timers and the pushes it serialises); samples with no
 * JavaScript frame (the garbage collector, the runtime between calls) are uncharged.
 */
function charge(
	profile: { nodes: ProfileNode[]; samples: number[] },
	owners: { line: number; file: string }[],
): { room: number; standIns: number; uncharged: number } {
	const parent = new Map<number, number>();
	const byId = new Map<number, ProfileNode>();
	for (const node of profile.nodes) {
		byId.set(node.id, node);
		for (const child of node.children ?? []) parent.set(child, node.id);
	}
	const fileOf = (line: number) => {
		let file = "";
		for (const start of owners) {
			if (start.line > line) break;
			file = start.file;
		}
		return file;
	};
	const ownerOf = new Map<number, "room" | "standIns" | "uncharged" | "idle">();
	const classify = (id: number): "room" | "standIns" | "uncharged" | "idle" => {
		const known = ownerOf.get(id);
		if (known) return known;
		let outermost: ProfileNode | undefined;
		for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
			const node = byId.get(at);
			if (node?.callFrame.url.endsWith(".js")) outermost = node;
		}
		const leaf = byId.get(id)?.callFrame.functionName ?? "";
		const owner = outermost
			? fileOf(outermost.callFrame.lineNumber).startsWith("bench/simulate/")
				? "standIns"
				: "room"
			: leaf === "(idle)"
				? "idle"
				: "uncharged";
		ownerOf.set(id, owner);
		return owner;
	};
	const counts = { room: 0, standIns: 0, uncharged: 0, idle: 0 };
	for (const sample of profile.samples) counts[classify(sample)]++;
	return counts;
}

/** The isolate's heap now, in bytes: V8's own and the embedder's (the runtime's objects). */
async function heapUsed(inspector: Inspector): Promise<number> {
	const usage = await inspector.call<{ usedSize: number; embedderHeapUsedSize?: number }>("Runtime.getHeapUsage");
	return usage.usedSize + (usage.embedderHeapUsedSize ?? 0);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
	const deadline = performance.now() + timeoutMs;
	while (!(await check())) {
		if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const sizes = process.argv
		.find((a) => a.startsWith("--sizes="))
		?.slice(8)
		.split(",")
		.map(Number) ?? [100_000];
	const results = await simulate(sizes);
	if (process.argv.includes("--json")) console.log(JSON.stringify(results, null, 1));
	else console.log(simulateTable(results, SCENARIO_SECONDS));
}
