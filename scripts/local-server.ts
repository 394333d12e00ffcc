/**
 * Local edgechat servers: the Worker served straight from workerd through the `miniflare` API,
 * or through `wrangler dev` (the path users take). Both listen on 127.0.0.1 on a free port and
 * are stopped by whoever started them.
 *
 * One module for everything that runs edgechat locally from Node: the loopback, conformance and
 * browser tests (test/), the benchmark (bench/) and `npm run screenshot`. It lives in scripts/,
 * beside the other Node-side tooling, rather than in test/support/, so that the benchmark does
 * not depend on the tests' helpers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { convertV4MiniflareOptions, type Json, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A running local server. */
export interface LocalServer {
	/** `http://127.0.0.1:PORT` */
	readonly origin: string;
	/** The socket URL of a room. */
	socketUrl(room: string): string;
	/** Stops the server and waits until it is gone. */
	stop(): Promise<void>;
}

/** What a caller may change about the server it starts. */
export interface ServerOptions {
	/** `[vars]` overrides, as `wrangler dev --var` would give them. */
	vars?: Record<string, string>;
	/** Keep Durable Object storage in this directory (so a restart keeps it). */
	persistDir?: string;
	/** Listen on this port instead of a free one (to restart on the same address). */
	port?: number;
	/** Open the V8 inspector on this port (miniflare only; for profiling). */
	inspectorPort?: number;
	/** Receives every line the Worker logs (miniflare only; the fuzz suite reads the room's log). */
	onLog?: (line: { level: string; message: string }) => void;
	/**
	 * Rate limits other than wrangler.toml's, by binding (miniflare only): a browser test that
	 * signs in many times from one address is not testing the per-address limit.
	 */
	rateLimits?: Record<string, number>;
	/** Another entry point than wrangler.toml's `main` (miniflare only: the room simulation's Worker), relative to the root. */
	main?: string;
}

function localServer(origin: string, stop: () => Promise<void>): LocalServer {
	return { origin, socketUrl: (room) => `${origin.replace(/^http/, "ws")}/api/rooms/${room}/websocket`, stop };
}

/** The bundle of each entry point, made once per process. */
const bundled = new Map<string, Promise<string>>();

/** The Worker's entry point, as wrangler.toml's `main` names it. */
function mainModule(): string {
	const main = /^main\s*=\s*"([^"]+)"/m.exec(readFileSync(path.join(ROOT, "wrangler.toml"), "utf8"))?.[1];
	if (!main) throw new Error("wrangler.toml names no main module");
	return path.join(ROOT, main);
}

/** Bundles the Worker (wrangler.toml's `main`, or `entry`) once per process, as wrangler would for deploy. */
function bundleWorker(entry = mainModule()): Promise<string> {
	const done = bundled.get(entry);
	if (done) return done;
	const bundle = (async () => {
		const outdir = path.join(ROOT, ".wrangler", "test-build", String(process.pid), String(bundled.size));
		await mkdir(outdir, { recursive: true });
		const outfile = path.join(outdir, "worker.js");
		await build({
			entryPoints: [entry],
			outfile,
			bundle: true,
			format: "esm",
			platform: "neutral",
			target: "es2023",
			conditions: ["workerd", "worker", "browser"],
			// As wrangler bundles: "neutral" reads no package.json field by default, and some
			// dependencies (standardwebhooks, zod-to-openapi) name their entry only in `main`.
			mainFields: ["browser", "module", "main"],
			external: ["cloudflare:*"],
			logLevel: "warning",
		});
		return outfile;
	})();
	bundled.set(entry, bundle);
	return bundle;
}

/**
 * Starts the Worker in workerd through the miniflare API, with the bindings, Durable Objects
 * and static assets that wrangler.toml declares.
 */
export async function startMiniflare(
	options: ServerOptions = {},
): Promise<LocalServer & { miniflare: Miniflare /** The bundle workerd runs. */; script: string }> {
	const scriptPath = await bundleWorker(options.main ? path.join(ROOT, options.main) : undefined);
	const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
	// The bundle is one self-contained module, so wrangler's module rules have nothing to do.
	const { modulesRules: _unused, ...worker } = workerOptions;
	const ratelimits = Object.fromEntries(
		Object.entries(worker.ratelimits ?? {}).map(([name, limit]) => {
			const override = options.rateLimits?.[name];
			return [name, override === undefined ? limit : { ...limit, simple: { ...limit.simple, limit: override } }];
		}),
	);
	// wrangler hands us its (v4-shaped) worker options; miniflare 5 converts them itself.
	const miniflare = new Miniflare(
		convertV4MiniflareOptions({
			host: "127.0.0.1",
			port: options.port ?? 0,
			rootPath: ROOT,
			// Without a persistence path, storage lives in a temporary directory that dies with the server.
			...(options.persistDir ? { resourcePersistencePath: options.persistDir } : {}),
			...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
			...(options.onLog ? { handleStructuredLogs: options.onLog } : {}),
			workers: [
				{
					...worker,
					name: "edgechat",
					ratelimits,
					modules: true,
					scriptPath,
					// wrangler types the parsed vars loosely (unknown); they are JSON values.
					bindings: { ...(worker.bindings as Record<string, Json>), ...options.vars },
				},
			],
		}),
	);
	const url = await miniflare.ready;
	return { ...localServer(url.origin, () => miniflare.dispose()), miniflare, script: scriptPath };
}

