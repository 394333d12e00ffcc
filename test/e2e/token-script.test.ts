/**
 * `npm run token` (scripts/token.ts), run as users run it (a Node child process): the token it
 * prints verifies with `jose` under the secret it was given, carries the claims asked for, the
 * link opens the right room with the token in the fragment, and a Worker with the same
 * `AUTH_SECRET` (and `TOKEN_AUDIENCE`) admits it; it mints nothing such a Worker would refuse
 * for living too long; mistakes are refused clearly.
 */
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startMiniflare } from "../../scripts/local-server.ts";
import { DEFAULTS, readConfig } from "../../src/deployment/config.ts";
import { joinRich } from "../support/rich-client.ts";

const SECRET = "a-test-secret-that-is-long-enough-for-hs256";
const SCRIPT = path.join(ROOT, "scripts/token.ts");

/** The environment without any token settings of the machine's own, and with `more`. */
function envWith(secret?: string, more: Record<string, string> = {}): NodeJS.ProcessEnv {
	const { AUTH_SECRET: _, TOKEN_MAX_LIFETIME_SECONDS: __, TOKEN_AUDIENCE: ___, ...env } = process.env;
	return { ...env, ...(secret === undefined ? {} : { AUTH_SECRET: secret }), ...more };
}

interface Run {
	code: number;
	stdout: string;
	stderr: string;
}

async function run(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Run> {
	try {
		const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, ...args], { env, cwd });
		return { code: 0, stdout, stderr };
	} catch (error) {
		const failed = error as { code: number; stdout: string; stderr: string };
		return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
	}
}

/** The `token:` and `url:` lines of a successful run. */
function printed(result: Run): { token: string; url: URL } {
	expect(result.code).toBe(0);
	const token = /^token: (\S+)$/m.exec(result.stdout)?.[1];
	const url = /^url: +(\S+)$/m.exec(result.stdout)?.[1];
	if (!token || !url) throw new Error(`unexpected output:\n${result.stdout}`);
	return { token, url: new URL(url) };
}

const key = (secret: string) => new TextEncoder().encode(secret);

let scratch: string;
beforeAll(async () => {
	scratch = await mkdtemp(path.join(tmpdir(), "edgechat-token-"));
});
afterAll(async () => {
	await rm(scratch, { recursive: true, force: true });
});

