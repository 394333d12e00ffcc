// The reference: the tutorial's chat server on Node's `ws` package, in one process, as people
// write it (a Set of sockets per room, `message.slice(0, 50)`, send to all, delete on close).
// Rooms come from the same URL layout as edgechat's, so one load generator drives both.
// Usage: node bench/reference-server.mjs PORT
import http from "node:http";
import { WebSocketServer } from "ws";

const port = Number(process.argv[2] ?? 8788);
const rooms = new Map();
const server = http.createServer((_, response) => {
	response.writeHead(426).end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });

wss.on("connection", (ws, request) => {
	const name = /^\/api\/rooms\/([^/]+)\/websocket/.exec(request.url ?? "")?.[1] ?? "lobby";
	let clients = rooms.get(name);
	if (!clients) {
		clients = new Set();
		rooms.set(name, clients);
	}
	clients.add(ws);
	ws.on("message", (data, isBinary) => {
		const message = isBinary ? data : data.toString().slice(0, 50);
		for (const client of clients) client.send(message, { binary: isBinary });
	});
	ws.on("close", () => clients.delete(ws));
	ws.on("error", () => clients.delete(ws));
});

server.listen(port, "127.0.0.1", () => process.send?.({ ready: port }));
