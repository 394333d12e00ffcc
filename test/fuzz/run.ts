/**
 * A fuzz run: a local server with the shipped settings, one room under fuzz, `cases` seeded
 * cases from fast-check, then the end-of-run checks and the server's log. On a failure it
 * reports the seed, the shrunk case and the command that replays exactly that case.
 */
import fc from "fast-check";
import { startMiniflare } from "../../scripts/local-server.ts";
import { freshRoom } from "../support/room-names.ts";
import { fuzzCase } from "./frames.ts";
import { RoomUnderFuzz, type Tally } from "./room-under-fuzz.ts";

/** What to run. */
export interface FuzzOptions {
	readonly cases: number;
	readonly seed: number;
	/** fast-check's path to one (shrunk) case, to replay only that. */
	readonly path?: string;
	/**
	 * `SHARD_SIZE` for the room: small, and the observers and the cases' connections are spread
	 * over the room's object and its shards (ARCHITECTURE.md, "One room, many objects").
	 */
	readonly shardSize?: number;
}

/** What a run found. */
export interface FuzzReport {
	readonly seed: number;
	readonly seconds: number;
	readonly tally: Tally;
	/** Lines the room logged, by event (`flood_closed` is expected once per 1008). */
	readonly logged: Record<string, number>;
	/** Everything that went against PROTOCOL.md or the end-of-run checks (empty: none). */
	readonly problems: string[];
}

/** The command that runs `options` again. */
export function replayCommand(options: FuzzOptions): string {
	const shards = options.shardSize === undefined ? "" : ` --shard-size ${options.shardSize}`;
	return `npm run fuzz -- --cases ${options.cases} --seed ${options.seed}${shards}${options.path ? ` --path ${options.path}` : ""}`;
}

/** Runs the fuzz suite once. */
export async function fuzzRoom(options: FuzzOptions): Promise<FuzzReport> {
	const started = Date.now();
	const lines: { level: string; message: string }[] = [];
	// Thousands of connections from this one machine: the limits per address (guards of the Worker
	// and the room, tested on their own in test/workerd/auth/room-request-limit.test.ts and
	// test/workerd/shards/per-address.test.ts) are off here.
	const vars: Record<string, string> = { RATE_LIMIT_ROOM_REQUESTS: "false", MAX_CONNECTIONS_PER_ADDRESS: "0" };
	if (options.shardSize !== undefined) vars.SHARD_SIZE = String(options.shardSize);
	const server = await startMiniflare({ vars, onLog: (line) => lines.push(line) });
	const problems: string[] = [];
	try {
		const room = await RoomUnderFuzz.open(server, freshRoom("fuzz"));
		const property = fc.asyncProperty(fuzzCase, async (one) => {
			const found = await room.run(one);
			if (found.length > 0) throw new Error(found.join("\n"));
		});
		const details = await fc.check(property, { seed: options.seed, numRuns: options.cases, path: options.path });
		if (details.failed) {
			const path = details.counterexamplePath ?? undefined;
			problems.push(
				`seed ${options.seed}, after ${details.numRuns} cases (${details.numShrinks} shrinks)`,
				`shortest failing case: ${fc.stringify(details.counterexample?.[0])}`,
				`what went wrong: ${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`,
				`replay it: ${replayCommand({ ...options, ...(path ? { path } : {}) })}`,
			);
		}
		problems.push(...(await room.finish()));
		const logged: Record<string, number> = {};
		for (const line of lines) {
			const event = eventOf(line.message);
			logged[event] = (logged[event] ?? 0) + 1;
			if (event !== "flood_closed") problems.push(`server log (${line.level}): ${line.message.slice(0, 300)}`);
		}
		if ((logged.flood_closed ?? 0) !== room.tally.floodCloses) {
			problems.push(`${logged.flood_closed ?? 0} flood_closed lines for ${room.tally.floodCloses} closes with 1008`);
		}
		return { seed: options.seed, seconds: (Date.now() - started) / 1000, tally: room.tally, logged, problems };
	} finally {
		await server.stop();
	}
}

/** The `event` of a line the room logged (src/deployment/log-event.ts), or the line's start for anything else. */
function eventOf(message: string): string {
	try {
		const parsed = JSON.parse(message) as { event?: unknown };
		if (typeof parsed.event === "string") return parsed.event;
	} catch {
		// Not one of the room's lines: reported whole below.
	}
	return `other: ${message.slice(0, 40)}`;
}
