/**
 * The report of a whole run: the summary per server (best sustained rates, ratios to the
 * reference, CPU per million deliveries), the tables on stdout, and results.json and
 * results.svg (a bar chart of sustained fan-out) in the output directory.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { DeployResult } from "./deploy.ts";
import { type HeapMeasured, signedMiB } from "./heap.ts";
import { log, type Measured, P99_LIMIT_MS, type ShardComparison, type ShardStep, type Step } from "./scenarios.ts";
import type { SimulatedScenario } from "./simulate/scenario.ts";

/** What results.json says about the run itself, ahead of the measurements. */
export interface RunHeader {
	quick: boolean;
	tmpfs: boolean;
	date: string;
	stepSeconds: number;
}

/** A server as the report knows it: by its label. */
type Labelled = { readonly label: string };

interface Summary {
	server: string;
	fanoutSustained: number;
	/** `null` when the reference sustained no step (an overloaded machine): no ratio to give. */
	fanoutRatio: number | null;
	roomsSustained: number;
	roomsRatio: number | null;
	cpuSecondsPerMillion: number | null;
}

function bestSustained(steps: Step[], server: string): number {
	return Math.max(0, ...steps.filter((s) => s.server === server && s.sustained).map((s) => s.deliveriesPerSecond));
}

/** `value / reference`, or `null` when the reference is 0 (it sustained nothing). */
function ratio(value: number, reference: number): number | null {
	return reference > 0 ? value / reference : null;
}

/** A ratio as the tables print it. */
function times(ratio: number | null): string {
	return ratio === null ? "-" : `${ratio.toFixed(2)}x`;
}

/** One row per server (in `servers` order), with ratios to `reference`. */
function summarize(measured: Measured, servers: readonly Labelled[], reference: Labelled): Summary[] {
	const { fanout, rooms } = measured;
	const ref = reference.label;
	return servers.map(({ label: server }) => {
		const sustained = bestSustained(fanout, server);
		const roomsSustained = bestSustained(rooms, server);
		const cpuStep = fanout.filter((x) => x.server === server && x.sustained).at(-1);
		return {
			server,
			fanoutSustained: Math.round(sustained),
			fanoutRatio: ratio(sustained, bestSustained(fanout, ref)),
			roomsSustained: Math.round(roomsSustained),
			roomsRatio: ratio(roomsSustained, bestSustained(rooms, ref)),
			cpuSecondsPerMillion: cpuStep ? (cpuStep.serverCpuSeconds / cpuStep.delivered) * 1e6 : null,
		};
	});
}

/** The two Markdown tables printed at the end of a run. */
function table(summary: Summary[], measured: Measured): string {
	return [
		"",
		"| server | fan-out sustained deliveries/s | vs reference | 50 rooms sustained | vs reference | p50 / p99 at 40k/s (ms) | server CPU s per million deliveries |",
		"| --- | --- | --- | --- | --- | --- | --- |",
		...summary.map((s) => {
			const lat = measured.latencyAt40k.find((l) => l.server === s.server);
			const latency = lat?.p50 == null ? "-" : `${lat.p50.toFixed(1)} / ${lat.p99?.toFixed(1)}`;
			return `| ${s.server} | ${s.fanoutSustained} | ${times(s.fanoutRatio)} | ${s.roomsSustained || "-"} | ${s.roomsSustained ? times(s.roomsRatio) : "-"} | ${latency} | ${s.cpuSecondsPerMillion?.toFixed(2) ?? "-"} |`;
		}),
		"",
		"| server | connections/s | KiB per idle connection |",
		"| --- | --- | --- |",
		...measured.setup.map(
			(s) => `| ${s.server} | ${Math.round(s.connectionsPerSecond)} | ${s.kibPerConnection.toFixed(1)} |`,
		),
		"",
		"| server | slow consumer: MiB addressed to it | server memory growth (MiB) | stalled client | frames the readers missed |",
		"| --- | --- | --- | --- | --- |",
		...measured.slowConsumer.map(
			(s) =>
				`| ${s.server} | ${(s.addressedBytes / 2 ** 20).toFixed(0)} | ${(s.serverGrowthKiB / 1024).toFixed(1)} | ${s.stalledClose === null ? "never closed" : `closed, ${s.stalledClose}`} | ${s.worstReaderShortBy} |`,
		),
		"",
		...(measured.heap ? heapRows(measured.heap) : []),
		...(measured.reactions ? reactionRows(measured.reactions) : []),
		...(measured.webhooks ? webhookRows(measured.webhooks) : []),
		"| server | reconnect storm: clients | all back (s) | reconnects/s | all caught up (s) | messages lost | duplicated |",
		"| --- | --- | --- | --- | --- | --- | --- |",
		...measured.storm.map(
			(s) =>
				`| ${s.server} | ${s.clients} | ${(s.reconnectMs / 1000).toFixed(1)} | ${Math.round((s.clients * 1000) / s.reconnectMs)} | ${(s.catchUpMs / 1000).toFixed(1)} | ${s.lost} | ${s.duplicated} |`,
		),
	].join("\n");
}

