/**
 * The room-level fuzz suite at a size `npm test` can afford (seconds); `npm run fuzz` runs
 * thousands (docs/fuzz.md). A new seed every run, printed with the replay command on failure.
 */
import { expect, it } from "vitest";
import { fuzzRoom, replayCommand } from "./run.ts";

const CASES = 60;

it(`answers ${CASES} seeded cases of good and bad frames as PROTOCOL.md says, losing nothing`, async () => {
	const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
	const report = await fuzzRoom({ cases: CASES, seed });
	const replay = `seed ${seed}; run it again with: ${replayCommand({ cases: CASES, seed })}`;
	expect(report.problems, replay).toEqual([]);
	expect(report.tally.cases, replay).toBeGreaterThanOrEqual(CASES);
	expect(report.tally.stored, replay).toBeGreaterThan(0);
});
