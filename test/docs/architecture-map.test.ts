/**
 * ARCHITECTURE.md's map ("Where things are") stays true to the code: every source file of the
 * Worker and of the page is named there, and every file it names exists.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local-server.ts";

const architecture = readFileSync(path.join(ROOT, "ARCHITECTURE.md"), "utf8");
const start = architecture.indexOf("\n## Where things are\n");
const map = architecture.slice(start, architecture.indexOf("\n## ", start + 1));

/** Every file under `dir` (relative to the repository root), recursively. */
function filesUnder(dir: string): string[] {
	return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
		.filter((entry) => entry.isFile())
		.map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

describe("ARCHITECTURE.md's map", () => {
	it("is there", () => {
		expect(start).toBeGreaterThan(0);
		expect(map.split("\n").length).toBeGreaterThan(50);
	});

	it("names every file in src/ and every script and page file in public/", () => {
		const files = [
			...filesUnder("src"),
			...filesUnder("public").filter((file) => /\.(js|html|css)$/.test(file) && !file.startsWith("public/vendor/")),
		];
		expect(files.length).toBeGreaterThan(10);
		expect(files.filter((file) => !map.includes(`\`${file}\``))).toEqual([]);
	});

	it("names no file that does not exist", () => {
		const named = [...map.matchAll(/`((?:src|public|test|bench|docs|scripts|examples)\/[^`\s]*)`/g)].map(
			(match) => match[1] as string,
		);
		expect(named.length).toBeGreaterThan(10);
		expect(named.filter((file) => !existsSync(path.join(ROOT, file)))).toEqual([]);
	});
});
