/**
 * `npm run bench [-- --quick]`: edgechat against the tutorial's server on Node `ws`, in one run
 * on this machine, as ratios. Servers run pinned to core 0, the load generator to core 1
 * (`taskset`), and every scenario alternates the servers step by step (A B C A B C ...) so that
 * drift on the shared machine hits all of them alike.
 *
 * Writes bench/results.json and bench/results.svg, and prints a table. It is a benchmark, not a
 * test: `npm test` only checks that `--quick` runs and reports.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, ROOT, startWranglerDev } from "../scripts/local-server.ts";
import type { FanoutResult, Job, Mode } from "./load.ts";
import { BENCH_VARS } from "./settings.ts";

const QUICK = process.argv.includes("--quick");
const WITH_WRANGLER = !process.argv.includes("--no-wrangler");
const OUT = process.argv.find((a) => a.startsWith("--out="))?.slice(6) ?? path.join(ROOT, "bench");
/** `--rates=100,300`: fan-out rates to try instead of the defaults (for profiling one change). */
const RATES = process.argv
	.find((a) => a.startsWith("--rates="))
	?.slice(8)
	.split(",")
	.map(Number);
/** `--only=fanout`, `--only=rooms` or `--only=hibernation`: run just that scenario and write no results (for profiling one change). */
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
/**
 * `--tmpfs`: edgechat's temporary Durable Object storage (miniflare's, under TMPDIR) in
 * /dev/shm, so commits cost no disk flush. A diagnostic: it shows what the room costs when
 * storage is not the local disk (bench/README.md), not what `wrangler dev` users get.
 */
const TMPFS = process.argv.includes("--tmpfs");
/**
 * `--baseline=REV`: also serve edgechat as it was at git revision REV (checked out in a
 * temporary worktree), plain and rich, alternating with this tree's at every step: an A/B of
 * one change on the same machine in the same run.
 */
const BASELINE = process.argv.find((a) => a.startsWith("--baseline="))?.slice(11);
const SERVER_CORE = "0";
const LOAD_CORE = "1";
const STEP_SECONDS = QUICK ? 1.5 : 4;
/** Sustained = zero loss, no duplicates and p99 at most this (ms). */
const P99_LIMIT_MS = 100;

/** Thrown to end a partial (`--fanout-only`) run early. */
class Done extends Error {}

function log(line: string): void {
	process.stderr.write(`${line}\n`);
}

// -- processes -----------------------------------------------------------------------------------

/** A server under test: where to connect and which processes to measure. */
interface Server {
	readonly label: string;
	readonly mode: Mode;
	readonly url: string;
	readonly pid: number;
	stop(): Promise<void>;
}

/** Starts `command` pinned to `core`, with an IPC channel, and waits for its `{ ready }` message. */
function startPinned(
	core: string,
	command: string,
	args: string[],
	env: Record<string, string> = {},
	cwd = ROOT,
): Promise<{ child: ChildProcess; ready: number }> {
	const child = spawn("taskset", ["-c", core, command, ...args], {
		cwd,
		stdio: ["ignore", "ignore", "inherit", "ipc"],
		env: { ...process.env, WRANGLER_SEND_METRICS: "false", ...env },
	});
	return new Promise((resolve, reject) => {
		child.once("message", (message: { ready: number }) => resolve({ child, ready: message.ready }));
		child.once("exit", (code) => reject(new Error(`${command} ${args.join(" ")} exited with ${code}`)));
	});
}

function stopChild(child: ChildProcess): Promise<void> {
	return new Promise((resolve) => {
		if (child.exitCode !== null) return resolve();
		child.once("exit", () => resolve());
		child.kill("SIGTERM");
	});
}

const socketUrl = (port: number) => `ws://127.0.0.1:${port}/api/rooms/ROOM/websocket`;

async function startReference(): Promise<Server> {
	const port = await freePort();
	const { child } = await startPinned(SERVER_CORE, process.execPath, ["bench/reference-server.mjs", String(port)]);
	return {
		label: "node-ws (reference)",
		mode: "plain",
		url: socketUrl(port),
		pid: child.pid ?? 0,
		stop: () => stopChild(child),
	};
}

