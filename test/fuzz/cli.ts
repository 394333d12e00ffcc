/**
 * `npm run fuzz -- --cases N --seed S [--shard-size K] [--path P]`: thousands of cases against one room, the
 * figures printed at the end; exits non-zero when anything went against PROTOCOL.md.
 */
import { parseArgs } from "node:util";
import { fuzzRoom, replayCommand } from "./run.ts";

const { values } = parseArgs({
	options: {
		cases: { type: "string", default: "1000" },
		seed: { type: "string" },
		path: { type: "string" },
		"shard-size": { type: "string" },
	},
});
const options = {
	cases: Number(values.cases),
	seed: values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed),
	...(values.path ? { path: values.path } : {}),
	...(values["shard-size"] ? { shardSize: Number(values["shard-size"]) } : {}),
};
if (!Number.isInteger(options.cases) || options.cases < 1 || !Number.isInteger(options.seed)) {
	console.error("usage: npm run fuzz -- --cases N --seed S [--shard-size K] [--path P]");
	process.exit(2);
}
console.log(`fuzzing one room: ${replayCommand(options)}`);
const report = await fuzzRoom(options);
const { tally } = report;
console.log(
	`${tally.cases} cases, ${tally.connections} connections, ${tally.frames} frames, ${tally.stored} messages stored, ` +
		`${tally.floodCloses} closed for flooding (1008), ${tally.oversizeCloses} for size (1009), ${tally.inexact} plain floods paced by the clock; ` +
		`log lines ${JSON.stringify(report.logged)}; ${report.seconds.toFixed(1)} s`,
);
for (const problem of report.problems) console.error(problem);
console.log(
	report.problems.length === 0
		? "no undocumented answers, nothing lost or duplicated"
		: `${report.problems.length} problems`,
);
process.exit(report.problems.length === 0 ? 0 : 1);
