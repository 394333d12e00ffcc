/**
 * The benchmark's processes, each pinned to its core with `taskset`: the servers under test on
 * core 0 (each a process tree: workerd inherits the pinning) and the load generator
 * (bench/load.ts) on core 1, with the IPC channel that hands it jobs.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, ROOT, type RoomInspector, startWranglerDev } from "../scripts/local-server.ts";
import type { Job, Mode } from "./load.ts";
import type { Question } from "./serve-edgechat.ts";
import { BENCH_VARS, shardVars } from "./settings.ts";

export const SERVER_CORE = "0";
export const LOAD_CORE = "1";

/** A server under test: where to connect and which processes to measure. */
export interface Server {
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

export function stopChild(child: ChildProcess): Promise<void> {
	return new Promise((resolve) => {
		if (child.exitCode !== null) return resolve();
		child.once("exit", () => resolve());
		child.kill("SIGTERM");
	});
}

/** The socket URL of every room on a server; the load generator puts the room's name for ROOM. */
export const socketUrl = (port: number) => `ws://127.0.0.1:${port}/api/rooms/ROOM/websocket`;

/** A plain-mode server that is one pinned process listening on `port`. */
function plainServer(label: string, child: ChildProcess, port: number): Server {
	return { label, mode: "plain", url: socketUrl(port), pid: child.pid ?? 0, stop: () => stopChild(child) };
}

/** The tutorial's server on Node `ws` (bench/reference-server.mjs). */
export async function startReference(): Promise<Server> {
	const port = await freePort();
	const { child } = await startPinned(SERVER_CORE, process.execPath, ["bench/reference-server.mjs", String(port)]);
	return plainServer("node-ws (reference)", child, port);
}

/** edgechat served from workerd by bench/serve-edgechat.ts. */
export interface Workerd {
	readonly child: ChildProcess;
	readonly port: number;
	/** The V8 inspector's port, when started with one (bench/heap.ts). */
	readonly inspectorPort?: number;
	/** Asks `room`'s object one of its inspection questions (an RPC call, which wakes the room if evicted). */
	ask<Q extends Question["ask"]>(room: string, question: Q): Promise<Awaited<ReturnType<RoomInspector[Q]>>>;
}

/**
 * edgechat from workerd (miniflare API), from this tree or from another checkout at `root`;
 * with `tmpfs`, its temporary Durable Object storage in /dev/shm; `vars` on top of BENCH_VARS;
 * with `inspect`, the V8 inspector on (for reading the isolate's heap; the throughput servers
 * run without it); with `persistDir` and `port`, the storage and the address of a server it
 * restarts (bench/deploy.ts).
 */
export async function startWorkerd(
	tmpfs: boolean,
	root = ROOT,
	vars: Record<string, string> = {},
	{ inspect = false, persistDir = "", port = 0 } = {},
): Promise<Workerd> {
	const env: Record<string, string> = tmpfs ? { TMPDIR: "/dev/shm" } : {};
	env.EDGECHAT_BENCH_VARS = JSON.stringify(vars);
	if (persistDir) env.EDGECHAT_BENCH_PERSIST = persistDir;
	if (port) env.EDGECHAT_BENCH_PORT = String(port);
	const inspectorPort = inspect ? await freePort() : undefined;
	if (inspectorPort !== undefined) env.EDGECHAT_BENCH_INSPECTOR = String(inspectorPort);
	const { child, ready } = await startPinned(SERVER_CORE, process.execPath, ["bench/serve-edgechat.ts"], env, root);
	const waiting = new Map<number, (answer: never) => void>();
	child.on("message", ({ id, answer }: { id: number; answer: never }) => {
		waiting.get(id)?.(answer);
		waiting.delete(id);
	});
	let asked = 0;
	const ask: Workerd["ask"] = (room, question) =>
		new Promise((resolve) => {
			const id = ++asked;
			waiting.set(id, resolve);
			child.send({ id, room, ask: question } satisfies Question);
		});
	return { child, port: ready, ask, ...(inspectorPort === undefined ? {} : { inspectorPort }) };
}

/** Plain and rich edgechat servers on one workerd process, labelled with `version`. */
export function edgechatServers(workerd: Workerd, version: string): Server[] {
	return (["plain", "rich"] as const).map((mode, i) => ({
		label: `edgechat ${mode} (${version})`,
		mode,
		url: socketUrl(workerd.port),
		pid: workerd.child.pid ?? 0,
		// One process serves both: the first stops it.
		stop: i === 0 ? () => stopChild(workerd.child) : async () => {},
	}));
}

/** A server of the shards scenario: a workerd whose rooms of `members` spread over `objects` objects. */
export interface ShardServer extends Server {
	readonly objects: number;
	readonly workerd: Workerd;
}

/**
 * A workerd with `SHARD_SIZE` = members / objects (bench/settings.ts `shardVars`), spoken to in
 * plain mode; from this tree, or from a baseline checkout (`baseline`, bench/run.ts `--baseline`).
 */
export async function startShardServer(
	tmpfs: boolean,
	members: number,
	objects: number,
	baseline?: Baseline,
): Promise<ShardServer> {
	const workerd = await startWorkerd(tmpfs, baseline?.dir ?? ROOT, shardVars(members, objects));
	const shape = objects === 1 ? "one object" : `${objects} objects`;
	const [plain] = edgechatServers(workerd, baseline ? `${shape} @ ${baseline.rev}` : shape) as [Server];
	return { ...plain, objects, workerd };
}

/** Another revision of edgechat, checked out beside this tree for an A/B run. */
export interface Baseline {
	readonly rev: string;
	readonly dir: string;
	/** Removes the checkout (once every server of it has stopped). */
	remove(): void;
}

/** Checks out `rev` in a temporary git worktree that shares this tree's node_modules. */
export function checkoutBaseline(rev: string): Baseline {
	const dir = path.join(tmpdir(), `edgechat-baseline-${process.pid}`);
	execFileSync("git", ["worktree", "add", "--detach", dir, rev], { cwd: ROOT, stdio: "ignore" });
	symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
	return {
		rev,
		dir,
		remove: () => execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: ROOT, stdio: "ignore" }),
	};
}

