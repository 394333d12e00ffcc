/**
 * Serves edgechat straight from workerd through the miniflare API, for the benchmark: no
 * persistence unless EDGECHAT_BENCH_PERSIST names a directory (a restart, bench/deploy.ts), flood control off (the load is the point), room capacity raised, and no inspector
 * unless EDGECHAT_BENCH_INSPECTOR names its port (bench/heap.ts).
 * Started pinned to one core by bench/processes.ts; workerd inherits the pinning.
 */
import { inspectRoom, type RoomInspector, startMiniflare } from "../scripts/local-server.ts";
import { BENCH_VARS } from "./settings.ts";

// Extra settings for one variant under test (bench/processes.ts), e.g. compression on.
const extra = JSON.parse(process.env.EDGECHAT_BENCH_VARS ?? "{}") as Record<string, string>;
const inspectorPort = Number(process.env.EDGECHAT_BENCH_INSPECTOR ?? 0) || undefined;
// A restart (bench/deploy.ts): the same storage and the same port as the server before it.
const persistDir = process.env.EDGECHAT_BENCH_PERSIST || undefined;
const port = Number(process.env.EDGECHAT_BENCH_PORT ?? 0) || undefined;
const server = await startMiniflare({
	vars: { ...BENCH_VARS, ...extra },
	...(inspectorPort ? { inspectorPort } : {}),
	...(persistDir ? { persistDir } : {}),
	...(port ? { port } : {}),
});
process.send?.({ ready: Number(new URL(server.origin).port) });
// The orchestrator asks a room's object about itself (an RPC call, which wakes it if evicted):
// which instance is live, its calls to and from its shards, its size (bench/processes.ts `ask`).
export type Question = { id: number; room: string; ask: "instanceNumber" | "shardCalls" | "stats" | "requestsSeen" };
process.on("message", async ({ id, room, ask }: Question) => {
	const inspector: RoomInspector = await inspectRoom(server, room);
	process.send?.({ id, answer: await inspector[ask]() });
});
process.on("disconnect", () => {
	void server.stop().then(() => process.exit(0));
});
