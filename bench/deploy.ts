/**
 * A real local deploy (`npm run bench -- --only=deploy`): a room of `members` rich members of the
 * client library spread over `objects` Durable Objects (`SHARD_SIZE` = members / objects), and
 * the local server stopped and started again on the same storage and the same port, as a deploy
 * drops every socket. Reported: how long until every member is welcomed again, and until every
 * member also has every message sent during the deploy (exactly once) and counts the whole room;
 * what the room's own object was asked meanwhile (requests, calls in and out).
 *
 * The server runs pinned to the server core, the members (bench/deploy-clients.ts) to the load
 * core; the members reconnect with the page's own backoff (public/client/connection.js).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { freePort, ROOT } from "../scripts/local-server.ts";
import type { DeployClientsResult } from "./deploy-clients.ts";
import { cpuSeconds } from "./measure.ts";
import { LOAD_CORE, startWorkerd, type Workerd } from "./processes.ts";

/** What the local deploy measured. */
export interface DeployResult extends DeployClientsResult {
	members: number;
	objects: number;
	/** Parts of the room (its own object and shards) holding connections before the deploy. */
	partsUsed: number;
	/** How long the members took to join at the start (steps of 200). */
	joinMs: number;
	/** From the stop until the new server listened (the members wait meanwhile). */
	restartMs: number;
	/** What the room's object was asked by the new server's members until all were back. */
	roomRequests: number;
	roomCalls: { submitted: number; memberLists: number; pushed: number };
	/** CPU seconds the new server (workerd and its launcher) and the members' process used until all were back. */
	serverCpuSeconds: number;
	membersCpuSeconds: number;
	/** The room's own record at the end. */
	roomConnections: number;
	roomMembers: number;
}

/** Sends `order` to the members' process and waits for its answer. */
function ask<T>(child: ChildProcess, order: object, key: string): Promise<T> {
	return new Promise((resolve, reject) => {
		const onMessage = (message: Record<string, unknown>) => {
			if (!(key in message) && !("error" in message)) return;
			child.off("message", onMessage);
			if ("error" in message) reject(new Error(String(message.error)));
			else resolve(message[key] as T);
		};
		child.on("message", onMessage);
		child.send(order);
	});
}

/** Stops a bench server cleanly (it disposes of its workerd when its IPC channel closes). */
function stopServer(server: Workerd): Promise<void> {
	return new Promise((resolve) => {
		if (server.child.exitCode !== null) return resolve();
		server.child.once("exit", () => resolve());
		server.child.disconnect();
	});
}

/** Runs the local deploy once. */
export async function deployScenario(members: number, objects: number, senders = 100): Promise<DeployResult> {
	const persistDir = await mkdtemp(path.join(tmpdir(), "edgechat-deploy-"));
	const port = await freePort();
	const vars = {
		SHARD_SIZE: String(Math.ceil(members / objects)),
		MAX_CONNECTIONS: String(Math.max(10_000, members * 2)),
	};
	let server = await startWorkerd(false, ROOT, vars, { persistDir, port });
	const clients = spawn("taskset", ["-c", LOAD_CORE, process.execPath, "bench/deploy-clients.ts"], {
		cwd: ROOT,
		stdio: ["ignore", "inherit", "inherit", "ipc"],
	});
	try {
		await new Promise((resolve) => clients.once("message", resolve));
		const url = `http://127.0.0.1:${port}`;
		const joinMs = await ask<number>(clients, { join: { url, members } }, "joined");
		const before = await server.ask("deploy", "stats");
		const partsUsed = before.shards.filter((part) => part.connections > 0).length;
		const membersCpu = cpuSeconds(clients.pid ?? 0);
		const stopped = performance.now();
		await stopServer(server);
		const back = ask<DeployClientsResult>(clients, { down: { senders, waitMs: 120_000 } }, "back");
		server = await startWorkerd(false, ROOT, vars, { persistDir, port });
		const restartMs = performance.now() - stopped;
		const result = await back;
		const serverCpuSeconds = cpuSeconds(server.child.pid ?? 0);
		const membersCpuSeconds = cpuSeconds(clients.pid ?? 0) - membersCpu;
		const roomRequests = await server.ask("deploy", "requestsSeen");
		const roomCalls = await server.ask("deploy", "shardCalls");
		const after = await server.ask("deploy", "stats");
		return {
			members,
			objects,
			partsUsed,
			joinMs,
			restartMs,
			...result,
			roomRequests,
			roomCalls,
			serverCpuSeconds,
			membersCpuSeconds,
			roomConnections: after.connections,
			roomMembers: after.members,
		};
	} finally {
		clients.disconnect();
		await stopServer(server);
		await rm(persistDir, { recursive: true, force: true });
	}
}
