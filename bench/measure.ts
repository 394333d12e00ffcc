/**
 * What the benchmark reads off a server while the load runs: CPU time and resident memory of a
 * whole process tree (a server and every process it started, such as workerd under miniflare or
 * `wrangler dev`), from /proc.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** All descendants of `pid`, itself included. */
function processTree(pid: number): number[] {
	const all = [pid];
	for (let i = 0; i < all.length; i++) {
		try {
			const children = execFileSync("pgrep", ["-P", String(all[i])], { encoding: "utf8" }).trim();
			if (children) all.push(...children.split("\n").map(Number));
		} catch {
			// pgrep exits 1 when there are none.
		}
	}
	return all;
}

/** CPU seconds (user + system) used so far by a process tree. */
export function cpuSeconds(pid: number): number {
	let ticks = 0;
	for (const p of processTree(pid)) {
		try {
			const fields = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
			ticks += Number(fields[11]) + Number(fields[12]);
		} catch {
			// The process ended.
		}
	}
	return ticks / 100;
}

/** Resident memory of a process tree, in KiB. */
export function rssKiB(pid: number): number {
	let kib = 0;
	for (const p of processTree(pid)) {
		try {
			kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
		} catch {
			// The process ended.
		}
	}
	return kib;
}