/** The webhooks tables (bench/webhooks.ts): the fan-out off and on, rate by rate, and the latency. */
function webhookRows(w: NonNullable<Measured["webhooks"]>): string[] {
	const rates = [...new Set(w.fanout.map((s) => s.rate))];
	const cell = (step: Measured["fanout"][number] | undefined) =>
		step
			? `${Math.round(step.deliveriesPerSecond)} / ${((step.serverCpuSeconds / step.delivered) * 1e6).toFixed(2)} / ${step.p99.toFixed(1)}${step.sustained ? "" : " (not sustained)"}`
			: "-";
	const [off, on] = [...new Set(w.fanout.map((s) => s.server))];
	return [
		"| webhooks: msg/s | off: deliveries/s / CPU s per million / p99 ms | on: deliveries/s / CPU s per million / p99 ms | CPU on / off |",
		"| --- | --- | --- | --- |",
		...rates.map((rate) => {
			const a = w.fanout.find((s) => s.server === off && s.rate === rate);
			const b = w.fanout.find((s) => s.server === on && s.rate === rate);
			const ratio =
				a && b ? `${(b.serverCpuSeconds / b.delivered / (a.serverCpuSeconds / a.delivered)).toFixed(2)}x` : "-";
			return `| ${rate} | ${cell(a)} | ${cell(b)} | ${ratio} |`;
		}),
		"",
		`| webhook delivery at ${w.latency.rate} msg/s | p50 (ms) | p99 (ms) |`,
		"| --- | --- | --- |",
		`| send -> the sender's own copy (the chat) | ${w.latency.echo.p50.toFixed(1)} | ${w.latency.echo.p99.toFixed(1)} |`,
		`| send -> message.created at the receiver | ${w.latency.webhook.p50.toFixed(1)} | ${w.latency.webhook.p99.toFixed(1)} |`,
		`| events received / messages sent (fan-out, webhooks on) | ${w.received} / ${w.sentWithWebhooks} | missing in the latency run: ${w.latency.missing} |`,
		"",
	];
}

/** The reaction storm's table (bench/reaction-storm.ts). */
function reactionRows(r: NonNullable<Measured["reactions"]>): string[] {
	return [
		"| reaction storm | members | frames per member (mean / max) | bytes per member | reactions events per member | log entries | all counted (s) | lost |",
		"| --- | --- | --- | --- | --- | --- | --- | --- |",
		`| ${r.server} | ${r.members} | ${r.framesPerMember.mean.toFixed(1)} / ${r.framesPerMember.max} | ${Math.round(r.bytesPerMember.mean)} | ${r.reactionEventsPerMember.mean.toFixed(1)} | ${r.logEntries} | ${(r.allCountedMs / 1000).toFixed(2)} | ${r.lost} |`,
		"",
	];
}

/** The isolate-heap table (bench/heap.ts), with the 128 MB limit's point of view beside resident memory. */
function heapRows({ idle, stall }: HeapMeasured): string[] {
	return [
		"| edgechat isolate heap (V8 inspector) | heap | resident |",
		"| --- | --- | --- |",
		`| per idle rich connection (${idle.connections} joined) | ${idle.heapBytesPerConnection.toFixed(0)} bytes | ${idle.residentKiBPerConnection.toFixed(1)} KiB |`,
		`| growth while ${(stall.addressedBytes / 2 ** 20).toFixed(0)} MiB is addressed to a stalled reader (peak, uncollected / collected after) | ${signedMiB(stall.heapGrowthBytes)} / ${signedMiB(stall.heapAfterBytes)} | ${signedMiB(stall.residentGrowthKiB * 1024)} |`,
		"",
	];
}

