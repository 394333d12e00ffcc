/**
 * `npm run token -- --sub alice --name Alice --role moderator --room lobby --ttl 1h`: mints a
 * signed-mode token (PROTOCOL.md, "Signed identity and moderation") with `AUTH_SECRET`, from the
 * environment or from `.dev.vars` in the current directory (where `wrangler dev` reads it too),
 * and prints it with a ready link to the chat page. For trying signed mode locally; a site mints
 * its users' tokens in its own backend (docs/operating.md, "Signed mode").
 *
 * It mints nothing the server would refuse for its settings: `TOKEN_MAX_LIFETIME_SECONDS` and
 * `TOKEN_AUDIENCE` are read from the same places as the secret (else the shipped defaults, those
 * of src/deployment/config.ts, which test/e2e/token-script.test.ts holds this file to), so a `--ttl` past
 * the limit is a usage error, and the audience is the server's unless `--aud` says otherwise.
 * (The script runs on Node's own TypeScript support, which reads no more than types stripped
 * away, so it imports no server module: those are free to use what only a compiler handles.)
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { MAX_ROOM_NAME_LENGTH, ROLES, ROOM_NAME_CHARACTERS } from "../public/contract.js";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `TOKEN_MAX_LIFETIME_SECONDS` as the server reads it (src/deployment/config.ts): its default and its largest value. */
const LIFETIME = { fallback: 86_400, max: 31_536_000 } as const;

const HELP = `Usage: npm run token -- --sub ID --name NAME [options]

Prints a signed-mode token (HS256, signed with AUTH_SECRET) and a link that opens the chat with it.

  --sub ID        the user's id (1 to 128 characters)                      required
  --name NAME     the name shown in the chat                               required
  --role ROLE     member, moderator or readonly                            default: member
  --room ROOM     the one room it admits to, or "*" for every room         default: lobby
  --ttl TIME      how long it admits: a number of seconds, or 30m, 1h, 1d  default: 1h
                  at most TOKEN_MAX_LIFETIME_SECONDS (default 86400, 1d; 0: no limit)
  --aud AUD       the audience (aud claim) it is for                       default: TOKEN_AUDIENCE, or none
  --origin URL    where the chat runs, for the link                        default: http://localhost:8787
  --help          this text

AUTH_SECRET, TOKEN_MAX_LIFETIME_SECONDS and TOKEN_AUDIENCE come from the environment, or else
from a NAME=... line in .dev.vars (the file wrangler dev reads) in the current directory. They
must be the server's.`;

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

/** The `NAME=` value of a `.dev.vars` file (dotenv syntax: comments, optional quotes). */
function fromDevVars(file: string, name: string): string | undefined {
	if (!existsSync(file)) return undefined;
	for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
		const match = new RegExp(`^\\s*(?:export\\s+)?${name}\\s*=\\s*(.*?)\\s*$`).exec(line);
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
	const setting = (name: string) => env[name] || fromDevVars(devVars, name);
	const seconds = parseTtl(ttl);
	const max = lifetimeLimit(setting("TOKEN_MAX_LIFETIME_SECONDS"));
	if (max > 0 && seconds > max) {
		throw new UsageError(
			`--ttl ${ttl} is ${seconds} s, longer than TOKEN_MAX_LIFETIME_SECONDS (${max} s): the server would refuse the token (401 token lives too long). Ask for less, or raise the setting on the server and here (environment or .dev.vars)`,
		);
	}
	const audience = values.aud === undefined ? setting("TOKEN_AUDIENCE")?.trim() || null : values.aud.trim();
	if (audience === "") throw new UsageError("--aud must not be empty (leave it out for the server's TOKEN_AUDIENCE)");
	const secret = setting("AUTH_SECRET");
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
	const jwt = new SignJWT({ name, room, role })
		.setProtectedHeader({ alg: "HS256", typ: "JWT" })
		.setSubject(sub)
		.setIssuedAt()
		.setExpirationTime(Math.floor(Date.now() / 1000) + seconds);
	if (audience !== null) jwt.setAudience(audience);
	const token = await jwt.sign(new TextEncoder().encode(secret));
	chat.pathname = "/";
	chat.search = `?room=${room === "*" ? "lobby" : room}`;
	chat.hash = `token=${token}`;
	return `token: ${token}\nurl:   ${chat.href}`;
}

/** The server's lifetime limit from the setting's text (absent: its default); one the server could not use fails here too. */
function lifetimeLimit(text: string | undefined): number {
	if (text === undefined || text.trim() === "") return LIFETIME.fallback;
	const value = Number(text.trim());
	if (!Number.isInteger(value) || value < 0 || value > LIFETIME.max) {
		throw new Error(
			`TOKEN_MAX_LIFETIME_SECONDS must be an integer from 0 to ${LIFETIME.max}, got ${JSON.stringify(text)} (in the environment or .dev.vars)`,
		);
	}
	return value;
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
			aud: { type: "string" },
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
