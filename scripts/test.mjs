#!/usr/bin/env node
/**
 * `npm test`: every check the project has, in order, stopping at the first failure.
 *
 * 1. the generated `Env` types match wrangler.toml (`wrangler types --check`);
 * 2. TypeScript, strict, for the Worker, the Node-side tests and the page;
 * 3. Biome (lint + format);
 * 4. `wrangler deploy --dry-run` (the bundle builds and the config is valid);
 * 5. vitest: workerd, loopback end-to-end and browser projects.
 *
 * It ends with one plain line, "N passed, N failed", counting vitest's test cases.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const extra = process.argv.slice(2);

/** Runs one npm script or command; exits the whole run on failure. */
function step(title, command, args) {
	console.log(`\n▶ ${title}`);
	const started = Date.now();
	const result = spawnSync(command, args, { stdio: "inherit", env });
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	if (result.status !== 0) {
		console.error(`✖ ${title} failed after ${seconds}s`);
		console.log("0 passed, 1 failed");
		process.exit(result.status ?? 1);
	}
	console.log(`✔ ${title} (${seconds}s)`);
}

step("generated Env types are up to date", "npm", ["run", "--silent", "types:check"]);
step("typecheck (tsc, strict)", "npm", ["run", "--silent", "typecheck"]);
step("lint and format (biome)", "npm", ["run", "--silent", "lint"]);
step("bundle and config (wrangler deploy --dry-run)", "npm", ["run", "--silent", "build:check"]);

const reportDir = mkdtempSync(path.join(tmpdir(), "edgechat-vitest-"));
const report = path.join(reportDir, "report.json");
console.log("\n▶ vitest (workerd, e2e, browser)");
const vitest = spawnSync(
	"vitest",
	["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...extra],
	{ stdio: "inherit", env },
);
let passed = 0;
let failed = 0;
try {
	const summary = JSON.parse(readFileSync(report, "utf8"));
	passed = summary.numPassedTests;
	failed = summary.numFailedTests;
} catch {
	failed = 1;
}
rmSync(reportDir, { recursive: true, force: true });
if (vitest.status !== 0 && failed === 0) failed = 1;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(vitest.status === 0 && failed === 0 ? 0 : 1);
