/**
 * README.md is an entrance (what it is, run it, use it, deploy it, and a link for everything
 * else), so it stays short and opens with its table of contents; and the links between the
 * docs (README.md, ARCHITECTURE.md, PROTOCOL.md, docs/) point at files and headings that exist,
 * so moving a section cannot leave a link behind.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local-server.ts";
import { DOCS, read } from "../support/docs.ts";

/** A markdown text without its fenced code blocks (no headings or links are read in code). */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, "");

/** The anchor GitHub gives a heading: lower case, punctuation but `-` and `_` dropped, spaces as `-`. */
function anchorOf(heading: string): string {
	return heading
		.trim()
		.toLowerCase()
		.replace(/[^\p{L}\p{N}\s_-]/gu, "")
		.replace(/ /g, "-");
}

/** The anchors of every heading of a markdown text. */
function anchorsOf(text: string): Set<string> {
	return new Set([...prose(text).matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1] as string)));
}

/** Every relative link of a doc (`[text](target)`) that points at no file, or at no heading of it. */
function brokenLinks(file: string, text = read(file)): string[] {
	const broken: string[] = [];
	for (const match of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
		const link = match[1] as string;
		if (/^[a-z]+:/.test(link)) continue;
		const [target = "", anchor] = link.split("#");
		const resolved = target === "" ? file : path.normalize(path.join(path.dirname(file), target));
		if (!existsSync(path.join(ROOT, resolved))) broken.push(`${file}: ${link}`);
		else if (anchor !== undefined && resolved.endsWith(".md") && !anchorsOf(read(resolved)).has(anchor))
			broken.push(`${file}: ${link}`);
	}
	return broken;
}

const readme = read("README.md");

describe("README.md", () => {
	it("is under 250 lines", () => {
		expect(readme.split("\n").length).toBeLessThan(250);
	});

	it("opens with a table of contents of its own headings, every one of them", () => {
		const lines = readme.split("\n");
		expect(lines[0]).toMatch(/^# /);
		const rest = lines.slice(1).filter((line) => line.trim() !== "");
		const contents = rest.slice(
			0,
			rest.findIndex((line) => !/^\s*- \[/.test(line)),
		);
		const targets = contents.map((line) => /^\s*- \[[^\]]+\]\(#([^)]+)\)$/.exec(line)?.[1] ?? `<not a link: ${line}>`);
		const headings = [...prose(readme).matchAll(/^## (.+)$/gm)].map((match) => anchorOf(match[1] as string));
		expect(headings.length).toBeGreaterThan(5);
		expect(targets).toEqual(headings);
	});
});

describe("links between the docs", () => {
	it("point at files and headings that exist", () => {
		expect(DOCS.length).toBeGreaterThan(5);
		expect(DOCS.flatMap((file) => brokenLinks(file))).toEqual([]);
	});

	it("finds a link that points nowhere", () => {
		expect(anchorOf("Signed identity and moderation (`AUTH_SECRET` set)")).toBe(
			"signed-identity-and-moderation-auth_secret-set",
		);
		const text = "[a](ARCHITECTURE.md#no-such-heading), [b](docs/no-such-file.md), [c](docs/operating.md#settings)";
		expect(brokenLinks("README.md", text)).toEqual([
			"README.md: ARCHITECTURE.md#no-such-heading",
			"README.md: docs/no-such-file.md",
		]);
	});
});
