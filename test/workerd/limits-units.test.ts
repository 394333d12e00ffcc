/**
 * The pure parts of the limits, with settings chosen per case: the token bucket, the origin
 * rules and the parsing of `[vars]`.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULTS, readConfig } from "../../src/deployment/config.ts";
import { checkOrigin } from "../../src/gate/origin.ts";
import { newBucket, verdictOf } from "../../src/hub/flood-control.ts";

const limits = { ...DEFAULTS, rateLimitMessages: 10, rateLimitWindowSeconds: 10, rateLimitBucket: 5 };

/** A usable webhook secret (Standard Webhooks' form: whsec_ and the base64 of 32 bytes). */
const WHSEC = `whsec_${btoa("x".repeat(32))}`;

describe("token bucket", () => {
	it("allows the burst at once, then one message per second (10 per 10 s)", () => {
		const bucket = newBucket(limits, 0);
		for (let i = 0; i < 5; i++) expect(verdictOf(bucket, limits, 0)).toEqual({ kind: "allow" });
		expect(verdictOf(bucket, limits, 0)).toEqual({ kind: "refuse", retryAfterMs: 1000 });
		expect(verdictOf(bucket, limits, 400)).toEqual({ kind: "refuse", retryAfterMs: 600 });
		expect(verdictOf(bucket, limits, 1000)).toEqual({ kind: "allow" });
		// A long pause refills up to the burst, not beyond.
		for (let i = 0; i < 5; i++) expect(verdictOf(bucket, limits, 60_000).kind).toBe("allow");
		expect(verdictOf(bucket, limits, 60_000).kind).toBe("refuse");
	});

	it("closes only past three times the limit within one window", () => {
		const bucket = newBucket(limits, 0);
		for (let i = 0; i < 5; i++) verdictOf(bucket, limits, 0);
		for (let i = 0; i < 20; i++) expect(verdictOf(bucket, limits, 0).kind).toBe("refuse");
		expect(verdictOf(bucket, limits, 0).kind).toBe("close");
	});

	it("forgives refusals from an earlier window", () => {
		const bucket = newBucket(limits, 0);
		for (let i = 0; i < 5; i++) verdictOf(bucket, limits, 0);
		for (let i = 0; i < 20; i++) verdictOf(bucket, limits, 0);
		// Eleven seconds later: the strikes window has passed (and a token has refilled).
		expect(verdictOf(bucket, limits, 11_000).kind).toBe("allow");
		for (let i = 0; i < 20; i++) expect(verdictOf(bucket, limits, 11_000).kind).not.toBe("close");
	});

	it("allows everything when RATE_LIMIT_MESSAGES is 0", () => {
		const off = { ...limits, rateLimitMessages: 0 };
		const bucket = newBucket(off, 0);
		for (let i = 0; i < 1000; i++) expect(verdictOf(bucket, off, 0).kind).toBe("allow");
	});
});

function upgrade(origin: string | null, url = "https://chat.example.com/api/rooms/lobby/websocket"): Request {
	const headers: Record<string, string> = { Upgrade: "websocket" };
	if (origin !== null) headers.Origin = origin;
	return new Request(url, { headers });
}

describe("origin check", () => {
	it.each([
		["the page's own origin", "https://chat.example.com"],
		["the page's own host over the other scheme", "http://chat.example.com"],
		["localhost on any port", "http://localhost:5173"],
		["127.0.0.1 on any port", "http://127.0.0.1:8787"],
		["[::1]", "http://[::1]:3000"],
	])("allows %s", (_, origin) => {
		expect(checkOrigin(upgrade(origin), DEFAULTS)).toEqual({ ok: true });
	});

	it.each([
		["a foreign site", "https://evil.example"],
		["a look-alike subdomain", "https://chat.example.com.evil.example"],
		["a parent domain", "https://example.com"],
		["an opaque origin", "null"],
		["garbage", "not a url"],
	])("refuses %s with a reason", (_, origin) => {
		const result = checkOrigin(upgrade(origin), DEFAULTS);
		expect(result.ok).toBe(false);
		expect(result.ok ? "" : result.reason).toMatch(/not allowed/);
	});

	it("allows no Origin by default and refuses it when ALLOW_MISSING_ORIGIN is false", () => {
		expect(checkOrigin(upgrade(null), DEFAULTS)).toEqual({ ok: true });
		expect(checkOrigin(upgrade(null), { ...DEFAULTS, allowMissingOrigin: false })).toEqual({
			ok: false,
			reason: "an Origin header is required",
		});
	});

	it("allows the origins listed in ALLOWED_ORIGINS, exactly, and any with *", () => {
		const listed = readConfig({ ALLOWED_ORIGINS: "https://partner.example, https://other.example:8443" });
		expect(checkOrigin(upgrade("https://partner.example"), listed)).toEqual({ ok: true });
		expect(checkOrigin(upgrade("https://other.example:8443"), listed)).toEqual({ ok: true });
		expect(checkOrigin(upgrade("https://other.example"), listed).ok).toBe(false);
		expect(checkOrigin(upgrade("https://anything.example"), readConfig({ ALLOWED_ORIGINS: "*" }))).toEqual({
			ok: true,
		});
	});
});

