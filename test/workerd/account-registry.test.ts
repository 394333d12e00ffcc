/**
 * The account registry's guards (src/accounts/registry.ts), on the real Durable Object: what is
 * unique stays with whoever had it first, and what a script can start is bounded per address.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_OPEN_PER_ADDRESS } from "../../src/accounts/registry.ts";

/** A registry of its own for each test (the deployment's is `idFromName("registry")`). */
const registry = () => env.ACCOUNTS.get(env.ACCOUNTS.newUniqueId());

describe("the account registry", () => {
	it("never moves a passkey id to another account: an attestation of format none signs nothing, so a client can present any id", async () => {
		const accounts = registry();
		expect(await accounts.indexCredential("victim-credential", "u_victim")).toBe(true);
		expect(await accounts.indexCredential("victim-credential", "u_thief")).toBe(false);
		expect(await accounts.userOfCredential("victim-credential")).toBe("u_victim");
		// The thief cannot take it off the victim either.
		await accounts.unindexCredential("victim-credential", "u_thief");
		expect(await accounts.userOfCredential("victim-credential")).toBe("u_victim");
	});

	it("keeps display names unique as a reader reads them: case, and a look-alike letter, aside", async () => {
		const accounts = registry();
		expect(await accounts.claimDisplayName("Ada Lovelace", "u_ada")).toBe(true);
		expect(await accounts.claimDisplayName("ada lovelace", "u_other")).toBe(false);
		// A Cyrillic А.
		expect(await accounts.claimDisplayName("\u0410da Lovelace", "u_other")).toBe(false);
		expect(await accounts.claimDisplayName("Ada Lovelace", "u_ada")).toBe(true);
	});

	it("lets an uninvited sign-up claim a handle only as the deployment's first", async () => {
		const accounts = registry();
		expect(await accounts.claimHandle("owner", "u_owner", 1, { onlyFirst: true })).toBe("first");
		expect(await accounts.claimHandle("late", "u_late", 2, { onlyFirst: true })).toBe("taken");
		expect(await accounts.claimHandle("invited", "u_invited", 3)).toBe("claimed");
	});

	it("bounds the ceremonies one address may have waiting, not anyone else's", async () => {
		const accounts = registry();
		const start = (address: string) =>
			accounts.startCeremony({ purpose: "sign-in", challenge: "c", data: "" }, address, 1_000);
		for (let i = 0; i < MAX_OPEN_PER_ADDRESS; i++) expect(await start("addr:a")).not.toBeNull();
		expect(await start("addr:a")).toBeNull();
		expect(await start("addr:b")).not.toBeNull();
		// Taken once, then gone.
		const id = (await start("addr:c")) as string;
		expect(await accounts.takeCeremony(id, "sign-in", 2_000)).toMatchObject({ challenge: "c" });
		expect(await accounts.takeCeremony(id, "sign-in", 2_000)).toBeNull();
	});
});
