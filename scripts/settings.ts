/**
 * `npm run settings`: writes what is derived from the settings' one declaration
 * (src/deployment/settings.ts): the tables of docs/operating.md, between their
 * `<!-- settings:GROUP -->` markers, and the `[vars]` of wrangler.toml (the end of that file).
 * test/docs/settings.test.ts fails while either differs from what this would write.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { GROUPS, type Group, SETTINGS, type Setting } from "../src/deployment/settings.ts";
import { ROOT } from "./local-server.ts";

export const OPERATING = path.join(ROOT, "docs/operating.md");
export const WRANGLER = path.join(ROOT, "wrangler.toml");

const declared = Object.entries(SETTINGS) as [string, Setting][];

const thousands = (value: number) => value.toLocaleString("en-US");

/** The docs' default column. */
function defaultOf(setting: Setting): string {
	switch (setting.kind) {
		case "integer":
			return setting.default === null ? (setting.unset ?? "") : `\`${setting.default}\``;
		case "boolean":
			return `\`${setting.default}\``;
		default:
			return setting.empty;
	}
}

/** The docs' range column. */
function rangeOf(setting: Setting): string {
	switch (setting.kind) {
		case "integer":
			return `${thousands(setting.min)} – ${thousands(setting.max)}`;
		case "boolean":
			return "`true` / `false`";
		default:
			return setting.shape;
	}
}

/** The table of one group's settings, as docs/operating.md holds it. */
export function tableOf(group: Group): string {
	const rows = declared
		.filter(([, setting]) => setting.group === group)
		.map(([name, setting]) => `| \`${name}\` | ${defaultOf(setting)} | ${rangeOf(setting)} | ${setting.says} |`);
	return ["| setting | default | range | what it does |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

/** `text` with each group's table put between its markers. */
export function withTables(text: string): string {
	let out = text;
	for (const group of Object.keys(GROUPS) as Group[]) {
		const open = `<!-- settings:${group} -->`;
		const close = `<!-- /settings:${group} -->`;
		const start = out.indexOf(open);
		const end = out.indexOf(close);
		if (start < 0 || end < start) throw new Error(`docs/operating.md has no ${open} ... ${close}`);
		out = `${out.slice(0, start + open.length)}\n${tableOf(group)}\n${out.slice(end)}`;
	}
	return out;
}

/** A comment of lines of at most 100 characters. */
function comment(text: string): string[] {
	const lines: string[] = [];
	let line = "#";
	for (const word of text.split(" ")) {
		if (line.length + 1 + word.length > 100) {
			lines.push(line);
			line = "#";
		}
		line += ` ${word}`;
	}
	return [...lines, line];
}

/** The first sentence of a setting's description. */
const firstSentence = (text: string) => /^.*?\.(?=\s|$)/.exec(text)?.[0] ?? text;

/** wrangler.toml's `[vars]`: every setting that is not a secret, at its default. */
export function varsBlock(): string {
	const lines = [
		"[vars]",
		...comment(
			"Written by `npm run settings` from src/deployment/settings.ts, where each setting is declared once; docs/operating.md says what each does. Secrets (AUTH_SECRET, API_KEY, WEBHOOK_SECRET) are never here: `npx wrangler secret put NAME`, or `.dev.vars` locally.",
		),
	];
	for (const group of Object.keys(GROUPS) as Group[]) {
		lines.push("", `# -- ${GROUPS[group]} --`);
		for (const [name, setting] of declared) {
			if (setting.group !== group || setting.kind === "secret") continue;
			lines.push(...comment(firstSentence(setting.says).replaceAll("`", "")));
			if (setting.kind === "integer" && setting.default === null) {
				lines.push(`# ${name} = "" (unset: ${(setting.unset ?? "").replaceAll("`", "")})`);
			} else {
				lines.push(`${name} = "${setting.kind === "text" ? "" : setting.default}"`);
			}
		}
	}
	return `${lines.join("\n")}\n`;
}

/** wrangler.toml with its `[vars]` (the end of the file) written anew. */
export function withVars(text: string): string {
	const start = text.indexOf("\n[vars]\n");
	if (start < 0) throw new Error("wrangler.toml has no [vars] table");
	return `${text.slice(0, start + 1)}${varsBlock()}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
	writeFileSync(OPERATING, withTables(readFileSync(OPERATING, "utf8")));
	writeFileSync(WRANGLER, withVars(readFileSync(WRANGLER, "utf8")));
	console.log("wrote the settings tables of docs/operating.md and the [vars] of wrangler.toml");
}
