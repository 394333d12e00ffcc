/**
 * Cloudflare Access and the account requests' per-address limit, against `wrangler dev`
 * (docs/operating.md, "Accounts"). Access itself cannot run here, so the test is the team: a key
 * set on loopback, served at `/cdn-cgi/access/certs` as Access serves a team's, and assertions
 * signed with it as Access signs them. `ACCESS_TEAM_DOMAIN` points at it (http is accepted for a
 * loopback address only).
 */
import { createServer, type Server } from "node:http";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { SUBPROTOCOL } from "../../public/contract.js";
import { freePort, startWranglerDev, type WranglerDev } from "../../scripts/local-server.ts";
import { inOneWindow } from "../support/limit-window.ts";
import { freshRoom } from "../support/room-names.ts";

const AUD = "edgechat-test-application";

let server: WranglerDev;
let team: Server;
let teamDomain: string;
type Key = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
let signingKey: Key;
let otherKey: Key;

beforeAll(async () => {
	const pair = await generateKeyPair("RS256", { extractable: true });
	signingKey = pair.privateKey;
	otherKey = (await generateKeyPair("RS256")).privateKey;
	const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "team-key", alg: "RS256", use: "sig" };
	const port = await freePort();
	teamDomain = `http://127.0.0.1:${port}`;
	team = createServer((request, response) => {
		if (request.url !== "/cdn-cgi/access/certs") return void response.writeHead(404).end();
		response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
	});
	await new Promise<void>((resolve) => team.listen(port, "127.0.0.1", resolve));
	server = await startWranglerDev({
		vars: { SIGN_IN: "passkeys,access", ACCESS_TEAM_DOMAIN: teamDomain, ACCESS_AUD: AUD },
	});
}, 90_000);

afterAll(async () => {
	await server?.stop();
	await new Promise((resolve) => team?.close(resolve));
});

/** An assertion as Access would sign it, with what a test changes. */
function assertion(
	claims: { sub: string; email: string },
	{ key = signingKey, aud = AUD, expiresIn = "5m" }: { key?: Key; aud?: string; expiresIn?: string } = {},
): Promise<string> {
	return new SignJWT({ email: claims.email })
		.setProtectedHeader({ alg: "RS256", kid: "team-key" })
		.setSubject(claims.sub)
		.setIssuer(teamDomain)
		.setAudience(aud)
		.setIssuedAt()
		.setExpirationTime(expiresIn)
		.sign(key);
}

/** Opens a socket with an assertion: its welcome, or the status and reason it was refused with. */
function join(room: string, signed: string | null, origin?: string) {
	return new Promise<{ welcome: Record<string, unknown> } | { status: number; reason: string }>((resolve, reject) => {
		const headers: Record<string, string> = origin ? { Origin: origin } : {};
		if (signed) headers["Cf-Access-Jwt-Assertion"] = signed;
		const socket = new WebSocket(server.socketUrl(room), [SUBPROTOCOL], { headers });
		socket.on("open", () => socket.send(JSON.stringify({ type: "hello", name: "" })));
		socket.on("message", (data) => {
			const event = JSON.parse(String(data));
			if (event.type !== "welcome") return;
			socket.close();
			resolve({ welcome: event });
		});
		socket.on("unexpected-response", (_request, response) => {
			let body = "";
			response.on("data", (chunk) => {
				body += chunk;
			});
			response.on("end", () => resolve({ status: response.statusCode ?? 0, reason: body.trim() }));
		});
		socket.on("error", reject);
	});
}

describe("Cloudflare Access", () => {
	it("admits the person an assertion vouches for, under an account made the first time", async () => {
		const room = freshRoom("access");
		const ada = await assertion({ sub: "access-user-1", email: "ada.lovelace@example.com" });
		const joined = await join(room, ada);
		expect(joined).toMatchObject({ welcome: { name: "ada.lovelace", role: "moderator" } });
		const userId = "welcome" in joined ? joined.welcome.userId : null;
		expect(userId).toMatch(/^u_[A-Za-z0-9_-]{22}$/);
		// The same person again is the same account; another with the same name gets the next handle.
		expect(
			await join(room, await assertion({ sub: "access-user-1", email: "ada.lovelace@example.com" })),
		).toMatchObject({
			welcome: { userId },
		});
		const other = await assertion({ sub: "access-user-2", email: "ada.lovelace@elsewhere.example" });
		const me = (await (
			await fetch(`${server.origin}/auth/me`, { headers: { "Cf-Access-Jwt-Assertion": other } })
		).json()) as {
			account: { handle: string; kind: string };
		};
		expect(me.account).toMatchObject({ handle: "ada-lovelace-2", kind: "access" });
		expect(await join(room, other)).toMatchObject({ welcome: { role: "member" } });
	});

	it("refuses an assertion for another application, an expired one, one signed by another key, and none", async () => {
		const room = freshRoom("access");
		const who = { sub: "access-user-3", email: "grace@example.com" };
		expect(await join(room, await assertion(who, { aud: "another-application" }))).toEqual({
			status: 403,
			reason: "access assertion refused: its aud is not this application's",
		});
		expect(await join(room, await assertion(who, { expiresIn: "-1m" }))).toEqual({
			status: 401,
			reason: "access assertion expired",
		});
		expect(await join(room, await assertion(who, { key: otherKey }))).toEqual({
			status: 403,
			reason: "access assertion is not signed by this team's keys",
		});
		expect(await join(room, null)).toEqual({ status: 401, reason: "sign in to join this room" });
	});

	it("lets only the chat's own page open a socket Access admits", async () => {
		const room = freshRoom("access");
		const signed = await assertion({ sub: "access-user-4", email: "hedy@example.com" });
		expect(await join(room, signed, server.origin)).toMatchObject({ welcome: { name: "hedy" } });
		expect(await join(room, signed, "https://elsewhere.example")).toEqual({
			status: 403,
			reason: "origin https://elsewhere.example is not allowed",
		});
		// Another port of this machine, which open mode trusts, may not ride on a person's credentials.
		expect(await join(room, signed, "http://localhost:1")).toEqual({
			status: 403,
			reason: "origin http://localhost:1 may not open a signed-in socket: only this chat's own page may",
		});
	});
});

describe("account requests", () => {
	it("are limited to 30 a minute per address (429 with Retry-After past it), and other addresses go on", async () => {
		const { statuses, refused, other } = await inOneWindow(60, async (attempt) => {
			const from = (address: string) =>
				// Signing out costs nothing else (no session here): only the limit answers differently.
				fetch(`${server.origin}/auth/sign-out`, {
					method: "POST",
					headers: { "Content-Type": "application/json", Origin: server.origin, "CF-Connecting-IP": address },
					body: "{}",
				});
			const address = `198.51.100.${attempt}`;
			const statuses: number[] = [];
			for (let i = 0; i < 30; i++) statuses.push((await from(address)).status);
			return { statuses, refused: await from(address), other: await from(`198.51.100.${attempt + 10}`) };
		});
		expect(statuses).toEqual(Array(30).fill(204));
		expect(refused.status).toBe(429);
		expect(refused.headers.get("Retry-After")).toBe("60");
		expect(other.status).toBe(204);
	});
});
