/**
 * What the room simulation (bench/simulate.ts) asks of its stand-in shards
 * (bench/simulate/stand-in.ts) and what they tell it back: plain data, shared by the driver in
 * Node and the stand-ins in workerd.
 */

/** What one stand-in does in a scenario. */
export interface Scenario {
	/** How long it runs (the deploy's rejoins all fall inside it). */
	readonly seconds: number;
	/** Messages this stand-in's members send per second, on average (Poisson). */
	readonly messagesPerSecond: number;
	/** Members who leave and come back per second, on average (each back 1 to 3 s later). */
	readonly churnPerSecond: number;
	/** A deploy: the stand-in starts empty (as a reset shard), every member hellos within this many ms. */
	readonly rejoinWithinMs: number | null;
}

/** What a stand-in saw during a scenario. */
export interface StandInReport {
	/** Batches and submissions sent to the room, and their size as JSON. */
	batches: number;
	submissions: number;
	batchBytes: number;
	/** Pushes from the room, their deliveries, and their size as JSON. */
	pushes: number;
	deliveries: number;
	pushBytes: number;
	/** Hellos sent, welcomes that answered one, and welcomes for nobody waiting (twice, or stale). */
	hellos: number;
	welcomes: number;
	strayWelcomes: number;
	/** Members still waiting for a welcome, and doings not yet sent to the room. */
	waiting: number;
	pending: number;
	/** Smallest and largest room count a welcome gave, and the last count a presence event gave. */
	welcomeCountMin: number;
	welcomeCountMax: number;
	presenceCount: number | null;
	/** One event per join or leave (a room under the presence limit), errors and refusals. */
	joinLeaveEvents: number;
	errors: number;
	/** Newest message id delivered, and ids that came twice or out of order. */
	latestId: number;
	disorderedIds: number;
	/** When the last waiting member was welcomed (ms since the scenario began), or null. */
	allWelcomedMs: number | null;
}

/** One scenario's figures for one size. */
export interface SimulatedScenario {
	members: number;
	shards: number;
	scenario: string;
	wallSeconds: number;
	/** CPU seconds per second charged to the room's object, and the isolate's GC and runtime samples no frame owns. */
	roomCpu: number;
	unchargedCpu: number;
	standInCpu: number;
	/** Batches the stand-ins sent the room, and pushes (or relay calls) the room made, per second. */
	callsIn: number;
	callsOut: number;
	/** Times the room's object was started again during the scenario (its count of calls out restarts). */
	restarts: number;
	bytesIn: number;
	bytesOut: number;
	/**
	 * The isolate's heap (V8's and the runtime's objects, as the platform's 128 MB counts it), sampled
	 * four times a second: at its largest (garbage included) and at its lowest (about what is kept:
	 * workerd's inspector does not answer a request to collect garbage, see bench/heap.ts).
	 */
	peakHeapMiB: number;
	lowestHeapMiB: number;
	/** Deploy: ms until every member was welcomed again (null: not within the grace). */
	allBackMs: number | null;
	hellos: number;
	welcomes: number;
	strayWelcomes: number;
	waiting: number;
	welcomeCounts: [number, number];
	presenceCounts: [number, number];
	roomMembers: number;
	joinLeaveEvents: number;
	errors: number;
	disorderedIds: number;
}