/** What the steps of one server at one rate add up to (every round). */
function pooled(steps: ShardStep[], stepSeconds: number) {
	const sum = (f: (s: ShardStep) => number) => steps.reduce((total, s) => total + f(s), 0);
	const delivered = sum((s) => s.delivered);
	const seconds = sum((s) => s.measuredSeconds);
	const called = steps.every((s) => s.calls !== null);
	return {
		delivered,
		cpuPerMillion: delivered ? (sum((s) => s.serverCpuSeconds) / delivered) * 1e6 : 0,
		// The steps' p50 and p99, each step's own (the quantiles of the pooled deliveries are not kept).
		p50: steps.map((s) => s.p50.toFixed(1)).join(", "),
		p99: steps.map((s) => s.p99.toFixed(1)).join(", "),
		lost: sum((s) => s.lost),
		duplicates: sum((s) => s.duplicates),
		cpuShare: seconds ? sum((s) => s.serverCpuSeconds) / seconds : 0,
		// The room object's calls per second of sending, from and to its shards.
		submitted: called ? sum((s) => s.calls?.submitted ?? 0) / (steps.length * stepSeconds) : null,
		pushed: called ? sum((s) => s.calls?.pushed ?? 0) / (steps.length * stepSeconds) : null,
		bytesPerDelivery: delivered ? sum((s) => s.bytesPerDelivery * s.delivered) / delivered : 0,
	};
}

/**
 * The shards scenario's tables: per rate, each server's CPU per delivery (all rounds pooled), the
 * ratio of the sharded room's to the one-object room's, latency, losses and the room object's
 * calls per second; then the opening of each room.
 */
export function shardTable(comparison: ShardComparison): string {
	const { members, steps, setup, stepSeconds } = comparison;
	const labels = [...new Set(steps.map((s) => s.server))];
	const rates = [...new Set(steps.map((s) => s.rate))];
	const rows: string[] = [];
	for (const rate of rates) {
		const [base, ...others] = labels.map((label) =>
			pooled(
				steps.filter((s) => s.server === label && s.rate === rate),
				stepSeconds,
			),
		);
		for (const [i, p] of [base, ...others].entries()) {
			if (!p) continue;
			const ratio = base?.cpuPerMillion ? p.cpuPerMillion / base.cpuPerMillion : null;
			const calls =
				p.submitted === null || p.pushed === null ? "-" : `${p.submitted.toFixed(1)} in / ${p.pushed.toFixed(1)} out`;
			rows.push(
				`| ${rate} | ${labels[i]} | ${p.delivered.toLocaleString("en")} | ${p.cpuPerMillion.toFixed(2)} | ${times(ratio)} | ${(p.cpuShare * 100).toFixed(0)}% | ${p.p50} | ${p.p99} | ${p.lost} / ${p.duplicates} | ${calls} | ${p.bytesPerDelivery.toFixed(1)} |`,
			);
		}
	}
	return [
		"",
		`One room of ${members} plain clients (${comparison.senders} sending), ${stepSeconds} s steps:`,
		"",
		"| msg/s | server | deliveries | server CPU s per million deliveries | vs one object | server CPU while sending | p50 per step (ms) | p99 per step (ms) | lost / duplicated | room object calls/s | payload bytes per delivery |",
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
		...rows,
		"",
		"| server | round | setup (s) | connections/s | KiB resident per connection | connections per object | emptied after close (s) |",
		"| --- | --- | --- | --- | --- | --- | --- |",
		...setup.map(
			(s) =>
				`| ${s.server} | ${s.round} | ${s.setupSeconds.toFixed(1)} | ${Math.round(s.connectionsPerSecond)} | ${s.kibPerConnection.toFixed(1)} | ${s.parts.join(" / ")} | ${s.emptiedSeconds.toFixed(1)} |`,
		),
	].join("\n");
}

/** A bar chart of sustained fan-out per server, with the ratio to the reference. */
function chart(summary: Summary[], quick: boolean): string {
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
			return `<text x="${left - 10}" y="${y + bar / 2 + 5}" text-anchor="end">${s.server}</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${color}"/><text x="${left + w + 8}" y="${y + bar / 2 + 5}">${s.fanoutSustained.toLocaleString("en")} (${times(s.fanoutRatio)})</text>`;
		})
		.join("\n");
	return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">