/** Finds a TCP port on 127.0.0.1 that is free right now. */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() =>
				typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
			);
		});
	});
}

/** Resolves once `child` prints a line matching `pattern`; rejects if it exits first or takes too long. */
function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
	return new Promise((resolve, reject) => {
		let output = "";
		const timer = setTimeout(() => fail(new Error(`timed out waiting for ${pattern}:\n${output}`)), timeoutMs);
		const onData = (chunk: Buffer) => {
			output += chunk.toString();
			if (pattern.test(output)) done();
		};
		const onExit = (code: number | null) => fail(new Error(`exited with ${code} before ${pattern}:\n${output}`));
		function cleanup() {
			clearTimeout(timer);
			child.stdout?.off("data", onData);
			child.stderr?.off("data", onData);
			child.off("exit", onExit);
		}
		function done() {
			cleanup();
			resolve();
		}
		function fail(error: Error) {
			cleanup();
			reject(error);
		}
		child.stdout?.on("data", onData);
		child.stderr?.on("data", onData);
		child.once("exit", onExit);
	});
}

/** A running `wrangler dev`, with the pid of its process group (for measuring it). */
export interface WranglerDev extends LocalServer {
	readonly pid: number;
}

/** What `startWranglerDev` takes besides the common options. */
export interface WranglerOptions extends ServerOptions {
	/** Pin the process to these cores (`taskset -c`). */
	core?: string;
	/** Another entry point than wrangler.toml's `main` (a test's Worker around the shipped one), relative to the root. */
	main?: string;
}

/**
 * Starts `wrangler dev` exactly as `npm start` does, on 127.0.0.1 and a free port (pinned to
 * `core` with taskset when given). A free port can be taken by another process between finding
 * it and wrangler binding it (tests run in parallel), so "address already in use" is retried
 * with fresh ports.
 */
export async function startWranglerDev(options: WranglerOptions = {}): Promise<WranglerDev> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await startWranglerOnce(options);
		} catch (error) {
			const portTaken = /Address already in use/.test(String(error));
			if (!portTaken || options.port !== undefined || attempt === 3) throw error;
		}
	}
}

async function startWranglerOnce(options: WranglerOptions): Promise<WranglerDev> {
	const port = options.port ?? (await freePort());
	const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort())];
	if (options.main) args.splice(1, 0, options.main);
	for (const [name, value] of Object.entries(options.vars ?? {})) args.push("--var", `${name}:${value}`);
	// Without --persist-to, every wrangler dev in the project keeps its state in the same
	// `.wrangler/state`: servers started side by side (tests run in parallel) then open one SQLite
	// file at once, and workerd dies at start with SQLITE_BUSY. A server without a persistence
	// path gets a directory of its own that dies with it, as the miniflare servers do.
	const scratch = options.persistDir ? undefined : await mkdtemp(path.join(tmpdir(), "edgechat-wrangler-"));
	args.push("--persist-to", options.persistDir ?? (scratch as string));
	const removeScratch = () => (scratch ? rm(scratch, { recursive: true, force: true }) : Promise.resolve());
	const wrangler = path.join(ROOT, "node_modules/.bin/wrangler");
	const [command, commandArgs] = options.core ? ["taskset", ["-c", options.core, wrangler, ...args]] : [wrangler, args];
	const child = spawn(command, commandArgs, {
		cwd: ROOT,
		// The project's own Node (the `node` devDependency) first on PATH, as under `npm start`.
		env: {
			...process.env,
			PATH: `${path.join(ROOT, "node_modules/.bin")}${path.delimiter}${process.env.PATH}`,
			CI: "true",
			WRANGLER_SEND_METRICS: "false",
			// As scripts/start.ts (npm start) sets it: no sample `request.cf` fetched from the network.
			CLOUDFLARE_CF_FETCH_ENABLED: "false",
		},
		stdio: ["ignore", "pipe", "pipe"],
		detached: true,
	});
	const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
	try {
		await waitForOutput(child, /Ready on http/, 60_000);
	} catch (error) {
		if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
		await exited;
		await removeScratch();
		throw error;
	}
	const server = localServer(`http://127.0.0.1:${port}`, async () => {
		if (child.exitCode === null && child.pid) process.kill(-child.pid, "SIGTERM");
		await exited;
		await removeScratch();
	});
	return { ...server, pid: child.pid ?? 0 };
}

/** The parts of a Room a test or the benchmark may ask about, over Durable Object RPC. */
export interface RoomInspector {
	instanceNumber(): Promise<number>;
	connectionCount(): Promise<number>;
	memberNames(): Promise<string[]>;
	storedMessageCount(): Promise<number>;
	/** Calls received from shards and pushes made to them since this instance started. */
	shardCalls(): Promise<{ submitted: number; memberLists: number; pushed: number }>;
	/** Requests (upgrades) the room's object was sent since this instance started. */
	requestsSeen(): Promise<number>;
	/** The room's size, as `GET /api/rooms/NAME` answers it (the room's own object first in `shards`). */
	stats(): Promise<{ connections: number; members: number; latestId: number; shards: { connections: number }[] }>;
}

/** Reaches a room's Durable Object in a miniflare server over RPC (for reading it only). */
export async function inspectRoom(server: { miniflare: Miniflare }, room: string): Promise<RoomInspector> {
	const namespace = await server.miniflare.getDurableObjectNamespace("ROOMS");
	return namespace.get(namespace.idFromName(room)) as unknown as RoomInspector;
}
