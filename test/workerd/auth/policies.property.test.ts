/**
 * The room's policies (src/room/policies.ts) under random traffic, in a real object's storage:
 * sends from members, moderators and the HTTP API, from several connections of a few users,
 * at random times, with the settings changed at random between them. A small model written from
 * PROTOCOL.md ("Room settings") says what each send must come to, and the policies must agree
 * every time: `posting_restricted` in an announcement room for everyone but moderators and the
 * API, `slow_mode` (with the exact time left) within a user's interval, `rate_limited` past the
 * user's shared allowance (RATE_LIMIT_* as shipped: 5 at once, 10 per 10 s), nothing otherwise.
 */
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../../src/deployment/config.ts";
import { RoomPolicies } from "../../../src/room/policies.ts";
import { RoomStore } from "../../../src/room/room-store.ts";
import type { Role } from "../../../src/wire/protocol.ts";
import type { Submission } from "../../../src/wire/rpc.ts";
import type { PostingRole } from "../../../src/wire/settings.ts";
import { freshRoom, stubFor } from "../rooms.ts";

type Step =
	| { kind: "send"; user: number; tab: number; role: Role | "api"; after: number }
	| { kind: "settings"; slowModeSeconds: number; postingRole: PostingRole; after: number };

const step: fc.Arbitrary<Step> = fc.oneof(
	{
		weight: 6,
		arbitrary: fc.record({
			kind: fc.constant("send" as const),
			user: fc.nat({ max: 2 }),
			tab: fc.nat({ max: 2 }),
			role: fc.constantFrom<Role | "api">("member", "member", "moderator", "api"),
			after: fc.nat({ max: 4_000 }),
		}),
	},
	{
		weight: 1,
		arbitrary: fc.record({
			kind: fc.constant("settings" as const),
			slowModeSeconds: fc.constantFrom(0, 1, 3, 5),
			postingRole: fc.constantFrom<PostingRole>("everyone", "moderators"),
			after: fc.nat({ max: 4_000 }),
		}),
	},
);

/** The allowance as PROTOCOL.md states it: a bucket of 5, refilled at 10 per 10 s. */
class Allowance {
	tokens = DEFAULTS.rateLimitBucket;
	at = 0;
	take(now: number): number {
		const perMs = DEFAULTS.rateLimitMessages / (DEFAULTS.rateLimitWindowSeconds * 1000);
		this.tokens = Math.min(DEFAULTS.rateLimitBucket, this.tokens + (now - this.at) * perMs);
		this.at = now;
		if (this.tokens >= 1) {
			this.tokens -= 1;
			return 0;
		}
		return Math.ceil((1 - this.tokens) / perMs);
	}
}

describe("room policies under random traffic", () => {
	it("refuse exactly what the settings say, with the documented codes and waits", async () => {
		await fc.assert(
			fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
				const mismatches = await runInDurableObject(stubFor(freshRoom("policies")), (_room, state) => {
					const policies = new RoomPolicies(new RoomStore(state.storage), state.storage, DEFAULTS);
					const found: string[] = [];
					let now = 1_000_000;
					let slowMs = 0;
					let moderatorsOnly = false;
					const lastSend = new Map<string, number>();
					const allowances = new Map<string, Allowance>();
					steps.forEach((s, index) => {
						now += s.after;
						if (s.kind === "settings") {
							policies.change({ slowModeSeconds: s.slowModeSeconds, postingRole: s.postingRole }, "mod");
							slowMs = s.slowModeSeconds * 1000;
							moderatorsOnly = s.postingRole === "moderators";
							return;
						}
						const api = s.role === "api";
						const userId = api ? null : `u-${s.user}`;
						const send: Extract<Submission, { kind: "send" }> = {
							kind: "send",
							from: api ? "operator:1" : `c-${s.user}-${s.tab}`,
							name: api ? "API" : `user ${s.user}`,
							userId,
							role: api ? null : (s.role as Role),
							text: "hi",
							clientId: `m${index}`,
							replyTo: null,
							...(api ? { api: true as const } : {}),
						};
						// The model: the API passes everything; everyone else draws on the user's allowance
						// first; then moderators pass; then the posting role; then slow mode.
						let expected: string | null = null;
						let wait = 0;
						if (!api && userId !== null) {
							const allowance = allowances.get(userId) ?? Object.assign(new Allowance(), { at: now });
							allowances.set(userId, allowance);
							wait = allowance.take(now);
							if (wait > 0) expected = "rate_limited";
							else if (s.role === "moderator") expected = null;
							else if (moderatorsOnly) expected = "posting_restricted";
							else if (slowMs > 0) {
								const last = lastSend.get(userId);
								if (last !== undefined && now - last < slowMs) {
									expected = "slow_mode";
									wait = last + slowMs - now;
								} else lastSend.set(userId, now);
							}
						}
						const got = policies.refusalOf("send", send, now);
						if ((got?.code ?? null) !== expected)
							found.push(`step ${index}: got ${got?.code ?? "admitted"}, expected ${expected ?? "admitted"}`);
						else if (got && got.code !== "posting_restricted" && got.retryAfterMs !== wait)
							found.push(`step ${index}: ${got.code} waits ${got.retryAfterMs}, expected ${wait}`);
						else if (got && got.clientId !== send.clientId)
							found.push(`step ${index}: refusal without the send's clientId`);
					});
					return found;
				});
				expect(mismatches).toEqual([]);
			}),
			{ numRuns: 100, seed: 2026 },
		);
	});
});
