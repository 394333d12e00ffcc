/**
 * Serves edgechat straight from workerd through the miniflare API, for the benchmark: no
 * persistence, no inspector, flood control off (the load is the point), room capacity raised.
 * Started pinned to one core by bench/run.ts; workerd inherits the pinning.
 */
import { startMiniflare } from "../test/support/server.ts";

export const BENCH_VARS = { RATE_LIMIT_MESSAGES: "0", MAX_CONNECTIONS: "10000" };

const server = await startMiniflare({ vars: BENCH_VARS });
process.send?.({ ready: Number(new URL(server.origin).port) });
process.on("disconnect", () => {
	void server.stop().then(() => process.exit(0));
});
