/** The project's documents, for the tests that hold them to the code and to each other. */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../../scripts/local-server.ts";

/** The documents, relative to the root: README.md, ARCHITECTURE.md, PROTOCOL.md and docs/*.md. */
export const DOCS = [
	"README.md",
	"ARCHITECTURE.md",
	"PROTOCOL.md",
	...readdirSync(path.join(ROOT, "docs"))
		.filter((name) => name.endsWith(".md"))
		.map((name) => `docs/${name}`),
];

/** A file's text, by its path from the root. */
export const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
