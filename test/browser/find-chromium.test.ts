/**
 * How the browser tests pick their browser: an explicit `CHROMIUM_PATH` is obeyed or refused
 * with a clear message, never silently replaced by another browser.
 */
import { describe, expect, it } from "vitest";
import { findChromium } from "../support/browser.ts";

describe("findChromium", () => {
	it("uses CHROMIUM_PATH when it names an executable", async () => {
		const choice = await findChromium({ CHROMIUM_PATH: process.execPath });
		expect(choice).toEqual({ path: process.execPath, source: "CHROMIUM_PATH", args: [] });
	});

	it("refuses a CHROMIUM_PATH with nothing there, saying how to fix it", async () => {
		await expect(findChromium({ CHROMIUM_PATH: "/nonexistent" })).rejects.toThrow(
			/^CHROMIUM_PATH is \/nonexistent, but no executable file is there\. .*unset it/,
		);
	});

	it("finds a browser with no CHROMIUM_PATH at all", async () => {
		const choice = await findChromium({});
		expect(["installed", "Playwright's cache", "@sparticuz/chromium"]).toContain(choice.source);
		expect(choice.path).not.toBe("");
	});
});
