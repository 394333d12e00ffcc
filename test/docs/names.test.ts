/**
 * The docs name the code as it is, so they cannot drift from it. Every backticked
 * `Class.member` or `Class#member` whose class is exported from src/ names a member that class
 * declares (a method, getter, setter or field, `#private` ones included); every backticked
 * UPPER_SNAKE token that is a setting's name, or presented as one (`NAME = "…"`,
 * `--var NAME:…`, `secret put NAME`), is a setting of src/deployment/settings.ts (a renamed
 * setting's old name is not); and every other UPPER_SNAKE token names something the code has.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local-server.ts";
import { RENAMED, SETTINGS } from "../../src/deployment/settings.ts";
import { DOCS, read } from "../support/docs.ts";

/** Every file under `dir` whose name ends with one of `endings`, relative to the root. */
function filesUnder(dir: string, endings: string[]): string[] {
	return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
		.filter((entry) => entry.isFile() && endings.some((ending) => entry.name.endsWith(ending)))
		.map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

/** Every backticked span of a text. */
const spans = (text: string) => [...text.matchAll(/`([^`\n]+)`/g)].map((match) => match[1] as string);

// -- classes and their members -------------------------------------------------------------------

/** The body of every class exported from src/, by name (a name declared twice keeps both). */
function exportedClasses(): Map<string, string[]> {
	const classes = new Map<string, string[]>();
	for (const file of filesUnder("src", [".ts"])) {
		const text = read(file);
		for (const match of text.matchAll(/^export (?:abstract )?class (\w+)/gm)) {
			const start = match.index ?? 0;
			const end = text.indexOf("\n}", start);
			const body = text.slice(start, end === -1 ? undefined : end);
			classes.set(match[1] as string, [...(classes.get(match[1] as string) ?? []), body]);
		}
	}
	return classes;
}

/** Whether a class body declares `member` (`#name` for a private one): a method, accessor or field. */
function declares(body: string, member: string): boolean {
	const name = member.replace(/^#/, "").replace(/[$]/g, "\\$");
	const modifiers = "(?:(?:public|private|protected|static|override|readonly|async|abstract|declare|get|set)\\s+)*";
	return new RegExp(`^\\s*${modifiers}\\*?#?${name}\\s*[?!]?\\s*[(<:=;]`, "m").test(body);
}

/** Every `Class.member` / `Class#member` a text names, of a class in `classes`, that the class does not declare. */
function unknownMembers(text: string, classes: Map<string, string[]>): string[] {
	const unknown: string[] = [];
	for (const span of spans(text)) {
		const match = /^([A-Z][A-Za-z0-9]*)([.#])(#?[A-Za-z_$][\w$]*)(?:\(.*\))?$/.exec(span);
		if (!match) continue;
		const bodies = classes.get(match[1] as string);
		if (!bodies) continue;
		if (!bodies.some((body) => declares(body, match[3] as string))) unknown.push(span);
	}
	return unknown;
}

// -- settings ------------------------------------------------------------------------------------

/** The settings' names (src/deployment/settings.ts). */
const SETTING_NAMES = new Set(Object.keys(SETTINGS));

/** The `[vars]` keys of wrangler.toml, commented-out ones included (`# ROOM_SOCKETS = "1000"`). */
function wranglerVars(): string[] {
	const toml = read("wrangler.toml");
	const vars = toml.slice(toml.indexOf("\n[vars]"));
	const end = vars.slice(1).search(/^\[/m);
	return [...(end === -1 ? vars : vars.slice(0, end + 1)).matchAll(/^#?\s*([A-Z][A-Z0-9_]+)\s*=/gm)].map(
		(match) => match[1] as string,
	);
}

/** Names that are settings, or were (a renamed one's old name): a doc naming one names a setting. */
const SETTING_LIKE = new Set([...SETTING_NAMES, ...Object.keys(RENAMED), ...wranglerVars()]);

/** Every name a text presents as a setting that is not one, now. */
function unknownSettings(text: string, settings: ReadonlySet<string>, settingLike: ReadonlySet<string>): string[] {
	const unknown = new Set<string>();
	for (const span of spans(text)) {
		// A whole span `NAME`, or `PREFIX_*` for a family of settings.
		if (/^[A-Z][A-Z0-9_]+$/.test(span) && settingLike.has(span) && !settings.has(span)) unknown.add(span);
		const family = /^([A-Z][A-Z0-9_]*_)\*$/.exec(span)?.[1];
		if (family && ![...settings].some((name) => name.startsWith(family))) unknown.add(span);
		// Presented as a setting: assigned, passed with --var, or put as a secret.
		for (const match of span.matchAll(
			/\b([A-Z][A-Z0-9_]{2,})\s*=\s*["']|--var[ =]([A-Z][A-Z0-9_]+):|secret (?:put|delete) ([A-Z][A-Z0-9_]+)/g,
		)) {
			const name = (match[1] ?? match[2] ?? match[3]) as string;
			if (!settings.has(name)) unknown.add(name);
		}
	}
	return [...unknown];
}

/**
 * The text of the code an UPPER_SNAKE token of the docs may name (constants, bindings, close
 * reasons, environment variables): the code itself, wrangler.toml and package.json, not the docs'
 * own tests (whose cases name things that do not exist).
 */
function codeText(): string {
	const folders = ["src", "public", "scripts", "bench", "examples", "test/support"];
	const files = folders.flatMap((folder) => filesUnder(folder, [".ts", ".js", ".mjs"]));
	return [...files, "wrangler.toml", "package.json", ".github/workflows/ci.yml"].map(read).join("\n");
}

describe("names in the docs", () => {
	const classes = exportedClasses();
	const docs = DOCS.map((file) => [file, read(file)] as const);

	it("finds the classes of src/ and the settings", () => {
		for (const name of ["Room", "RoomShard", "Hub", "HubHost", "MessageLog", "Dispatcher", "Coalescer"]) {
			expect(classes.has(name), name).toBe(true);
		}
		expect(SETTING_NAMES.has("MESSAGE_CAP")).toBe(true);
		expect(SETTING_NAMES.size).toBeGreaterThan(25);
	});

	it("every `Class.member` the docs name is declared by that class", () => {
		const named = docs.flatMap(([file, text]) =>
			spans(text)
				.filter(
					(span) => /^[A-Z][A-Za-z0-9]*[.#]#?[A-Za-z_$]/.test(span) && classes.has(span.split(/[.#]/)[0] as string),
				)
				.map((span) => `${file}: ${span}`),
		);
		expect(named.length).toBeGreaterThan(20);
		expect(docs.flatMap(([file, text]) => unknownMembers(text, classes).map((span) => `${file}: ${span}`))).toEqual([]);
	});

	it("every setting the docs name is a setting of src/deployment/settings.ts", () => {
		expect(
			docs.flatMap(([file, text]) =>
				unknownSettings(text, SETTING_NAMES, SETTING_LIKE).map((name) => `${file}: ${name}`),
			),
		).toEqual([]);
	});

	it("every other UPPER_SNAKE name the docs use is in the code", () => {
		const code = codeText();
		const tokens = new Set(
			docs.flatMap(([, text]) => spans(text).filter((span) => /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(span))),
		);
		const missing = [...tokens].filter(
			(token) => !SETTING_NAMES.has(token) && !new RegExp(`\\b${token}\\b`).test(code),
		);
		expect(tokens.size).toBeGreaterThan(40);
		expect(missing).toEqual([]);
	});

	it("catches a wrong name", () => {
		const text = [
			"`Room.submit`, `Room#commitBurst`, `Room.missedPushes()`, `ShardLinks.submitPace`,",
			"`Room.noSuchMethod`, `Hub#takeFrom`, `Dispatcher.send`, `Push.answers`, `chat.allowance`,",
			"`MESSAGE_CAP`, `RATE_LIMIT_*`, `RATE_LIMIT_BURST`, `NO_SUCH_*`, `CALL_BYTES`,",
			'`WEBSOCKET_COMPRESSION = "true"`, `npx wrangler dev --var NO_SUCH_SETTING:1`, `npx wrangler secret put NOT_A_SECRET`',
		].join("\n");
		// Push is an interface, not a class; chat is no class: neither is checked.
		expect(unknownMembers(text, classes)).toEqual(["Room.noSuchMethod", "Hub#takeFrom", "Dispatcher.send"]);
		expect(unknownSettings(text, SETTING_NAMES, SETTING_LIKE).sort()).toEqual(
			["NOT_A_SECRET", "NO_SUCH_*", "NO_SUCH_SETTING", "RATE_LIMIT_BURST"].sort(),
		);
		expect(declares("class A {\n\tget size(): number {\n\t\treturn 0;\n\t}\n", "size")).toBe(true);
		expect(declares("class A {\n\tf() {\n\t\tthis.size();\n\t}\n", "size")).toBe(false);
	});
});