describe("settings", () => {
	it("uses the defaults when nothing is set", () => {
		expect(readConfig({})).toEqual(DEFAULTS);
	});

	it("is open mode by default, signed with tokens when only AUTH_SECRET is set, and any mix of accounts when asked", () => {
		expect(DEFAULTS.signIn).toEqual({ open: true, passkeys: false, access: null, tokens: false });
		expect(DEFAULTS.signed).toBe(false);
		const secret = "s".repeat(32);
		expect(readConfig({ AUTH_SECRET: secret })).toMatchObject({ signed: true, signIn: { open: false, tokens: true } });
		expect(
			readConfig({
				SIGN_IN: " passkeys , access,tokens ",
				AUTH_SECRET: secret,
				ACCESS_TEAM_DOMAIN: "https://team.cloudflareaccess.com/",
				ACCESS_AUD: "aud",
			}),
		).toMatchObject({
			signed: true,
			signIn: {
				open: false,
				passkeys: true,
				tokens: true,
				access: { teamDomain: "https://team.cloudflareaccess.com", aud: "aud" },
			},
		});
	});

	it("accepts numbers and numeric strings", () => {
		expect(readConfig({ MESSAGE_CAP: 80, MAX_FRAME_BYTES: " 4096 " })).toMatchObject({
			plainMessageCap: 80,
			maxFrameBytes: 4096,
		});
	});

	it.each([
		[{ MESSAGE_CAP: "abc" }, /MESSAGE_CAP must be an integer from 1/],
		[{ MESSAGE_CAP: "0" }, /MESSAGE_CAP/],
		[{ MAX_FRAME_BYTES: "2000000" }, /MAX_FRAME_BYTES must be an integer from 1 to 1048576/],
		[{ HISTORY_RETENTION: "1.5" }, /HISTORY_RETENTION/],
		[{ MAX_BUFFERED_BYTES: "-1" }, /MAX_BUFFERED_BYTES must be an integer from 0 to 67108864/],
		[{ ALLOW_MISSING_ORIGIN: "yes" }, /ALLOW_MISSING_ORIGIN must be "true" or "false"/],
		[{ ALLOWED_ORIGINS: "https://ok.example, example.com" }, /ALLOWED_ORIGINS: "example.com" is not an origin/],
		[{ ALLOWED_ORIGINS: "https://ok.example/path" }, /not an origin \(write https:\/\/ok.example\)/],
		[{ RATE_LIMIT_UPGRADES: "false" }, /RATE_LIMIT_UPGRADES is now RATE_LIMIT_ROOM_REQUESTS/],
		[{ RATE_LIMIT_BURST: "5" }, /RATE_LIMIT_BURST is now RATE_LIMIT_BUCKET/],
		[{ SIGN_IN: "passkeys,magic" }, /SIGN_IN: "magic" is not one of open, passkeys, access, tokens/],
		[{ SIGN_IN: "open,passkeys" }, /SIGN_IN: open cannot be combined/],
		[{ SIGN_IN: "tokens" }, /SIGN_IN includes tokens, which needs the AUTH_SECRET secret/],
		[{ SIGN_IN: "access", ACCESS_TEAM_DOMAIN: "https://team.cloudflareaccess.com" }, /needs ACCESS_AUD/],
		[
			{ SIGN_IN: "access", ACCESS_TEAM_DOMAIN: "http://team.example", ACCESS_AUD: "x" },
			/ACCESS_TEAM_DOMAIN must be an https URL/,
		],
		[{ GUESTS: "write" }, /GUESTS must be "none" or "read" or "post", got "write"/],
	])("refuses %j loudly, naming the setting", (vars, message) => {
		expect(() => readConfig(vars)).toThrow(ConfigError);
		expect(() => readConfig(vars)).toThrow(message);
	});

	it.each([
		[{ WEBHOOK_URL: "ftp://hooks.example/t0ken-s3cret", WEBHOOK_SECRET: WHSEC, WEBHOOKS: {} }, "WEBHOOK_URL"],
		[
			{ WEBHOOK_URL: "https://hooks.example/?token=t0ken-s3cret", WEBHOOK_SECRET: "whsec_t0ken-s3cret" },
			"WEBHOOK_SECRET",
		],
		[{ AUTH_SECRET: "t0ken-s3cret" }, "AUTH_SECRET"],
		[{ MAX_CONNECTIONS: "t0ken-s3cret" }, "MAX_CONNECTIONS"],
	])("carries the setting's name apart: %j tells the log why and clients only which", (vars, setting) => {
		let thrown: unknown;
		try {
			readConfig(vars);
		} catch (error) {
			thrown = error;
		}
		if (!(thrown instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(thrown)}`);
		expect(thrown.setting).toBe(setting);
		expect(thrown.message).toMatch(new RegExp(`^${setting}`));
		expect(thrown.forClients).toBe(`${setting} is not usable (the server's log says why)`);
	});
});
