/**
 * Memory as the platform counts it. A Durable Object's 128 MB limit is its isolate's heap, not the
 * process's resident memory: locally the resident figure also holds workerd's socket machinery
 * (and under `wrangler dev` a proxy), so a room can look heavy on /proc and still be far inside
 * its limit, or the other way round. This scenario asks the isolate itself, through the V8
 * inspector of a workerd started for it (`startWorkerd(..., { inspect: true })`; the throughput
 * servers run without one), and reports resident memory beside it:
 *
 * - heap per idle rich connection: the isolate's heap after a full garbage collection, before and
 *   after `idle` rich clients have joined one room and gone quiet;
 * - heap while a reader stalls: the slow-consumer job (bench/load.ts `stall`) against the same
 *   server, the isolate's heap sampled twice a second (without forcing a collection, so the peak
 *   includes garbage: an upper bound) against its collected size before.
 */
import { Inspector } from "./inspector.ts";
import type { StallResult } from "./load.ts";
import { rssKiB } from "./measure.ts";
import { type LoadGenerator, socketUrl, type Workerd } from "./processes.ts";

/** The isolate's heap, read through an inspector session. */
export class Heap {
	readonly #inspector: Inspector;

	private constructor(inspector: Inspector) {
		this.#inspector = inspector;
	}

	/** Opens a session on the workerd whose inspector listens on `port`. */
	static async open(port: number): Promise<Heap> {
		return new Heap(await Inspector.open(port));
	}

	/** The isolate's heap now, in bytes: V8's own and the embedder's (the runtime's objects). */
	async used(): Promise<number> {
		const usage = await this.#inspector.call<{ usedSize: number; embedderHeapUsedSize?: number }>(
			"Runtime.getHeapUsage",
		);
		return usage.usedSize + (usage.embedderHeapUsedSize ?? 0);
	}

	/**
	 * The heap after a full collection. workerd's inspector does not answer
	 * `HeapProfiler.collectGarbage`, but a heap snapshot collects first; the snapshot's chunks
	 * arrive as events, which `Inspector.call` drops.
	 */
	async collected(): Promise<number> {
		await this.#inspector.call("HeapProfiler.enable");
		await this.#inspector.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
		return this.used();
	}

	close(): void {
		this.#inspector.close();
	}
}

/** A change in bytes as MiB with its sign: `+4.2 MiB`, `-1.6 MiB`. */
export function signedMiB(bytes: number): string {
	return `${bytes < 0 ? "-" : "+"}${(Math.abs(bytes) / 2 ** 20).toFixed(1)} MiB`;
}

/** What the heap scenario measured. */
export interface HeapMeasured {
	idle: { connections: number; heapBytesPerConnection: number; residentKiBPerConnection: number };
	stall: StallResult & { heapGrowthBytes: number; heapAfterBytes: number; residentGrowthKiB: number };
}

/** Runs both measurements on `workerd` (started with an inspector). */
export async function heapScenario(
	load: LoadGenerator,
	workerd: Workerd,
	idle: number,
	stallSeconds: number,
	log: (line: string) => void,
): Promise<HeapMeasured> {
	if (workerd.inspectorPort === undefined) throw new Error("the heap scenario needs a workerd with an inspector");
	const inspector = await Heap.open(workerd.inspectorPort);
	const pid = workerd.child.pid ?? 0;
	try {
		log(`\nisolate heap (V8 inspector): ${idle} idle rich connections, then a stalled reader`);
		const heapBefore = await inspector.collected();
		const rssBefore = rssKiB(pid);
		await load.run({ kind: "hold", url: socketUrl(workerd.port), mode: "rich", connections: idle });
		const heapAfter = await inspector.collected();
		const idleResult = {
			connections: idle,
			heapBytesPerConnection: (heapAfter - heapBefore) / idle,
			residentKiBPerConnection: (rssKiB(pid) - rssBefore) / idle,
		};
		await load.run({ kind: "release" });
		log(
			`  ${idleResult.heapBytesPerConnection.toFixed(0)} bytes of isolate heap per idle rich connection (${idleResult.residentKiBPerConnection.toFixed(1)} KiB resident)`,
		);

		const stallBefore = await inspector.collected();
		const stallRss = rssKiB(pid);
		let heapPeak = stallBefore;
		let rssPeak = stallRss;
		let sampling = false;
		const sample = async () => {
			heapPeak = Math.max(heapPeak, await inspector.used());
			rssPeak = Math.max(rssPeak, rssKiB(pid));
		};
		let sampler: ReturnType<typeof setInterval> | undefined;
		const result = await load.run<StallResult>(
			{
				kind: "stall",
				url: socketUrl(workerd.port),
				clients: 10,
				senders: 4,
				frameBytes: 16_384,
				perSecond: 50,
				seconds: stallSeconds,
			},
			(phase) => {
				if (phase === "sending") {
					sampler = setInterval(() => {
						if (sampling) return;
						sampling = true;
						void sample().finally(() => {
							sampling = false;
						});
					}, 500);
				} else clearInterval(sampler);
			},
		);
		clearInterval(sampler);
		await sample();
		const stall = {
			...result,
			heapGrowthBytes: heapPeak - stallBefore,
			heapAfterBytes: (await inspector.collected()) - stallBefore,
			residentGrowthKiB: rssPeak - stallRss,
		};
		log(
			`  stalled reader: ${(result.addressedBytes / 2 ** 20).toFixed(0)} MiB addressed to it; isolate heap at most ${signedMiB(stall.heapGrowthBytes)} (${signedMiB(stall.heapAfterBytes)} once collected), resident ${signedMiB(stall.residentGrowthKiB * 1024)}; stalled client ${result.stalledClose === null ? "never closed" : `closed with ${result.stalledClose}`}; readers short by ${result.worstReaderShortBy}`,
		);
		return { idle: idleResult, stall };
	} finally {
		inspector.close();
	}
}