describe("npm run token", () => {
	it("prints an HS256 token that verifies with the secret and carries the claims, and a link to the room", async () => {
		const before = Math.floor(Date.now() / 1000);
		const args = ["--sub", "alice", "--name", "Alice", "--role", "moderator", "--room", "lobby", "--ttl", "1h"];
		const { token, url } = printed(await run(args, envWith(SECRET)));
		const { payload } = await jwtVerify(token, key(SECRET), { algorithms: ["HS256"] });
		expect(decodeProtectedHeader(token).alg).toBe("HS256");
		expect(payload).toMatchObject({ sub: "alice", name: "Alice", role: "moderator", room: "lobby" });
		expect(payload.exp).toBeGreaterThanOrEqual(before + 3600);
		expect(payload.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
		expect(url.origin).toBe("http://localhost:8787");
		expect(url.pathname).toBe("/");
		expect(url.searchParams.get("room")).toBe("lobby");
		expect(url.hash).toBe(`#token=${token}`);
		// Signed with that secret and no other.
		await expect(jwtVerify(token, key(`${SECRET}-not`))).rejects.toThrow(/signature/);
	});

	it("prints a token that a Worker with the same AUTH_SECRET and TOKEN_AUDIENCE admits, as the user and role it names", async () => {
		const settings = { TOKEN_AUDIENCE: "https://chat.example" };
		const args = ["--sub", "alice", "--name", "Alice", "--role", "moderator", "--room", "token-script"];
		// The audience is the server's setting, read from the same place as the secret.
		const { token } = printed(await run(args, envWith(SECRET, settings)));
		expect((await jwtVerify(token, key(SECRET))).payload.aud).toBe("https://chat.example");
		const server = await startMiniflare({ vars: { AUTH_SECRET: SECRET, ...settings } });
		try {
			// The terminal client (the client library in Node: the token offered as a subprotocol)
			// posts a line and exits 0 once the room has stored it.
			const terminal = spawn(
				path.join(ROOT, "node_modules/.bin/node"),
				["scripts/chat.ts", "--url", server.origin, "--room", "token-script", "--token", token],
				{ cwd: ROOT },
			);
			const exited = new Promise<number | null>((resolve) => terminal.once("exit", resolve));
			terminal.stdin.end("signed from the terminal\n");
			expect(await exited).toBe(0);
			// A client with the token in the query, as a tutorial's would send it, is the same user.
			const alice = await joinRich(`${server.socketUrl("token-script")}?token=${token}`, "ignored");
			expect(alice.welcome).toMatchObject({ name: "Alice", userId: "alice", role: "moderator" });
			expect(alice.messages).toEqual([
				expect.objectContaining({ name: "Alice", userId: "alice", text: "signed from the terminal" }),
			]);
			alice.client.socket.close(1000);
		} finally {
			await server.stop();
		}
	});

	it("mints nothing the server refuses for living too long: --ttl past TOKEN_MAX_LIFETIME_SECONDS is a usage error", async () => {
		// The server's default (src/deployment/config.ts), which the script keeps a copy of: a day.
		const limit = DEFAULTS.tokenMaxLifetimeSeconds;
		const longest = printed(await run(["--sub", "a", "--name", "A", "--ttl", String(limit)], envWith(SECRET)));
		const { payload } = await jwtVerify(longest.token, key(SECRET));
		expect((payload.exp as number) - (payload.iat as number)).toBe(limit);
		const tooLong = await run(["--sub", "a", "--name", "A", "--ttl", String(limit + 1)], envWith(SECRET));
		expect(tooLong.code).toBe(2);
		expect(tooLong.stderr).toContain(
			`--ttl ${limit + 1} is ${limit + 1} s, longer than TOKEN_MAX_LIFETIME_SECONDS (${limit} s): the server would refuse the token`,
		);
		expect(tooLong.stdout).toBe("");
		// The server's own setting, from the environment or .dev.vars, moves the limit (0: none).
		const week = ["--sub", "a", "--name", "A", "--ttl", "7d"];
		expect((await run(week, envWith(SECRET, { TOKEN_MAX_LIFETIME_SECONDS: "0" }))).code).toBe(0);
		const dir = path.join(scratch, "lifetime");
		await rm(dir, { recursive: true, force: true });
		await mkdir(dir);
		await writeFile(path.join(dir, ".dev.vars"), `AUTH_SECRET=${SECRET}\nTOKEN_MAX_LIFETIME_SECONDS=604800\n`);
		expect((await run(week, envWith(), dir)).code).toBe(0);
		// The values the server can use are those the script takes; one it could not fails here too.
		for (const value of ["31536000", "31536001", "a week"]) {
			const result = await run(week, envWith(SECRET, { TOKEN_MAX_LIFETIME_SECONDS: value }));
			const server = (() => {
				try {
					return readConfig({ TOKEN_MAX_LIFETIME_SECONDS: value }).tokenMaxLifetimeSeconds;
				} catch (error) {
					return (error as Error).message;
				}
			})();
			if (typeof server === "number") expect(result.code, value).toBe(0);
			else {
				expect(result.code, value).toBe(1);
				expect(result.stderr).toContain(server);
			}
		}
	});

	it("puts --aud in the aud claim, over the server's TOKEN_AUDIENCE, and none by default", async () => {
		const plain = printed(await run(["--sub", "a", "--name", "A"], envWith(SECRET)));
		expect((await jwtVerify(plain.token, key(SECRET))).payload.aud).toBeUndefined();
		const args = ["--sub", "a", "--name", "A", "--aud", "https://other.example"];
		const { token } = printed(await run(args, envWith(SECRET, { TOKEN_AUDIENCE: "https://chat.example" })));
		expect((await jwtVerify(token, key(SECRET))).payload.aud).toBe("https://other.example");
	});

	it('links a token for every room ("*") to the lobby, with the defaults: member, one hour', async () => {
		const before = Math.floor(Date.now() / 1000);
		const { token, url } = printed(await run(["--sub", "bob", "--name", "Bob", "--room", "*"], envWith(SECRET)));
		const { payload } = await jwtVerify(token, key(SECRET));
		expect(payload).toMatchObject({ sub: "bob", name: "Bob", role: "member", room: "*" });
		expect(payload.exp).toBeGreaterThanOrEqual(before + 3600);
		expect(url.searchParams.get("room")).toBe("lobby");
	});

	it("reads AUTH_SECRET from .dev.vars in the current directory when the environment has none", async () => {
		const dir = path.join(scratch, "devvars");
		await rm(dir, { recursive: true, force: true });
		await mkdir(dir);
		const fileSecret = "from-the-dev-vars-file-0123456789abcdef";
		await writeFile(path.join(dir, ".dev.vars"), `# local only\nMESSAGE_CAP=200\nAUTH_SECRET="${fileSecret}"\n`);
		const args = ["--sub", "carol", "--name", "Carol", "--ttl", "30m", "--origin", "https://chat.example"];
		const { token, url } = printed(await run(args, envWith(), dir));
		const { payload } = await jwtVerify(token, key(fileSecret));
		expect(payload.sub).toBe("carol");
		expect(url.origin).toBe("https://chat.example");
	});

	it("says where to put AUTH_SECRET when there is none, and prints no token", async () => {
		const result = await run(["--sub", "alice", "--name", "Alice"], envWith(), scratch);
		expect(result.code).toBe(1);
		expect(result.stderr).toMatch(/No AUTH_SECRET: set it in the environment or put an AUTH_SECRET=\.\.\. line in/);
		expect(result.stdout).toBe("");
	});

	it.each([
		[["--name", "Alice"], /--sub is required/],
		[["--sub", "alice"], /--name is required/],
		[["--sub", "alice", "--name", "Alice", "--role", "admin"], /--role must be one of member, moderator, readonly/],
		[["--sub", "alice", "--name", "Alice", "--ttl", "soon"], /--ttl must be a positive duration/],
		[["--sub", "alice", "--name", "Alice", "--room", "no spaces"], /--room must be a room name/],
		[["--sub", "alice", "--name", "Alice", "--aud", " "], /--aud must not be empty/],
		[["--sub", "alice", "--name", "Alice", "--colour", "red"], /Unknown option '--colour'/],
	])("refuses %j with a usage error (exit 2)", async (args, message) => {
		const result = await run(args, envWith(SECRET));
		expect(result.code).toBe(2);
		expect(result.stderr).toMatch(message);
		expect(result.stderr).toMatch(/see --help/);
		expect(result.stdout).toBe("");
	});

	it("explains itself with --help", async () => {
		const result = await run(["--help"], envWith());
		expect(result.code).toBe(0);
		expect(result.stdout).toMatch(/^Usage: npm run token -- --sub ID --name NAME/);
		for (const option of ["--sub", "--name", "--role", "--room", "--ttl", "--aud", "--origin"]) {
			expect(result.stdout).toContain(option);
		}
	});
});
