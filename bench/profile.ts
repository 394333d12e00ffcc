/**
 * `npm run bench:profile [-- plain|rich] [-- --rate=200 --rooms=1 --clients=200 --senders=10]`:
 * where a room's time goes. Serves edgechat from workerd (miniflare API) with the V8 inspector
 * on, drives rooms of clients from the load generator, records a CPU profile of the Worker's
 * isolate through the inspector (Profiler domain), and prints self time by function.
 * Time spent inside the runtime's native calls (ws.send, SQL) is charged to the JS function
 * that called them, since V8 sees the native call as part of that frame's self time.
 */
import { freePort, startMiniflare } from "../scripts/local-server.ts";
import { Inspector } from "./inspector.ts";
import type { FanoutResult } from "./load.ts";
import { startLoadGenerator } from "./processes.ts";
import { BENCH_VARS } from "./settings.ts";

const mode = process.argv.includes("rich") ? "rich" : "plain";
const arg = (name: string, fallback: number) =>
	Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const rate = arg("rate", 200);
const rooms = arg("rooms", 1);
const clientsPerRoom = arg("clients", 200);
const sendersPerRoom = arg("senders", 10);

const inspectorPort = await freePort();
const server = await startMiniflare({ vars: BENCH_VARS, inspectorPort });
const inspector = await Inspector.open(inspectorPort);
const call = <T>(method: string, params: object = {}) => inspector.call<T>(method, params);

const load = await startLoadGenerator();
await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 200 });
await call("Profiler.start");
const result = await load.run<FanoutResult>({
	kind: "fanout",
	url: server.socketUrl("ROOM"),
	mode,
	rooms,
	clientsPerRoom,
	sendersPerRoom,
	rate,
	seconds: 4,
});
const { profile } = await call<{
	profile: {
		nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }[];
	};
}>("Profiler.stop");
load.stop();
inspector.close();
await server.stop();

const self = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
	const { functionName, url, lineNumber } = node.callFrame;
	const file = url ? url.split("/").pop() : "";
	const key = `${functionName || "(anonymous)"}${file ? ` ${file}:${lineNumber + 1}` : ""}`;
	self.set(key, (self.get(key) ?? 0) + node.hitCount);
	total += node.hitCount;
}
const busy = total - (self.get("(idle)") ?? 0);
console.log(
	`\n${mode} mode, ${rate} msg/s, ${rooms} room(s) x ${clientsPerRoom} clients: ${Math.round(result.deliveriesPerSecond)} deliveries/s, p99 ${result.p99.toFixed(1)} ms`,
);
console.log(`samples: ${total} (${busy} not idle)\n`);
console.log("| self time (share of non-idle samples) | function |\n| --- | --- |");
for (const [key, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
	if (key === "(idle)") continue;
	console.log(`| ${((100 * hits) / busy).toFixed(1)}% | ${key} |`);
}
