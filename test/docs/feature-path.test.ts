/**
 * A client event has one path through the code (ARCHITECTURE.md, "Adding a client event"): its type
 * in the wire module, its checks in the parser, its `Submission` to the room, the room's case
 * that hands it to the part owning its decision, its row in PROTOCOL.md, and the client
 * library that sends it (the page and every other client use the library). Every event the protocol has today is held to that path here, so the next one
 * (replies, reactions, history pages) is too: add it to `ClientEvent` and this test names each
 * step still missing.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local-server.ts";

/** A file's text, or a folder's files' texts together. */
const read = (file: string) =>
	file.endsWith("/")
		? readdirSync(path.join(ROOT, file))
				.map((name) => readFileSync(path.join(ROOT, file, name), "utf8"))
				.join("\n")
		: readFileSync(path.join(ROOT, file), "utf8");
// The wire module, with the module of a room's settings (the settings command is there).
const protocolModule = read("src/wire/protocol.ts") + read("src/wire/settings.ts");

/** The `type` of every member of `ClientEvent`, read from the interfaces the union names. */
function clientEventTypes(): string[] {
	const union = /export type ClientEvent =([^;]+);/.exec(protocolModule)?.[1] ?? "";
	return union
		.split("|")
		.map((name) => name.trim())
		.filter((name) => name !== "")
		.map((name) => {
			const body = new RegExp(`interface ${name} \\{([^}]+)\\}`).exec(protocolModule)?.[1] ?? "";
			return /\btype: "([a-z_]+)"/.exec(body)?.[1] ?? `<no type in ${name}>`;
		});
}

/** The steps of the path that `type` is missing, by file. */
function missingSteps(type: string): string[] {
	const steps: [file: string, pattern: RegExp][] = [
		["src/wire/parse.ts", new RegExp(`case "${type}":`)],
		["src/wire/rpc.ts", new RegExp(`kind: "${type}"`)],
		["src/room/dispatcher.ts", new RegExp(`case "${type}":`)],
		// A row of PROTOCOL.md's client tables ("Client → server", "Commands").
		["PROTOCOL.md", new RegExp(`^\\| \`${type}\` \\|`, "m")],
		["public/client/", new RegExp(`type: "${type}"`)],
	];
	return steps.filter(([file, pattern]) => !pattern.test(read(file))).map(([file]) => file);
}

describe("the path of a client event", () => {
	it("reads every client event type from the wire module", () => {
		expect(clientEventTypes()).toEqual([
			"hello",
			"send",
			"typing",
			"edit",
			"delete",
			"kick",
			"ban",
			"history",
			"react",
			"reactors",
			"read",
			"settings",
		]);
	});

	it("has every client event parsed, submitted, decided by the room, documented and sent by the client library", () => {
		const missing = clientEventTypes().flatMap((type) => missingSteps(type).map((file) => `${type}: ${file}`));
		expect(missing).toEqual([]);
	});

	it("names the steps an event without a path is missing", () => {
		expect(missingSteps("pin")).toEqual([
			"src/wire/parse.ts",
			"src/wire/rpc.ts",
			"src/room/dispatcher.ts",
			"PROTOCOL.md",
			"public/client/",
		]);
	});
});