/** edgechat from workerd (miniflare API), from this tree or from another checkout at `root`. */
async function startWorkerd(root = ROOT): Promise<{ child: ChildProcess; port: number }> {
	const env: Record<string, string> = TMPFS ? { TMPDIR: "/dev/shm" } : {};
	const { child, ready } = await startPinned(SERVER_CORE, process.execPath, ["bench/serve-edgechat.ts"], env, root);
	return { child, port: ready };
}

/** Plain and rich edgechat servers on one workerd process, labelled with `version`. */
function edgechatServers(workerd: { child: ChildProcess; port: number }, version: string): Server[] {
	return (["plain", "rich"] as const).map((mode, i) => ({
		label: `edgechat ${mode} (${version})`,
		mode,
		url: socketUrl(workerd.port),
		pid: workerd.child.pid ?? 0,
		// One process serves both: the first stops it.
		stop: i === 0 ? () => stopChild(workerd.child) : async () => {},
	}));
}

/** Checks out `rev` in a temporary git worktree (sharing this tree's node_modules) and serves it. */
async function startBaseline(rev: string): Promise<Server[]> {
	const dir = path.join(tmpdir(), `edgechat-baseline-${process.pid}`);
	execFileSync("git", ["worktree", "add", "--detach", dir, rev], { cwd: ROOT, stdio: "ignore" });
	symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
	const workerd = await startWorkerd(dir);
	const [plain, rich] = edgechatServers(workerd, `workerd @ ${rev}`) as [Server, Server];
	const stop = async () => {
		await stopChild(workerd.child);
		execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: ROOT, stdio: "ignore" });
	};
	return [{ ...plain, stop }, rich];
}

/** The naive room (bench/naive-room-worker.js): the obvious hibernatable relay, nothing stored. */
async function startNaiveRoom(): Promise<Server> {
	const { child, ready } = await startPinned(SERVER_CORE, process.execPath, ["bench/serve-naive-room.ts"]);
	return {
		label: "naive room (workerd)",
		mode: "plain",
		url: socketUrl(ready),
		pid: child.pid ?? 0,
		stop: () => stopChild(child),
	};
}

/** All descendants of `pid`, itself included. */
function processTree(pid: number): number[] {
	const all = [pid];
	for (let i = 0; i < all.length; i++) {
		try {
			const children = execFileSync("pgrep", ["-P", String(all[i])], { encoding: "utf8" }).trim();
			if (children) all.push(...children.split("\n").map(Number));
		} catch {
			// pgrep exits 1 when there are none.
		}
	}
	return all;
}

/** CPU seconds (user + system) used so far by a process tree. */
function cpuSeconds(pid: number): number {
	let ticks = 0;
	for (const p of processTree(pid)) {
		try {
			const fields = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
			ticks += Number(fields[11]) + Number(fields[12]);
		} catch {
			// The process ended.
		}
	}
	return ticks / 100;
}

/** Resident memory of a process tree, in KiB. */
function rssKiB(pid: number): number {
	let kib = 0;
	for (const p of processTree(pid)) {
		try {
			kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
		} catch {
			// The process ended.
		}
	}
	return kib;
}

// -- load generator ------------------------------------------------------------------------------

const load = spawn("taskset", ["-c", LOAD_CORE, process.execPath, "bench/load.ts"], {
	cwd: ROOT,
	stdio: ["ignore", "inherit", "inherit", "ipc"],
});
await new Promise((resolve) => load.once("message", resolve));

/** What the load generator says while a fan-out job runs: it started sending, or it got everything. */
type Phase = "sending" | "drained";

/** Runs one job on the load generator; `onPhase` hears its progress notices. */
function run<T>(job: Job, onPhase: (phase: Phase) => void = () => {}): Promise<T> {
	return new Promise((resolve, reject) => {
		const onMessage = (message: { phase?: Phase; ok?: boolean; result?: T; error?: string }) => {
			if (message.phase) {
				onPhase(message.phase);
				return;
			}
			load.off("message", onMessage);
			if (message.ok) resolve(message.result as T);
			else reject(new Error(message.error));
		};
		load.on("message", onMessage);
		load.send(job);
	});
}

// -- scenarios -----------------------------------------------------------------------------------

interface Step extends FanoutResult {
	server: string;
	rate: number;
	/** Server CPU-seconds from the first send until every message arrived (or the drain gave up). */
	serverCpuSeconds: number;
	/** The wall time that CPU was read over. */
	measuredSeconds: number;
	sustained: boolean;
}

