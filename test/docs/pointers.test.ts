/**
 * A pointer from the code or the docs into a document, written as the file, a comma and the
 * quoted heading (a comment
 * citing why, a docs page sending the reader on), names a heading that exists in that file, so
 * moving a section cannot leave pointers behind it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local-server.ts";

/** The folders and files read for pointers. */
const PLACES = ["src", "public", "scripts", "bench", "test", "docs", "examples"];
const TOP = ["README.md", "ARCHITECTURE.md", "PROTOCOL.md", "wrangler.toml"];

function files(): string[] {
	const found = PLACES.flatMap((folder) =>
		readdirSync(path.join(ROOT, folder), { recursive: true, withFileTypes: true })
			.filter((entry) => entry.isFile() && /\.(ts|js|mjs|md|toml|html)$/.test(entry.name))
			.filter((entry) => !entry.parentPath.includes("vendor") && entry.name !== "pointers.test.ts")
			.map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name))),
	);
	return [...TOP, ...found];
}

/**
 * What a pointer may name in a Markdown file: its headings and the bold labels that open a
 * paragraph or a list item (`**Names** must be...`), without backticks, outside code blocks.
 */
function headingsOf(file: string): string[] {
	const text = readFileSync(path.join(ROOT, file), "utf8").replace(/^```[\s\S]*?^```/gm, "");
	const headings = [...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) => match[1] as string);
	const labels = [...text.matchAll(/^(?:- )?\*\*([^*]+?)[.:]?\*\*/gm)].map((match) => match[1] as string);
	return [...headings, ...labels].map((heading) => heading.replaceAll("`", "").trim());
}

/** Whether `heading` is named by `pointer`: the same, or begun by it (`Signed mode` names `Signed mode: identity and moderation`). */
const names = (pointer: string, heading: string) =>
	heading === pointer || (/^(?: \(|[,:])/.test(heading.slice(pointer.length)) && heading.startsWith(pointer));

/** Every pointer in `text` (a Markdown file, a comma, a quoted heading), with the file as a path from the repository's root. */
function pointersIn(text: string): { file: string; heading: string }[] {
	return [...text.matchAll(/((?:[\w-]+\/)*[\w-]+\.md|\bREADME\b),? \(?"([^"]+)"/g)].map((match) => ({
		file: match[1] === "README" ? "README.md" : (match[1] as string),
		heading: (match[2] as string).replace(/\s*\n\s*(?:[*#/]+\s*)?/g, " "),
	}));
}

/** The pointers of `files` whose file or heading does not exist, as `where: FILE, "Heading"`. */
function broken(sources: string[]): string[] {
	const headings = new Map<string, string[]>();
	const wrong: string[] = [];
	for (const source of sources) {
		for (const { file, heading } of pointersIn(readFileSync(path.join(ROOT, source), "utf8"))) {
			if (!existsSync(path.join(ROOT, file))) {
				wrong.push(`${source}: ${file} (no such file)`);
				continue;
			}
			if (!headings.has(file)) headings.set(file, headingsOf(file));
			if (!headings.get(file)?.some((named) => names(heading, named))) wrong.push(`${source}: ${file}, "${heading}"`);
		}
	}
	return wrong;
}

describe("pointers into the docs", () => {
	it("name headings that exist", () => {
		const all = files();
		expect(all.length).toBeGreaterThan(200);
		expect(all.flatMap((file) => pointersIn(readFileSync(path.join(ROOT, file), "utf8"))).length).toBeGreaterThan(50);
		expect(broken(all)).toEqual([]);
	});

	it("finds a pointer and what it points at", () => {
		expect(
			pointersIn('see PROTOCOL.md, "History", docs/operating.md ("Watching it") and README, "One\n * room"'),
		).toEqual([
			{ file: "PROTOCOL.md", heading: "History" },
			{ file: "docs/operating.md", heading: "Watching it" },
			{ file: "README.md", heading: "One room" },
		]);
		expect(headingsOf("PROTOCOL.md")).toContain("History");
		expect(headingsOf("PROTOCOL.md")).toContain("Names");
		expect(names("Signed identity and moderation", "Signed identity and moderation (AUTH_SECRET set)")).toBe(true);
		expect(names("Signed", "Signed identity and moderation")).toBe(false);
		expect(headingsOf("PROTOCOL.md").some((heading) => names("No such heading", heading))).toBe(false);
	});
});
