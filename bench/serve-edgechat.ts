/**
 * Serves edgechat straight from workerd through the miniflare API, for the benchmark: no
 * persistence, no inspector, flood control off (the load is the point), room capacity raised.
 * Started pinned to one core by bench/processes.ts; workerd inherits the pinning.
 */
import { inspectRoom, startMiniflare } from "../scripts/local-server.ts";
import { BENCH_VARS } from "./settings.ts";

// Extra settings for one variant under test (bench/processes.ts), e.g. compression on.
const extra = JSON.parse(process.env.EDGECHAT_BENCH_VARS ?? "{}") as Record<string, string>;
const server = await startMiniflare({ vars: { ...BENCH_VARS, ...extra } });
process.send?.({ ready: Number(new URL(server.origin).port) });
// The orchestrator asks which instance of a room is live (an RPC call, which wakes it if evicted).
process.on("message", async (message: { instanceOf: string }) => {
	const room = await inspectRoom(server, message.instanceOf);
	process.send?.({ instance: await room.instanceNumber() });
});
process.on("disconnect", () => {
	void server.stop().then(() => process.exit(0));
});
