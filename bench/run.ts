/**
 * `npm run bench [-- --quick]`: edgechat against the tutorial's server on Node `ws`, in one run
 * on this machine, as ratios. Servers run pinned to core 0, the load generator to core 1
 * (`taskset`), and every scenario alternates the servers step by step (A B C A B C ...) so that
 * drift on the shared machine hits all of them alike.
 *
 * Writes bench/results.json and bench/results.svg, and prints a table. It is a benchmark, not a
 * test: `npm test` only checks that `--quick` runs and reports.
 *
 * This file reads the flags, starts the processes and stops them; the processes are in
 * processes.ts, what is read off them in measure.ts, the scenarios in scenarios.ts and the
 * report in report.ts.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "../scripts/local-server.ts";
import { deployScenario } from "./deploy.ts";
import {
	checkoutBaseline,
	edgechatServers,
	SERVER_CORE,
	type Server,
	startBaseline,
	startLoadGenerator,
	startNaiveRoom,
	startReference,
	startShardServer,
	startWorkerd,
	startWrangler,
} from "./processes.ts";
import { deployTable, type RunHeader, shardTable, writeReport } from "./report.ts";
import { runScenarios, shardComparison, shardOptions, type WebhooksMeasured } from "./scenarios.ts";
import { SHARD_OBJECTS } from "./settings.ts";
import { BENCH_WEBHOOK_SECRET, startBenchReceiver, webhooksScenario } from "./webhooks.ts";

const QUICK = process.argv.includes("--quick");
const WITH_WRANGLER = !process.argv.includes("--no-wrangler");
const OUT = process.argv.find((a) => a.startsWith("--out="))?.slice(6) ?? path.join(ROOT, "bench");
/** `--rates=100,300`: the rates of an `--only=fanout|rooms|shards` run instead of its ladder (for profiling one change). */
const RATES = process.argv
	.find((a) => a.startsWith("--rates="))
	?.slice(8)
	.split(",")
	.map(Number);
/**
 * `--only=fanout`, `--only=rooms`, `--only=slow`, `--only=storm`, `--only=reactions`,
 * `--only=hibernation`, `--only=heap`, `--only=webhooks`, `--only=shards`, `--only=deploy` or
 * `--only=simulate`: run just that scenario and write no results (for profiling one change;
 * `shards` prints its table and starts only its own two servers; `deploy` is the local deploy of
 * bench/deploy.ts, `--members=N` (default 4,000) over `--objects=N` (default 40); `simulate` is
 * the room simulation of bench/simulate.ts, `--sizes=N,N` (default 100,000 and 1,000,000);
 * these two run only when asked for).
 */
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
/** `--members=N`: the size of the shards scenario's room (a multiple of 4; default 8,000, 400 with `--quick`). */
const MEMBERS = Number(process.argv.find((a) => a.startsWith("--members="))?.slice(10) ?? (QUICK ? 400 : 8000));
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
/**
 * `--compression`: also serve this tree's edgechat with WEBSOCKET_COMPRESSION on, plain and
 * rich, alternating with the default (off) at every step. The load generator offers
 * permessage-deflate as browsers do, so this measures what accepting it costs.
 */
const COMPRESSION = process.argv.includes("--compression");
const STEP_SECONDS = QUICK ? 1.5 : 4;