const results: Record<string, unknown> = {
	quick: QUICK,
	tmpfs: TMPFS,
	date: new Date().toISOString(),
	stepSeconds: STEP_SECONDS,
};

/** One fan-out step against one server, with the server's CPU use. */
async function step(
	server: Server,
	shape: { rooms: number; clients: number; senders: number },
	rate: number,
	retried = false,
): Promise<Step> {
	// Server CPU while messages flow (from the first send until all arrived), not while clients connect.
	let before = 0;
	let startedAt = 0;
	let serverCpuSeconds = 0;
	let measuredSeconds = 0;
	const onPhase = (phase: Phase) => {
		// The wall window encloses the CPU window (reading /proc takes a few ms), so the CPU read
		// can never exceed one core's worth of the wall time.
		if (phase === "sending") {
			startedAt = performance.now();
			before = cpuSeconds(server.pid);
		} else {
			serverCpuSeconds = cpuSeconds(server.pid) - before;
			measuredSeconds = (performance.now() - startedAt) / 1000;
		}
	};
	const result = await run<FanoutResult>(
		{
			kind: "fanout",
			url: server.url,
			mode: server.mode,
			rooms: shape.rooms,
			clientsPerRoom: shape.clients,
			sendersPerRoom: shape.senders,
			rate,
			seconds: STEP_SECONDS,
		},
		onPhase,
	);
	const sustained = result.lost === 0 && result.duplicates === 0 && result.p99 <= P99_LIMIT_MS;
	if (!sustained && !retried) {
		// One pause (a GC in a server or in the load generator) on a shared 2-core machine should
		// not end a server's climb: a step counts as failed only when it fails twice in a row.
		log(
			`  ${server.label.padEnd(26)} ${String(rate).padStart(5)} msg/s -> not sustained (p99 ${result.p99.toFixed(1)} ms, lost ${result.lost}); once more`,
		);
		return step(server, shape, rate, true);
	}
	const flag = result.loadCpu > 0.7 ? " (load generator above 70% of its core)" : "";
	log(
		`  ${server.label.padEnd(26)} ${String(rate).padStart(5)} msg/s -> ${Math.round(result.deliveriesPerSecond).toString().padStart(7)} deliveries/s  p50 ${result.p50.toFixed(1)} ms  p99 ${result.p99.toFixed(1)} ms  lost ${result.lost}  dup ${result.duplicates}  server cpu ${serverCpuSeconds.toFixed(2)} s  ${sustained ? "ok" : "NOT SUSTAINED"}${flag}`,
	);
	return { ...result, server: server.label, rate, serverCpuSeconds, measuredSeconds, sustained };
}

/**
 * Rising rates, servers alternating at each rate; a server drops out after its first step that
 * is not sustained. Returns every step.
 */
async function rising(
	name: string,
	servers: Server[],
	shape: { rooms: number; clients: number; senders: number },
	rates: number[],
) {
	log(`\n${name}: ${shape.rooms} room(s) x ${shape.clients} clients, ${shape.senders} sender(s) per room`);
	const steps: Step[] = [];
	const active = new Set(servers);
	for (const rate of rates) {
		for (const server of servers) {
			if (!active.has(server)) continue;
			const s = await step(server, shape, rate);
			steps.push(s);
			if (!s.sustained) active.delete(server);
		}
		if (active.size === 0) break;
	}
	return steps;
}

function bestSustained(steps: Step[], server: string): number {
	return Math.max(0, ...steps.filter((s) => s.server === server && s.sustained).map((s) => s.deliveriesPerSecond));
}

const reference = await startReference();
const workerd = await startWorkerd();
const edgechat = edgechatServers(workerd, "workerd");
const baseline = BASELINE ? await startBaseline(BASELINE) : [];
const naive = await startNaiveRoom();
/** The servers every scenario runs: the reference, edgechat on workerd (and its baseline), the naive room. */
const core: Server[] = [reference, ...edgechat, ...baseline, naive];
const servers: Server[] = [...core];
if (WITH_WRANGLER) {
	// The same `wrangler dev` the loopback tests start (scripts/local-server.ts), pinned to the server core.
	const wrangler = await startWranglerDev({ core: SERVER_CORE, vars: BENCH_VARS });
	servers.push({
		label: "edgechat rich (wrangler dev)",
		mode: "rich",
		url: wrangler.socketUrl("ROOM"),
		pid: wrangler.pid,
		stop: () => wrangler.stop(),
	});
}

