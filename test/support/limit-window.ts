/**
 * Runs `fill` (given the attempt's number, 1 to 3, for a fresh address each time) within one
 * window of a rate limit of `periodSeconds`. The runtime's Rate Limiting binding counts in windows
 * aligned to the wall clock (every whole minute for 60 s), so a run that crosses a window's end
 * starts counting afresh halfway through; it is then run again, from the start of the new
 * window, which leaves it the whole period. Returns what the run that fitted returned.
 */
export async function inOneWindow<T>(periodSeconds: number, fill: (attempt: number) => Promise<T>): Promise<T> {
	const windowOf = () => Math.floor(Date.now() / (periodSeconds * 1000));
	for (let attempt = 1; ; attempt++) {
		const window = windowOf();
		const result = await fill(attempt);
		if (windowOf() === window) return result;
		if (attempt === 3)
			throw new Error("three runs each crossed a window's end: the machine is far too slow for this test");
	}
}
