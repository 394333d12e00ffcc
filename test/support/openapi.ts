/**
 * Holding real responses against the API's own OpenAPI document (served at /api/openapi.json):
 * every response a test sees goes through `ApiClient`, which keeps it, and `checkAll` validates
 * each one's status, content type and body against what the document says that route answers.
 * The document is JSON Schema 2020-12 inside (OpenAPI 3.1), so Ajv checks it as it is.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { OPENAPI_PATH } from "../../src/wire/operator.ts";

/** One response seen by a test. */
interface Seen {
	method: string;
	path: string;
	status: number;
	contentType: string | null;
	body: unknown;
}

/** The parts of an OpenAPI 3.1 document this checker reads. */
interface OpenApiDocument {
	paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
	webhooks?: Record<string, unknown>;
}

/** A client of the HTTP API that keeps every response for `checkAll`. */
export class ApiClient {
	readonly #origin: string;
	readonly #key: string | null;
	readonly seen: Seen[] = [];

	constructor(origin: string, key: string | null) {
		this.#origin = origin;
		this.#key = key;
	}

	/** Sends a request (a JSON body when `body` is given) and returns the status, headers and parsed body. */
	async request(
		method: string,
		path: string,
		options: { body?: unknown; rawBody?: string; headers?: Record<string, string>; key?: string | null } = {},
	): Promise<{ status: number; headers: Headers; body: unknown }> {
		const key = options.key === undefined ? this.#key : options.key;
		const headers: Record<string, string> = { ...options.headers };
		if (key !== null) headers.Authorization = `Bearer ${key}`;
		let body: string | undefined = options.rawBody;
		if (options.body !== undefined) {
			body = JSON.stringify(options.body);
			headers["Content-Type"] ??= "application/json";
		}
		const response = await fetch(`${this.#origin}${path}`, { method, headers, body });
		const text = await response.text();
		const contentType = response.headers.get("Content-Type");
		const parsed = text.length > 0 && contentType?.includes("json") ? (JSON.parse(text) as unknown) : text;
		this.seen.push({
			method,
			path: new URL(path, this.#origin).pathname,
			status: response.status,
			contentType,
			body: parsed,
		});
		return { status: response.status, headers: response.headers, body: parsed };
	}
}

/** The document's path template that `path` matches (`/api/rooms/{name}/messages`), if any. */
function templateOf(document: OpenApiDocument, path: string): string | undefined {
	return Object.keys(document.paths).find((template) => {
		const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
		return pattern.test(path);
	});
}

/** A validator of anything the document names by JSON Pointer (its own `$ref`s resolve within it). */
export function documentValidator(document: OpenApiDocument): (pointer: string, value: unknown) => string[] {
	const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
	ajv.addSchema(document as object, "openapi");
	return (pointer, value) => {
		const validate = ajv.compile({ $ref: `openapi#${pointer}` });
		return validate(value) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
	};
}

/** JSON Pointer escaping of one reference token. */
const pointerToken = (token: string) => token.replaceAll("~", "~0").replaceAll("/", "~1");

/**
 * Every response in `seen` against `document`: a status the route declares, and a body of the
 * declared content type that its schema accepts. Returns one line per mismatch (none: all hold).
 */
export function checkAll(document: OpenApiDocument, seen: readonly Seen[]): string[] {
	const validate = documentValidator(document);
	const problems: string[] = [];
	for (const response of seen) {
		const where = `${response.method} ${response.path} -> ${response.status}`;
		// The document itself is the one answer it does not describe.
		if (response.path === OPENAPI_PATH && response.status === 200) continue;
		const template = templateOf(document, response.path);
		const operation = template ? document.paths[template]?.[response.method.toLowerCase()] : undefined;
		if (!template || !operation) {
			// Routes outside the document answer problem details too; those are checked by the schema of a problem.
			if (response.contentType !== "application/problem+json") problems.push(`${where}: not in the document`);
			else problems.push(...validate("/components/schemas/Problem", response.body).map((e) => `${where}: ${e}`));
			continue;
		}
		const declared = operation.responses[String(response.status)];
		if (!declared) {
			problems.push(`${where}: status not declared`);
			continue;
		}
		if (!declared.content) {
			if (response.body !== "") problems.push(`${where}: declared without a body, got one`);
			continue;
		}
		const type = response.contentType?.split(";")[0]?.trim() ?? "";
		if (!(type in declared.content)) {
			problems.push(`${where}: content type ${type} not declared`);
			continue;
		}
		const pointer = `/paths/${pointerToken(template)}/${response.method.toLowerCase()}/responses/${response.status}/content/${pointerToken(type)}/schema`;
		problems.push(...validate(pointer, response.body).map((error) => `${where}: ${error}`));
	}
	return problems;
}
