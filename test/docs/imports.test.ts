/**
 * The layout shows the architecture only if the files do not lean on each other in circles:
 * every relative import in src/ (type-only ones included) is read, and the graph must have no
 * cycle. (There is no cap on a file's length: a file owns one decision, long where that decision
 * is one; a cap met by squeezing hid that.)
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local-server.ts";

const SRC = path.join(ROOT, "src");

/** Every .ts file of src/ (the generated .d.ts aside), relative to src/. */
function sources(): string[] {
	return readdirSync(SRC, { recursive: true, withFileTypes: true })
		.filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
		.map((entry) => path.relative(SRC, path.join(entry.parentPath, entry.name)));
}

/** The files of src/ a file imports (relative imports that stay inside src/). */
function importsOf(file: string): string[] {
	const text = readFileSync(path.join(SRC, file), "utf8");
	const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((match) =>
		path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), match[1] as string)),
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

describe("src/ imports", () => {
	it("form no circle between files", () => {
		const graph = new Map(sources().map((file) => [file, importsOf(file)]));
		expect(graph.size).toBeGreaterThan(20);
		expect([...graph.values()].flat().length).toBeGreaterThan(40);
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
