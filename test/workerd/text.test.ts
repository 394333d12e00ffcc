import { describe, expect, it } from "vitest";
import { capText } from "../../src/hub/text.ts";

describe("capText", () => {
	it("leaves text at or under the cap untouched", () => {
		expect(capText("", 5)).toBe("");
		expect(capText("hello", 5)).toBe("hello");
	});

	it("cuts ASCII one over the cap to the cap", () => {
		expect(capText("hello!", 5)).toBe("hello");
	});

	it("counts an astral emoji (a surrogate pair) as one character and never splits it", () => {
		expect(capText("😀😀😀", 2)).toBe("😀😀");
		expect(capText("ab😀", 3)).toBe("ab😀");
		expect(capText("abc😀", 3)).toBe("abc");
		expect(capText("ab😀c", 3)).toBe("ab😀");
	});

	it("counts a lone surrogate as one code point", () => {
		expect(capText("a\uD800bc", 2)).toBe("a\uD800");
		expect(capText("\uDC00\uDC00\uDC00", 2)).toBe("\uDC00\uDC00");
	});

	it("returns the same string object when nothing is cut (no allocation on the hot path)", () => {
		const text = "😀".repeat(50);
		expect(text.length).toBe(100);
		expect(capText(text, 50)).toBe(text);
	});
});
