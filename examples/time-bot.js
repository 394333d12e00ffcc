// A bot that answers "!time" in a room: `node examples/time-bot.js` (Node 22 or newer), with
// EDGECHAT_URL and EDGECHAT_ROOM to point it elsewhere than http://localhost:8787 and lobby.
import { connect } from "edgechat/client";

const chat = connect({
	url: process.env.EDGECHAT_URL ?? "http://localhost:8787",
	room: process.env.EDGECHAT_ROOM ?? "lobby",
	name: "clock",
});

// Live messages only: history comes with the welcome, so old questions are not answered again.
chat.on("message", (message) => {
	if (message.text.trim() !== "!time" || message.name === chat.name) return;
	chat
		.send(`${message.name}, it is ${new Date().toUTCString()}`)
		.catch((error) => console.error(`not sent (${error.code}): ${error.message}`));
});
chat.on("state", ({ state, code, reason }) => {
	if (state === "closed") console.error(`closed for good: ${code} ${reason ?? ""}`);
});
