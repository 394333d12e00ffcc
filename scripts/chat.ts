/**
 * `npm run chat -- --room lobby --name ada`: a room in the terminal, on the client library
 * (`edgechat/client`, public/client/). Every line typed (or piped) into stdin is sent as a
 * message; the room's messages come out on stdout, one per line (`name: text`, or JSON lines with
 * `--json`); joins, leaves, the connection's state and refusals go to stderr, so stdout is just
 * the conversation. It reconnects by itself and resumes without gaps; lines typed while it is
 * away go out on return. At the end of stdin it waits until everything sent is stored, then
 * closes. For bots, for scripts, and for trying a deployed room from a shell.
 */
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { type ChatError, connect } from "edgechat/client";
import type { ChatMessage } from "../src/wire/log-entries.ts";

const HELP = `Usage: npm run chat -- --room ROOM (--name NAME | --token TOKEN) [options]

Joins a room: stdin lines are sent (faster than the room allows, they wait their turn), the
room's messages are printed as "name: text" (a message's further lines indented under it).

  --room ROOM     the room                                              default: lobby
  --name NAME     the name to join under (open mode)
  --token TOKEN   a signed-mode token (npm run token prints one); the name is its
  --url URL       the server                                            default: http://localhost:8787
  --json          print every event as one JSON line (for programs)
  --help          this text

Exit status: 0 once stdin has ended and everything sent was stored; 1 if a message was refused
or the room closed the connection for good (kicked, banned, token refused or expired).`;

const { values } = parseArgs({
	options: {
		room: { type: "string", default: "lobby" },
		name: { type: "string" },
		token: { type: "string" },
		url: { type: "string", default: "http://localhost:8787" },
		json: { type: "boolean", default: false },
		help: { type: "boolean", default: false },
	},
});
if (values.help || (!values.name && !values.token)) {
	console.log(HELP);
	process.exit(values.help ? 0 : 2);
}

// Lines piped in faster than the room's allowance wait their turn (the library paces itself by
// it), and one refused all the same (signed mode's allowance across a user's connections) goes
// again after the room's `retryAfterMs`: `seq 20 | npm run chat` posts all twenty.
const chat = connect({
	url: values.url,
	room: values.room,
	...(values.token ? { token: values.token } : { name: values.name as string }),
	retryRateLimited: true,
});
/** Whether a message was refused or the room closed the connection for good (exit status 1). */
let failed = false;
/** Whether stdin has ended and everything sent was answered (the close that follows is ours). */
let ending = false;
/** Sends still waiting for the room. */
const sending = new Set<Promise<unknown>>();

/** One line of the conversation (stdout) or about it (stderr). */
const out = (line: string) => process.stdout.write(`${line}\n`);

/**
 * A message as lines of stdout: `name: text`, each further line of a multi-line text indented
 * under the first (so a reader and `grep '^name: '` both see one message); a deleted one as
 * `name: (deleted)`, an edited one with `(edited)`.
 */
function messageLines({ name, text, deleted, edited }: Pick<ChatMessage, "name" | "text" | "deleted" | "edited">) {
	if (deleted) return `${name}: (deleted)`;
	const [first = "", ...rest] = text.split(/\r\n|\r|\n/);
	const indent = " ".repeat([...name].length + 2);
	return [`${name}: ${first}${edited ? " (edited)" : ""}`, ...rest.map((line) => indent + line)].join("\n");
}
const note = (line: string) => process.stderr.write(`${line}\n`);

if (values.json) {
	for (const type of [
		"welcome",
		"message",
		"edit",
		"delete",
		"join",
		"leave",
		"presence",
		"typing",
		"removed",
		"error",
	] as const) {
		chat.on(type, (event) => out(JSON.stringify({ event: type, ...event })));
	}
} else {
	chat.on("welcome", ({ welcome, resumed }) => {
		note(`* ${resumed ? "back in" : "joined"} ${values.room} as ${welcome.name} (${welcome.memberCount} here)`);
		if (welcome.gap && resumed) note("* some messages from while away are no longer kept");
		for (const entry of welcome.history) if (!("kind" in entry)) out(messageLines(entry));
	});
	chat.on("message", (message) => out(messageLines(message)));
	chat.on("edit", (edit) => note(`* ${edit.name} edited message ${edit.target}: ${edit.text}`));
	chat.on("delete", (deleted) => note(`* ${deleted.name} deleted message ${deleted.target}`));
	chat.on("join", ({ name }) => note(`* ${name} joined`));
	chat.on("leave", ({ name }) => note(`* ${name} left`));
	chat.on("presence", ({ joined, left, memberCount }) =>
		note(`* ${joined} joined, ${left} left (${memberCount} here)`),
	);
	chat.on("removed", ({ name, userId, by }) => note(`* ${name ?? userId} was removed by ${by}`));
	chat.on("error", (error) => note(`* refused (${error.code}): ${error.message}`));
}
chat.on("state", ({ state, retryInMs, code, reason }) => {
	if (state === "waiting") note(`* connection lost; retrying in ${Math.ceil((retryInMs ?? 0) / 1000)} s`);
	if (state === "closed" && !ending) {
		note(`* closed (${code}${reason ? `: ${reason}` : ""})`);
		process.exit(1);
	}
});

const lines = createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
	if (line.trim() === "") return;
	const sent = chat.send(line).then(
		() => {},
		(error: ChatError) => {
			note(`* not sent (${error.code}): ${error.message}`);
			failed = true;
		},
	);
	sending.add(sent);
	void sent.finally(() => sending.delete(sent));
});
lines.on("close", async () => {
	await Promise.all(sending);
	ending = true;
	chat.close();
	process.exit(failed ? 1 : 0);
});
