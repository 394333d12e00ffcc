/**
 * RFC 9457 problem details: how every refusal of the HTTP API reads (`application/problem+json`).
 * One function makes them, so each answer has the same shape: a `type` naming the kind of
 * problem, a `title` for it, the `status`, a one-line `detail` about this request, and, for a
 * request that was not valid, `errors` naming each field (a JSON Pointer into the body, or a
 * path or query parameter). docs/api.md lists every type.
 *
 * The types are `tag:` URIs (RFC 4151): RFC 9457 suggests them for types that are not meant to be
 * dereferenced, and this project has no domain of its own to serve pages from.
 */
import type { z } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import type { ProblemSchema } from "./schemas.ts";

/** One problem, as answered. */
export type Problem = z.infer<typeof ProblemSchema>;

/** One invalid field of a request. */
export type FieldError = NonNullable<Problem["errors"]>[number];

/** The kinds of problem, each with its status and title. */
export const PROBLEMS = {
	/** A parameter or the body is not valid (`errors` names each field). */
	invalid: { status: 400, title: "The request is not valid" },
	/** The body is not JSON. */
	badJson: { status: 400, title: "The body is not valid JSON" },
	/** No `Authorization: Bearer` header, or not the API key. */
	unauthorized: { status: 401, title: "A valid API key is needed" },
	/** The room's size: a signed-mode token that is not a moderator's for this room. */
	forbidden: { status: 403, title: "Not allowed" },
	/** No such route, or the API is off (no `API_KEY`), or no such message. */
	notFound: { status: 404, title: "Not found" },
	/** The route exists, not with this method (`Allow` lists the ones it has). */
	methodNotAllowed: { status: 405, title: "Method not allowed" },
	/** Kicks and bans need users, which only signed mode has. */
	signedModeOnly: { status: 409, title: "This needs signed mode" },
	/** A ban of one more user while the room keeps its most bans in force (src/room/bans.ts `MAX_BANS`). */
	tooManyBans: { status: 409, title: "The room keeps too many bans" },
	/** A retry of failed webhook events while webhooks are off: nothing could send them. */
	webhooksOff: { status: 409, title: "Webhooks are off" },
	/** The body is larger than the documented limit. */
	tooLarge: { status: 413, title: "The body is too large" },
	/** The body is not `application/json`. */
	unsupportedMediaType: { status: 415, title: "The body must be application/json" },
	/** Without the API key, more requests that reach a room from one address than `ROOM_REQUEST_LIMIT` allows. */
	tooManyRequests: { status: 429, title: "Too many requests from this address" },
	/** The body is valid JSON of the right shape but refers to something that is not there (`replyTo`). */
	unprocessable: { status: 422, title: "The request refers to something that is not there" },
	/** The room could not store it (a storage failure); nothing was stored: retry, with the same `clientId`. */
	unavailable: { status: 503, title: "The room could not store this; retry" },
	/** A setting is unusable (the Worker's log says which); nothing was done. */
	misconfigured: { status: 500, title: "The server is misconfigured" },
} as const satisfies Record<string, { status: number; title: string }>;

/** A kind of problem. */
export type ProblemKind = keyof typeof PROBLEMS;

/** The `type` URI of a kind of problem. */
export function problemType(kind: ProblemKind): string {
	return `tag:edgechat,2026:problem:${kind.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** The problem details answer: `kind`'s status, a one-line `detail`, and the invalid fields if any. */
export function problem(
	kind: ProblemKind,
	detail: string,
	options: { errors?: FieldError[]; headers?: Record<string, string> } = {},
): Response {
	const { status, title } = PROBLEMS[kind];
	const body: Problem = { type: problemType(kind), title, status, detail };
	if (options.errors && options.errors.length > 0) body.errors = options.errors;
	return new Response(JSON.stringify(body), {
		status,
		headers: { "Content-Type": "application/problem+json", ...options.headers },
	});
}

/** A refusal a handler decides: thrown, and answered as problem details by the app's error handler. */
export class ApiProblem extends Error {
	constructor(
		readonly kind: ProblemKind,
		readonly detail: string,
		readonly options: { errors?: FieldError[]; headers?: Record<string, string> } = {},
	) {
		super(detail);
	}
}

/** Each zod issue as a named field: a JSON Pointer into the body, or a parameter. */
export function fieldErrors(error: ZodError, target: string): FieldError[] {
	return error.issues.flatMap((issue): FieldError[] => {
		const keys = issue.code === "unrecognized_keys" ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
		const detail = issue.code === "unrecognized_keys" ? "is not a field of this request" : issue.message;
		return keys.map((path) =>
			target === "json"
				? {
						pointer:
							path.length === 0
								? "#"
								: `#/${path.map((part) => String(part).replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`,
						detail,
					}
				: { parameter: String(path[0] ?? ""), detail },
		);
	});
}

/** The answer when the room could not store what it was asked. */
export function unavailable(): ApiProblem {
	return new ApiProblem("unavailable", "the room could not store this; nothing was stored: retry", {
		headers: { "Retry-After": "1" },
	});
}
