/**
 * public/_headers gives every static asset the page's security headers (docs/operating.md, "Security
 * headers"), and its Content-Security-Policy allows the one inline script of index.html, the
 * import map, by the SHA-256 of its exact text: an edit of the import map (a space counts) that
 * does not change the hash too leaves the page without its third-party module, and this test
 * fails first. The headers reaching browsers from a running server is test/browser/security-headers.test.ts.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local-server.ts";

const headersFile = readFileSync(path.join(ROOT, "public", "_headers"), "utf8");
const indexHtml = readFileSync(path.join(ROOT, "public", "index.html"), "utf8");

/**
 * The rules of a `_headers` file (Cloudflare's format): a line that starts in the first column
 * is a path pattern, the indented `Name: value` lines under it are its headers, `#` starts a
 * comment line.
 */
function parseHeaders(text: string): Map<string, Map<string, string>> {
	const rules = new Map<string, Map<string, string>>();
	let current: Map<string, string> | null = null;
	for (const line of text.split("\n")) {
		if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
		if (!/^\s/.test(line)) {
			current = new Map();
			rules.set(line.trim(), current);
			continue;
		}
		const match = /^\s+([A-Za-z-]+):\s*(.*)$/.exec(line);
		if (!match || !current) throw new Error(`_headers: a line that is neither a path nor a header: ${line}`);
		current.set((match[1] as string).toLowerCase(), (match[2] as string).trim());
	}
	return rules;
}

/** A Content-Security-Policy as its directives, each with its sources. */
function directives(policy: string): Map<string, string[]> {
	return new Map(
		policy
			.split(";")
			.map((part) => part.trim().split(/\s+/))
			.filter((words) => words[0])
			.map(([name, ...sources]) => [name as string, sources]),
	);
}

/** The text of every `<script>` of index.html that has no `src` (what a CSP calls inline). */
function inlineScripts(html: string): string[] {
	return [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
		.filter((match) => !/\bsrc=/.test(match[1] as string))
		.map((match) => match[2] as string);
}

const rules = parseHeaders(headersFile);
const everything = rules.get("/*") ?? new Map<string, string>();
const csp = directives(everything.get("content-security-policy") ?? "");

describe("public/_headers", () => {
	it("gives every asset the security headers", () => {
		expect(everything.get("x-content-type-options")).toBe("nosniff");
		expect(everything.get("referrer-policy")).toBe("no-referrer");
		expect(everything.get("x-frame-options")).toBe("DENY");
		const permissions = (everything.get("permissions-policy") ?? "").split(",").map((item) => item.trim());
		for (const feature of ["camera", "microphone", "geolocation", "payment", "usb", "serial", "hid"]) {
			expect(permissions, feature).toContain(`${feature}=()`);
		}
		// Every feature listed is turned off, none allowed to anyone, but passkeys for the page itself (its accounts).
		expect(permissions.filter((item) => !/^[a-z-]+=\(\)$/.test(item))).toEqual([
			"publickey-credentials-create=(self)",
			"publickey-credentials-get=(self)",
		]);
	});

	it("has a Content-Security-Policy of this origin only, with nothing inline but the import map's hash", () => {
		expect(Object.fromEntries([...csp].filter(([name]) => name !== "script-src"))).toEqual({
			"default-src": ["'self'"],
			"style-src": ["'self'"],
			"connect-src": ["'self'"],
			"object-src": ["'none'"],
			"base-uri": ["'none'"],
			"form-action": ["'self'"],
			"frame-ancestors": ["'none'"],
		});
		const scripts = csp.get("script-src") ?? [];
		expect(scripts[0]).toBe("'self'");
		expect(scripts.slice(1).every((source) => /^'sha256-[A-Za-z0-9+/]{43}='$/.test(source))).toBe(true);
		expect(everything.get("content-security-policy")).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes/);
	});

	it("allows each inline script of index.html by its hash, and nothing else", () => {
		const scripts = inlineScripts(indexHtml);
		// The import map, the page's one inline script (app.js and the modules are files).
		expect(scripts).toHaveLength(1);
		const hashes = scripts.map((text) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`);
		expect(csp.get("script-src")?.slice(1)).toEqual(hashes);
	});

	it("leaves nothing in index.html that the policy would block: no inline handlers or styles", () => {
		expect(indexHtml).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
		expect(indexHtml).not.toMatch(/<[^>]*\sstyle\s*=/i);
		expect(indexHtml).not.toMatch(/<style\b/i);
	});

	it("keeps the client library importable by pages of other origins", () => {
		expect(rules.get("/client/*")?.get("access-control-allow-origin")).toBe("*");
		expect(rules.get("/contract.js")?.get("access-control-allow-origin")).toBe("*");
	});
});