/** Serves a baseline checkout, plain and rich. */
export async function startBaseline(baseline: Baseline, tmpfs: boolean): Promise<Server[]> {
	const workerd = await startWorkerd(tmpfs, baseline.dir);
	return edgechatServers(workerd, `workerd @ ${baseline.rev}`);
}

/** The naive room (bench/naive-room-worker.js): the obvious hibernatable relay, nothing stored. */
export async function startNaiveRoom(): Promise<Server> {
	const { child, ready } = await startPinned(SERVER_CORE, process.execPath, ["bench/serve-naive-room.ts"]);
	return plainServer("naive room (workerd)", child, ready);
}

/** edgechat through the same `wrangler dev` the loopback tests start, pinned to the server core. */
export async function startWrangler(): Promise<Server> {
	const wrangler = await startWranglerDev({ core: SERVER_CORE, vars: BENCH_VARS });
	return {
		label: "edgechat rich (wrangler dev)",
		mode: "rich",
		url: wrangler.socketUrl("ROOM"),
		pid: wrangler.pid,
		stop: () => wrangler.stop(),
	};
}

/** What the load generator says while a fan-out job runs: it started sending, or it got everything. */
export type Phase = "sending" | "drained";

/** The running load generator. */
export interface LoadGenerator {
	/** Runs one job; `onPhase` hears its progress notices. */
	run<T>(job: Job, onPhase?: (phase: Phase) => void): Promise<T>;
	stop(): void;
}

/** Starts the load generator (bench/load.ts) pinned to the load core and waits until it is ready. */
export async function startLoadGenerator(): Promise<LoadGenerator> {
	const load = spawn("taskset", ["-c", LOAD_CORE, process.execPath, "bench/load.ts"], {
		cwd: ROOT,
		stdio: ["ignore", "inherit", "inherit", "ipc"],
	});
	await new Promise((resolve) => load.once("message", resolve));
	return {
		run<T>(job: Job, onPhase: (phase: Phase) => void = () => {}): Promise<T> {
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
		},
		stop: () => load.kill(),
	};
}
