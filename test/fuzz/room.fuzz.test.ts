/**
 * The room-level fuzz suite at a size `npm test` can afford (seconds); `npm run fuzz` runs
 * thousands (docs/fuzz.md). A new seed every run, printed with the replay command on failure.
 */
import { expect, it } from "vitest";
import { fuzzRoom, replayCommand } from "./run.ts";

const CASES = 60;

it.each([
	["one object", undefined],
	["a room spread over shards (SHARD_SIZE 2)", 2],
])(
	`answers ${CASES} seeded cases of good and bad frames as PROTOCOL.md says, losing nothing: %s`,
	async (_, shardSize) => {
		const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
		const options = { cases: CASES, seed, ...(shardSize === undefined ? {} : { shardSize }) };
		const report = await fuzzRoom(options);
		const replay = `seed ${seed}; run it again with: ${replayCommand(options)}`;
		expect(report.problems, replay).toEqual([]);
		expect(report.tally.cases, replay).toBeGreaterThanOrEqual(CASES);
		expect(report.tally.stored, replay).toBeGreaterThan(0);
	},
);
