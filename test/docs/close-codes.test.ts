/**
 * One table of close codes: the one the code closes with (src/wire/close-codes.ts) is the one
 * PROTOCOL.md shows clients, row for row, and the server chooses no close code anywhere else.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local-server.ts";
import { CLOSES, closeFor } from "../../src/wire/close-codes.ts";

const protocol = readFileSync(path.join(ROOT, "PROTOCOL.md"), "utf8");
const closing = protocol.slice(protocol.indexOf("## Closing"), protocol.indexOf("## Signed identity"));

/** Every `code reason` pair PROTOCOL.md's table lists (a row may give several reasons). */
function documented(): string[] {
	const pairs: string[] = [];
	for (const row of closing.matchAll(/^\s*\| (\d{4}) \| (.+?) \| .+ \|$/gm)) {
		for (const reason of (row[2] as string).matchAll(/`([^`]+)`/g)) pairs.push(`${row[1]} ${reason[1]}`);
	}
	return pairs.sort();
}

describe("close codes", () => {
	it("PROTOCOL.md's table lists exactly the closes of src/wire/close-codes.ts", () => {
		const table = Object.values(CLOSES).map(({ code, reason }) => `${code} ${reason}`);
		expect(documented().length).toBeGreaterThan(10);
		expect(documented()).toEqual(table.sort());
	});

	it("fills a reason's placeholder with the detail", () => {
		expect(closeFor("frameTooBig", 16384)).toEqual({ code: 1009, reason: "frame larger than 16384 bytes" });
		expect(closeFor("banned", "2030-01-01T00:00:00.000Z").reason).toBe("banned until 2030-01-01T00:00:00.000Z");
		expect(closeFor("noHeartbeat")).toEqual({ code: 1001, reason: "no heartbeat" });
	});

	it("no file of src/ closes a socket with a code of its own", () => {
		const files = readdirSync(path.join(ROOT, "src"), { recursive: true, withFileTypes: true })
			.filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && entry.name !== "close-codes.ts")
			.map((entry) => path.join(entry.parentPath, entry.name));
		const literal = /(?:close\w*\(|code:\s*)(?:[^)\n]*,\s*)?(?:1\d{3}|[34]\d{3})\b/;
		const offenders = files.filter((file) =>
			readFileSync(file, "utf8")
				.split("\n")
				.some((line) => !line.trim().startsWith("*") && !line.trim().startsWith("//") && literal.test(line)),
		);
		expect(offenders.map((file) => path.relative(ROOT, file))).toEqual([]);
	});
});