try {
	// 0. Idle memory, first, on fresh processes: RSS before and after holding idle connections
	// (plain, then rich on top of them for workerd), all held until measured.
	const idle = ONLY ? 0 : QUICK ? 300 : 1000;
	log(`\nidle memory: ${idle} connections`);
	const memory: { server: string; kibPerConnection: number }[] = [];
	for (const server of idle ? core : []) {
		const before = rssKiB(server.pid);
		await run({ kind: "hold", url: server.url, mode: server.mode, connections: idle });
		const kibPerConnection = (rssKiB(server.pid) - before) / idle;
		log(
			`  ${server.label.padEnd(26)} ${kibPerConnection.toFixed(1)} KiB per idle connection (resident, whole process tree)`,
		);
		memory.push({ server: server.label, kibPerConnection });
	}
	await run({ kind: "release" });
	results.memory = memory;

	// 1. One room, 200 clients, 10 senders, rising rates.
	const fanoutRates =
		(ONLY === "fanout" ? RATES : undefined) ??
		(QUICK ? [100, 300] : [50, 100, 200, 300, 400, 500, 600, 700, 800, 1000, 1200]);
	const fanout =
		ONLY === "rooms" ? [] : await rising("fan-out", servers, { rooms: 1, clients: 200, senders: 10 }, fanoutRates);
	results.fanout = fanout;
	if (ONLY === "fanout") throw new Done();

	// 2. Latency at 40,000 deliveries/s (200 messages/s to 200 clients), from the same steps.
	results.latencyAt40k = servers.map((s) => {
		const at = fanout.find((x) => x.server === s.label && x.rate === 200) ?? null;
		return { server: s.label, p50: at?.p50 ?? null, p99: at?.p99 ?? null };
	});

	// 3. 50 rooms of 20 clients, 2 senders each.
	const roomRates = RATES && ONLY === "rooms" ? RATES : QUICK ? [500] : [250, 500, 1000, 1500, 2000, 3000, 4000];
	const rooms =
		ONLY && ONLY !== "rooms" ? [] : await rising("many rooms", core, { rooms: 50, clients: 20, senders: 2 }, roomRates);
	results.rooms = rooms;
	if (ONLY === "rooms") throw new Done();

	// 4. One room of 2,000 mostly idle clients, one sender.
	const idleRates = QUICK ? [2] : [5, 10, 20];
	const crowd = ONLY
		? []
		: await rising("crowd", [reference, ...edgechat], { rooms: 1, clients: QUICK ? 500 : 2000, senders: 1 }, idleRates);
	results.crowd = crowd;

	// 5. Connection setup.
	const connections = QUICK ? 300 : 1000;
	const setup: { server: string; connectionsPerSecond: number; kibPerConnection: number }[] = [];
	log(`\nconnection setup: ${connections} connections, 50 at a time`);
	for (const server of ONLY ? [] : core) {
		const { connectionsPerSecond } = await run<{ connectionsPerSecond: number }>({
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
	results.setup = setup;

	// 6. Hibernation (full run only; it has to sit idle): an idle room must leave memory while its
	// sockets stay open. The runtime's own signal: after the idle spell the object is created anew
	// (its constructor runs again, so its instance number changes), and every socket still works.
	if (!QUICK && (!ONLY || ONLY === "hibernation")) {
		const instanceOf = (room: string) =>
			new Promise<number>((resolve) => {
				workerd.child.once("message", (m: { instance: number }) => resolve(m.instance));
				workerd.child.send({ instanceOf: room });
			});
		// Asking a room over RPC keeps it in memory, so ask a fresh probe room instead: the room
		// created right after it is the isolate's next instance.
		const room = `hibernate-${Date.now()}`;
		const first = (await instanceOf(`probe-${Date.now()}`)) + 1;
		log("\nhibernation: 100 rich clients, then 15 s without a frame");
		await run({ kind: "hold", url: socketUrl(workerd.port), mode: "rich", connections: 100, room });
		await new Promise((resolve) => setTimeout(resolve, 15_000));
		const wake = await run<{ delivered: number; of: number; ms: number }>({ kind: "heldBroadcast" });
		const woken = await instanceOf(room);
		await run({ kind: "release" });
		const evicted = woken > first;
		log(
			`  room instance ${first} when created, ${woken} after the idle spell: ${evicted ? "evicted and re-created by the runtime" : "NOT evicted"}; the first message after it reached ${wake.delivered}/${wake.of} clients in ${wake.ms.toFixed(1)} ms`,
		);
		results.hibernation = { first, woken, evicted, ...wake };
	}
	if (ONLY) throw new Done();

	// Summary.
	const ref = reference.label;
	const summary = servers.map((s) => {
		const sustained = bestSustained(fanout, s.label);
		const roomsSustained = bestSustained(rooms, s.label);
		const cpuStep = fanout.filter((x) => x.server === s.label && x.sustained).at(-1);
		return {
			server: s.label,
			fanoutSustained: Math.round(sustained),
			fanoutRatio: sustained / bestSustained(fanout, ref),
			roomsSustained: Math.round(roomsSustained),
			roomsRatio: roomsSustained / bestSustained(rooms, ref),
			cpuSecondsPerMillion: cpuStep ? (cpuStep.serverCpuSeconds / cpuStep.delivered) * 1e6 : null,
		};
	});
	results.summary = summary;

	const table = [
		"",
		"| server | fan-out sustained deliveries/s | vs reference | 50 rooms sustained | vs reference | p50 / p99 at 40k/s (ms) | server CPU s per million deliveries |",
		"| --- | --- | --- | --- | --- | --- | --- |",
		...summary.map((s) => {
			const lat = (results.latencyAt40k as { server: string; p50: number | null; p99: number | null }[]).find(
				(l) => l.server === s.server,
			);
			const latency = lat?.p50 == null ? "-" : `${lat.p50.toFixed(1)} / ${lat.p99?.toFixed(1)}`;
			return `| ${s.server} | ${s.fanoutSustained} | ${s.fanoutRatio.toFixed(2)}x | ${s.roomsSustained || "-"} | ${s.roomsSustained ? `${s.roomsRatio.toFixed(2)}x` : "-"} | ${latency} | ${s.cpuSecondsPerMillion?.toFixed(2) ?? "-"} |`;
		}),
		"",
		"| server | connections/s | KiB per idle connection |",
		"| --- | --- | --- |",
		...setup.map((s) => `| ${s.server} | ${Math.round(s.connectionsPerSecond)} | ${s.kibPerConnection.toFixed(1)} |`),
	].join("\n");
	console.log(table);
	writeFileSync(path.join(OUT, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
	writeFileSync(path.join(OUT, "results.svg"), chart(summary));
	log(`\nwrote ${path.join(OUT, "results.json")} and results.svg`);
} catch (error) {
	if (!(error instanceof Done)) throw error;
} finally {
	load.kill();
	for (const server of servers) await server.stop();
}

/** A bar chart of sustained fan-out per server, with the ratio to the reference. */
function chart(summary: { server: string; fanoutSustained: number; fanoutRatio: number }[]): string {
	const width = 720;
	const bar = 34;
	const gap = 16;
	const left = 230;
	const top = 50;
	const max = Math.max(1, ...summary.map((s) => s.fanoutSustained));
	const height = top + summary.length * (bar + gap) + 30;
	const bars = summary
		.map((s, i) => {
			const y = top + i * (bar + gap);
			const w = ((width - left - 120) * s.fanoutSustained) / max;
			const color = s.server.startsWith("edgechat") ? "#0b63ce" : s.server.startsWith("naive") ? "#bbb" : "#888";
			return `<text x="${left - 10}" y="${y + bar / 2 + 5}" text-anchor="end">${s.server}</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${color}"/><text x="${left + w + 8}" y="${y + bar / 2 + 5}">${s.fanoutSustained.toLocaleString("en")} (${s.fanoutRatio.toFixed(2)}x)</text>`;
		})
		.join("\n");
	return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">
<title>edgechat fan-out benchmark</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="20" y="28" font-size="16" font-weight="bold">Sustained deliveries/s, 1 room x 200 clients x 10 senders (zero loss, p99 &lt;= ${P99_LIMIT_MS} ms)${QUICK ? " [quick run]" : ""}</text>
${bars}
</svg>
`;
}