if (ONLY === "deploy") {
	// The local deploy starts its own server and members (bench/deploy.ts).
	const given = process.argv.some((a) => a.startsWith("--members="));
	const objects = Number(process.argv.find((a) => a.startsWith("--objects="))?.slice(10) ?? 40);
	const senders = Number(process.argv.find((a) => a.startsWith("--senders="))?.slice(10) ?? 100);
	console.log(deployTable(await deployScenario(given ? MEMBERS : 4_000, objects, senders)));
	process.exit(0);
}
if (ONLY === "simulate") {
	// The room simulation runs in a process of its own on the server core (bench/simulate.ts).
	const sizes = process.argv.find((a) => a.startsWith("--sizes=")) ?? "--sizes=100000,1000000";
	const run = spawnSync("taskset", ["-c", SERVER_CORE, process.execPath, "bench/simulate.ts", sizes], {
		cwd: ROOT,
		stdio: "inherit",
	});
	process.exit(run.status ?? 1);
}
const load = await startLoadGenerator();
const checkout = BASELINE ? checkoutBaseline(BASELINE) : null;
// The shards scenario: one workerd whose rooms stay on one object, one whose rooms spread over
// four (and with --baseline, the baseline's room over four too).
const shards = {
	servers:
		ONLY && ONLY !== "shards"
			? []
			: [
					await startShardServer(TMPFS, MEMBERS, 1),
					await startShardServer(TMPFS, MEMBERS, SHARD_OBJECTS),
					...(checkout ? [await startShardServer(TMPFS, MEMBERS, SHARD_OBJECTS, checkout)] : []),
				],
	options: shardOptions(QUICK, MEMBERS, ONLY === "shards" ? RATES : undefined),
};
if (ONLY === "shards") {
	try {
		console.log(shardTable(await shardComparison(load, shards.servers, shards.options)));
	} finally {
		load.stop();
		for (const server of shards.servers) await server.stop();
		checkout?.remove();
	}
	process.exit(0);
}
const header: RunHeader = { quick: QUICK, tmpfs: TMPFS, date: new Date().toISOString(), stepSeconds: STEP_SECONDS };
const reference = await startReference();
const workerd = await startWorkerd(TMPFS);
const edgechat = edgechatServers(workerd, "workerd");
const baseline = checkout ? await startBaseline(checkout, TMPFS) : [];
const compressing = COMPRESSION
	? edgechatServers(await startWorkerd(TMPFS, ROOT, { WEBSOCKET_COMPRESSION: "true" }), "workerd, deflate on")
	: [];
const naive = await startNaiveRoom();
// The isolate's heap is read through the V8 inspector, on a workerd of its own (bench/heap.ts).
const heap = !ONLY || ONLY === "heap" ? await startWorkerd(TMPFS, ROOT, {}, { inspect: true }) : null;
/** The servers every scenario runs: the reference, edgechat on workerd (and its baseline), the naive room. */
const core: Server[] = [reference, ...edgechat, ...baseline, ...compressing, naive];
const servers: Server[] = [...core];
if (WITH_WRANGLER) servers.push(await startWrangler());

try {
	const measured = await runScenarios(
		load,
		{ quick: QUICK, only: ONLY, rates: RATES, stepSeconds: STEP_SECONDS },
		{ reference, edgechat, workerd, core, all: servers, shards, heap },
	);
	const webhooks = !ONLY || ONLY === "webhooks" ? await webhooksOnAndOff() : undefined;
	if (measured) writeReport(OUT, header, { ...measured, ...(webhooks ? { webhooks } : {}) }, servers, reference);
} finally {
	load.stop();
	for (const server of [...servers, ...shards.servers]) await server.stop();
	if (heap) await edgechatServers(heap, "heap")[0]?.stop();
	// The baseline's worktree goes once everything served from it has stopped.
	checkout?.remove();
}

/**
 * The webhooks scenario (bench/webhooks.ts), on two fresh workerd processes of this tree, webhooks
 * off and on, started after the other scenarios and stopped after it.
 */
async function webhooksOnAndOff(): Promise<WebhooksMeasured> {
	const receiver = await startBenchReceiver();
	const rich = (workerd: Awaited<ReturnType<typeof startWorkerd>>, label: string) =>
		edgechatServers(workerd, label) as [Server, Server];
	const [offPlain, off] = rich(await startWorkerd(TMPFS), "workerd, webhooks off");
	const [onPlain, on] = rich(
		await startWorkerd(TMPFS, ROOT, { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET }),
		"workerd, webhooks on",
	);
	try {
		return await webhooksScenario(load, { off, on }, receiver, { quick: QUICK, stepSeconds: STEP_SECONDS });
	} finally {
		await offPlain.stop();
		await onPlain.stop();
		await receiver.stop();
	}
}
