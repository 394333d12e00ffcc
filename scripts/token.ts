/**
 * `npm run token -- --sub alice --name Alice --role moderator --room lobby --ttl 1h`: mints a
 * signed-mode token (PROTOCOL.md, "Signed identity and moderation") with `AUTH_SECRET`, from the
 * environment or from `.dev.vars` in the current directory (where `wrangler dev` reads it too),
 * and prints it with a ready link to the chat page. For trying signed mode locally; a site mints
 * its users' tokens in its own backend (README, "Signed mode").
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { MAX_ROOM_NAME_LENGTH, ROLES, ROOM_NAME_CHARACTERS } from "../public/contract.js";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

const HELP = `Usage: npm run token -- --sub ID --name NAME [options]

Prints a signed-mode token (HS256, signed with AUTH_SECRET) and a link that opens the chat with it.

  --sub ID        the user's id (1 to 128 characters)                      required
  --name NAME     the name shown in the chat                               required
  --role ROLE     member, moderator or readonly                            default: member
  --room ROOM     the one room it admits to, or "*" for every room         default: lobby
  --ttl TIME      how long it admits: a number of seconds, or 30m, 1h, 7d  default: 1h
  --origin URL    where the chat runs, for the link                        default: http://localhost:8787
  --help          this text

AUTH_SECRET comes from the environment, or else from an AUTH_SECRET=... line in .dev.vars
(the file wrangler dev reads) in the current directory. It must be the server's secret.`;

/** A mistake in how the script was called: printed with a pointer to --help, exit code 2. */
class UsageError extends Error {}

/** `30`, `90s`, `30m`, `1h`, `7d` → seconds. */
function parseTtl(text: string): number {
	const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
	const seconds = match ? Number(match[1]) * (UNITS[match[2] || "s"] as number) : 0;
	if (!Number.isSafeInteger(seconds) || seconds < 1) {
		throw new UsageError(`--ttl must be a positive duration like 3600, 30m, 1h or 7d (got ${JSON.stringify(text)})`);
	}
	return seconds;
}

/** The `AUTH_SECRET=` value of a `.dev.vars` file (dotenv syntax: comments, optional quotes). */
function secretFromDevVars(file: string): string | undefined {
	if (!existsSync(file)) return undefined;
	for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
		const match = /^\s*(?:export\s+)?AUTH_SECRET\s*=\s*(.*?)\s*$/.exec(line);
		if (!match) continue;
		const value = match[1] as string;
		const quoted = /^(["'])(.*)\1$/.exec(value);
		return quoted ? (quoted[2] as string) : value.replace(/\s+#.*$/, "");
	}
	return undefined;
}

/** What to print: the help, or the token and its link. */
async function mint(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
	let values: ReturnType<typeof parse>["values"];
	try {
		values = parse(argv).values;
	} catch (error) {
		throw new UsageError(error instanceof Error ? error.message : String(error));
	}
	if (values.help) return HELP;
	const { sub, name, role = "member", room = "lobby", ttl = "1h", origin = "http://localhost:8787" } = values;
	if (!sub || sub.length > 128) throw new UsageError("--sub is required: the user's id, 1 to 128 characters");
	if (!name?.trim()) throw new UsageError("--name is required: the name shown in the chat");
	if (!(ROLES as readonly string[]).includes(role)) {
		throw new UsageError(`--role must be one of ${ROLES.join(", ")} (got ${JSON.stringify(role)})`);
	}
	if (room !== "*" && (room.length > MAX_ROOM_NAME_LENGTH || !ROOM_NAME_CHARACTERS.test(room))) {
		throw new UsageError(
			`--room must be a room name (1 to ${MAX_ROOM_NAME_LENGTH} of A-Z a-z 0-9 _ -) or "*" (got ${JSON.stringify(room)})`,
		);
	}
	let chat: URL;
	try {
		chat = new URL(origin);
	} catch {
		throw new UsageError(`--origin must be a URL like http://localhost:8787 (got ${JSON.stringify(origin)})`);
	}
	const devVars = path.join(cwd, ".dev.vars");
	const secret = env.AUTH_SECRET || secretFromDevVars(devVars);
	if (!secret) {
		throw new Error(
			`No AUTH_SECRET: set it in the environment or put an AUTH_SECRET=... line in ${devVars} (the server must use the same one).`,
		);
	}
	if (new TextEncoder().encode(secret).length < 32) {
		console.error(
			"token: warning: AUTH_SECRET is shorter than 32 bytes; use a long random one (openssl rand -base64 32)",
		);
	}
	const token = await new SignJWT({ name, room, role })
		.setProtectedHeader({ alg: "HS256", typ: "JWT" })
		.setSubject(sub)
		.setIssuedAt()
		.setExpirationTime(Math.floor(Date.now() / 1000) + parseTtl(ttl))
		.sign(new TextEncoder().encode(secret));
	chat.pathname = "/";
	chat.search = `?room=${room === "*" ? "lobby" : room}`;
	chat.hash = `token=${token}`;
	return `token: ${token}\nurl:   ${chat.href}`;
}

function parse(argv: string[]) {
	return parseArgs({
		args: argv,
		strict: true,
		allowPositionals: false,
		options: {
			sub: { type: "string" },
			name: { type: "string" },
			role: { type: "string" },
			room: { type: "string" },
			ttl: { type: "string" },
			origin: { type: "string" },
			help: { type: "boolean", short: "h" },
		},
	});
}

try {
	console.log(await mint(process.argv.slice(2), process.env, process.cwd()));
} catch (error) {
	const usage = error instanceof UsageError;
	console.error(`token: ${error instanceof Error ? error.message : String(error)}${usage ? "\n(see --help)" : ""}`);
	process.exit(usage ? 2 : 1);
}
