/**
 * Each setting is declared once (src/deployment/settings.ts), and everything else is held to
 * that declaration: the Worker reads every declared setting with its declared default and range
 * and nothing undeclared, and docs/operating.md's tables and wrangler.toml's `[vars]` are what
 * `npm run settings` writes from it.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { ROOT } from "../../scripts/local-server.ts";
import { OPERATING, tableOf, WRANGLER, withTables, withVars } from "../../scripts/settings.ts";
import { ConfigError, DEFAULTS, readConfig } from "../../src/deployment/config.ts";
import { RENAMED, SETTINGS, type Setting } from "../../src/deployment/settings.ts";

const declared = Object.entries(SETTINGS) as [string, Setting][];

/** The ConfigError `readConfig` throws for `vars`, or `null`. */
function refusal(vars: Record<string, unknown>): ConfigError | null {
	try {
		readConfig(vars);
		return null;
	} catch (error) {
		if (error instanceof ConfigError) return error;
		throw error;
	}
}

describe("settings, declared once", () => {
	it("are each read by the Worker, and the Worker reads no other", () => {
		const source = readFileSync(path.join(ROOT, "src/deployment/config.ts"), "utf8");
		const read = new Set(
			[...source.matchAll(/(?:vars|integer|boolean|secret|origins|choice)\(vars, "([A-Z_]+)"/g)].map((m) => m[1]),
		);
		for (const [name] of source.matchAll(/vars\.([A-Z_]+)/g)) read.add(name.slice(5));
		read.delete("WEBHOOKS"); // the queue binding, checked beside WEBHOOK_URL
		expect([...read].sort()).toEqual(declared.map(([name]) => name).sort());
	});

	it("have the declared defaults when nothing is set", () => {
		expect(DEFAULTS.plainMessageCap).toBe(SETTINGS.MESSAGE_CAP.default);
		expect(DEFAULTS.rateLimitBucket).toBe(SETTINGS.RATE_LIMIT_BUCKET.default);
		expect(DEFAULTS.roomSockets).toBe(SETTINGS.SHARD_SIZE.default);
		expect(DEFAULTS.compression).toBe(SETTINGS.WEBSOCKET_COMPRESSION.default);
		expect(DEFAULTS.authSecret).toBeNull();
		expect(DEFAULTS.webhooks).toBeNull();
	});

	it("are refused, by name, just outside their declared range, and taken at its ends", () => {
		// The webhook settings are read once webhooks are on.
		const webhooks = {
			WEBHOOK_URL: "https://example.com/hooks",
			WEBHOOK_SECRET: `whsec_${btoa("k".repeat(32))}`,
			WEBHOOKS: {},
		};
		for (const [name, setting] of declared) {
			if (setting.kind !== "integer") continue;
			const vars = (value: number) => ({ ...(name.startsWith("WEBHOOK_") ? webhooks : {}), [name]: String(value) });
			expect(refusal(vars(setting.min - 1))?.setting, name).toBe(name);
			expect(refusal(vars(setting.max + 1))?.setting, name).toBe(name);
			expect(refusal(vars(setting.min)), name).toBeNull();
			expect(refusal(vars(setting.max)), name).toBeNull();
		}
		expect(refusal({ ALLOW_MISSING_ORIGIN: "maybe" })?.setting).toBe("ALLOW_MISSING_ORIGIN");
	});

	it("refuse an old name loudly instead of ignoring it", () => {
		for (const old of Object.keys(RENAMED)) expect(refusal({ [old]: "5" })?.setting).toBe(old);
		expect(refusal({ RATE_LIMIT_BURST: "5" })?.message).toContain("RATE_LIMIT_BUCKET");
	});

	it("are listed in docs/operating.md as `npm run settings` writes them, each group in a table", () => {
		const docs = readFileSync(OPERATING, "utf8");
		expect(withTables(docs)).toBe(docs);
		for (const [name, setting] of declared) {
			expect(tableOf(setting.group)).toContain(`| \`${name}\` |`);
		}
	});

	it("are wrangler.toml's [vars] as `npm run settings` writes them: every one that is not a secret, at its default", () => {
		const toml = readFileSync(WRANGLER, "utf8");
		expect(withVars(toml)).toBe(toml);
		const vars = unstable_readConfig({ config: WRANGLER }).vars as Record<string, string>;
		const expected = Object.fromEntries(
			declared.flatMap(([name, setting]) => {
				if (setting.kind === "secret" || (setting.kind === "integer" && setting.default === null)) return [];
				return [[name, setting.kind === "text" ? "" : String(setting.default)]];
			}),
		);
		expect(vars).toEqual(expected);
		expect(readConfig(vars)).toEqual(DEFAULTS);
	});
});
