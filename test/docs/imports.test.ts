/**
 * The layout shows the architecture only if the files do not lean on each other in circles:
 * every relative import of the project's own TypeScript (src/, bench/, scripts/; type-only
 * imports included) is read, and the graph must have no cycle, between files nor between the
 * folders of src/ (each folder is a layer: wire/ at the bottom, index.ts at the top). There is
 * no cap on a file's length: a file owns one decision, long where that decision is one; a cap
 * met by squeezing hid that.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local-server.ts";

/** The folders whose files are read. */
const FOLDERS = ["src", "bench", "scripts"];

/** Every .ts file of those folders (generated .d.ts aside), relative to the root. */
function sources(): string[] {
	return FOLDERS.flatMap((folder) =>
		readdirSync(path.join(ROOT, folder), { recursive: true, withFileTypes: true })
			.filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
			.map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name))),
	);
}

/** The project's own files a file imports (its relative imports of .ts files, within the repository). */
function importsOf(file: string): string[] {
	const text = readFileSync(path.join(ROOT, file), "utf8");
	const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((match) =>
		path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), match[1] as string)),
	);
	return targets.filter((target) => !target.startsWith("..") && target.endsWith(".ts"));
}

/** A cycle in the import graph, as the files in order, or `null`. */
function findCycle(graph: Map<string, string[]>): string[] | null {
	const state = new Map<string, "open" | "done">();
	const stack: string[] = [];
	const visit = (file: string): string[] | null => {
		if (state.get(file) === "done") return null;
		if (state.get(file) === "open") return [...stack.slice(stack.indexOf(file)), file];
		state.set(file, "open");
		stack.push(file);
		for (const next of graph.get(file) ?? []) {
			const cycle = visit(next);
			if (cycle) return cycle;
		}
		stack.pop();
		state.set(file, "done");
		return null;
	};
	for (const file of graph.keys()) {
		const cycle = visit(file);
		if (cycle) return cycle;
	}
	return null;
}

describe("imports in src/, bench/ and scripts/", () => {
	it("form no circle between files", () => {
		const graph = new Map(sources().map((file) => [file, importsOf(file)]));
		expect(graph.size).toBeGreaterThan(90);
		expect([...graph.values()].flat().length).toBeGreaterThan(200);
		for (const folder of FOLDERS) expect([...graph.keys()].some((file) => file.startsWith(`${folder}/`))).toBe(true);
		expect(findCycle(graph)).toBeNull();
	});

	it("form no circle between the folders of src/ (a file at the root of src/ is a folder of its own)", () => {
		const folderOf = (file: string) => (file.split("/").length > 2 ? path.dirname(file) : file);
		const graph = new Map<string, string[]>();
		for (const file of sources().filter((file) => file.startsWith("src/"))) {
			const from = folderOf(file);
			const to = importsOf(file)
				.filter((target) => target.startsWith("src/"))
				.map(folderOf)
				.filter((folder) => folder !== from);
			graph.set(from, [...(graph.get(from) ?? []), ...to]);
		}
		expect(graph.size).toBeGreaterThan(8);
		expect(findCycle(graph)).toBeNull();
	});

	it("the cycle finder finds a circle when there is one", () => {
		const graph = new Map([
			["a.ts", ["b.ts"]],
			["b.ts", ["c.ts"]],
			["c.ts", ["a.ts"]],
		]);
		expect(findCycle(graph)).toEqual(["a.ts", "b.ts", "c.ts", "a.ts"]);
	});
});
