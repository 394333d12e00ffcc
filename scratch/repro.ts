import WebSocket from "ws";
import { startMiniflare } from "../scripts/local-server.ts";

const server = await startMiniflare({});
const url = server.socketUrl("repro");
function run(name: string, frames: (string | Buffer)[], close: [number, string]) {
	return new Promise<void>((resolve) => {
		const ws = new WebSocket(url, ["edgechat.v1"]);
		ws.on("open", () => {
			for (const f of frames) ws.send(f);
			ws.close(close[0], close[1]);
		});
		ws.on("message", (d) => console.log(name, "<-", String(d).slice(0, 150)));
		ws.on("close", (code, reason) => {
			console.log(name, "closed", code, String(reason));
			resolve();
		});
	});
}
const c0 = [
	JSON.stringify({ type: "hello", name: "n Tn<(J", since: 1925 }),
	JSON.stringify({ type: "send", clientId: "p-d", text: "😀".repeat(2000) }),
	JSON.stringify({ type: "hello", name: "x" }),
	JSON.stringify({ type: "hello", name: "y" }),
	JSON.stringify({ type: "hello", name: "Ꝇ𝙌", since: 4284 }),
	JSON.stringify({ type: "history", after: "1" }),
	JSON.stringify({ type: "hello", name: "ѐ⪢䷊", since: 1e300 }),
	JSON.stringify({ type: "send", clientId: "ünïcode", text: "x" }),
	JSON.stringify({ type: "hello", name: "Zoë", since: 3515 }),
];
const c1 = [
	JSON.stringify({ type: "hello", name: "\tIhYt5:\t" }),
	JSON.stringify({ type: "send", clientId: "p-G", text: " " }),
	JSON.stringify({ type: "hello", name: "👩🏾‍🫯‍👩🏿⁠x" }),
	"[".repeat(6432) + "]".repeat(6432),
	JSON.stringify({ type: "history", before: 7131, limit: 26 }),
	"€".repeat(5462),
];
await Promise.race([
	Promise.all([run("c0", c0, [1000, "ünï"]), run("c1", c1, [4000, "ünï"])]),
	new Promise((r) => setTimeout(r, 8000)),
]);
console.log("done");
await server.stop();
process.exit(0);
