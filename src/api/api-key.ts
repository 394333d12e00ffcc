/**
 * The API key check: `Authorization: Bearer <API_KEY>`, compared in constant time. Both sides are
 * hashed first (SHA-256), so the comparison takes the same time whatever the key's length and
 * wherever a wrong key differs, and then compared with the runtime's `timingSafeEqual`. Hono's
 * own bearer middleware is not used: it answers a refusal in its own format, and this API answers
 * every refusal as problem details (src/api/problems.ts).
 */

const encoder = new TextEncoder();

/** The digest of each key this isolate has seen (a Worker keeps one key, read from its secrets). */
const digests = new Map<string, Promise<ArrayBuffer>>();

function digestOf(text: string): Promise<ArrayBuffer> {
	return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/** The bearer token of an `Authorization` header, or `null` when there is none. */
export function bearerOf(authorization: string | null | undefined): string | null {
	const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
	return match?.[1] ?? null;
}

/** Whether `given` is `key`, without telling anyone how close it came. */
export async function isApiKey(given: string | null, key: string): Promise<boolean> {
	if (given === null) return false;
	let keyDigest = digests.get(key);
	if (!keyDigest) {
		keyDigest = digestOf(key);
		digests.set(key, keyDigest);
	}
	const [a, b] = await Promise.all([digestOf(given), keyDigest]);
	return crypto.subtle.timingSafeEqual(a, b);
}