<title>edgechat fan-out benchmark</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="20" y="28" font-size="16" font-weight="bold">Sustained deliveries/s, 1 room x 200 clients x 10 senders (zero loss, p99 &lt;= ${P99_LIMIT_MS} ms)${quick ? " [quick run]" : ""}</text>
${bars}
</svg>
`;
}

/**
 * Prints the tables and writes results.json and results.svg to `out`: one row per server, in
 * the order of `servers`, with ratios to `reference`.
 */
export function writeReport(
	out: string,
	header: RunHeader,
	measured: Measured,
	servers: readonly Labelled[],
	reference: Labelled,
): void {
	const summary = summarize(measured, servers, reference);
	console.log(table(summary, measured));
	if (measured.shards) console.log(shardTable(measured.shards));
	writeFileSync(path.join(out, "results.json"), `${JSON.stringify({ ...header, ...measured, summary }, null, 2)}\n`);
	writeFileSync(path.join(out, "results.svg"), chart(summary, header.quick));
	log(`\nwrote ${path.join(out, "results.json")} and results.svg`);
}

/** The local deploy (bench/deploy.ts) as a table for bench/README.md. */
export function deployTable(result: DeployResult): string {
	const seconds = (ms: number | null) => (ms === null ? "not all" : (ms / 1000).toFixed(1));
	const calls = result.roomCalls;
	return [
		"",
		`A local deploy: ${result.members} rich members over ${result.objects} objects (${result.partsUsed} holding sockets), the server stopped and started on the same storage; ${result.sent} messages sent during it:`,
		"",
		"| members | joined in (s) | server back in (s) | welcomed again: median / 90% / all (s) | all caught up, counts right (s) | lost / duplicated | counts off | room object: requests / submits in / member lists / pushes out | CPU s: new server / members | room's record at the end |",
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
		`| ${result.members} | ${seconds(result.joinMs)} | ${seconds(result.restartMs)} | ${seconds(result.backP50Ms)} / ${seconds(result.backP90Ms)} / ${seconds(result.allBackMs)} | ${seconds(result.allCaughtUpMs)} | ${result.lost} / ${result.duplicated} | ${result.countsOff} (${result.notBack} not back) | ${result.roomRequests} / ${calls.submitted} / ${calls.memberLists} / ${calls.pushed} | ${result.serverCpuSeconds.toFixed(1)} / ${result.membersCpuSeconds.toFixed(1)} | ${result.roomConnections} connections, ${result.roomMembers} members |`,
		`Closes and refusals while coming back, by code (1006: the server was down): ${JSON.stringify(result.closes)}`,
		"",
	].join("\n");
}

/** The room simulation's table (bench/simulate.ts): one row per size and scenario. */
export function simulateTable(results: readonly SimulatedScenario[], windowSeconds: number): string {
	const round = (value: number) => Math.round(value).toLocaleString("en-US");
	const rows = results.map((r) => {
		const back = r.scenario === "deploy" ? (r.allBackMs === null ? "not all" : (r.allBackMs / 1000).toFixed(1)) : "-";
		const counts = r.welcomes > 0 ? `${round(r.welcomeCounts[0])}-${round(r.welcomeCounts[1])}` : "-";
		const told = r.presenceCounts[0] < 0 ? "-" : `${round(r.presenceCounts[0])}-${round(r.presenceCounts[1])}`;
		return `| ${round(r.members)} | ${r.shards} | ${r.scenario} | ${r.roomCpu.toFixed(3)} + ${r.unchargedCpu.toFixed(3)} | ${round(r.callsIn)} / ${round(r.callsOut)}${r.restarts > 0 ? ` (room object restarted ${r.restarts}x)` : ""} | ${(r.bytesIn / 1e3).toFixed(0)} / ${(r.bytesOut / 1e3).toFixed(0)} | ${r.peakHeapMiB.toFixed(0)} / ${r.lowestHeapMiB.toFixed(0)} | ${round(r.hellos)} / ${round(r.welcomes)} / ${r.strayWelcomes} / ${r.waiting} | ${back} | ${counts} | ${told} / ${round(r.roomMembers)} | ${r.joinLeaveEvents} / ${r.errors} / ${r.disorderedIds} |`;
	});
	return [
		"",
		`The room's object simulated with stand-in shards (each scenario's window ${windowSeconds} s; a deploy resets the room's object and every shard, every member back within it):`,
		"",
		"| members | shards | scenario | room CPU s/s (+ uncharged) | calls in / out per s | kB/s in / out | heap MiB: peak / lowest | hellos / welcomes / stray / waiting | all back (s) | counts in welcomes | presence count told / room's | join-leave events / errors / ids out of order |",
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
		...rows,
		"",
	].join("\n");
}
