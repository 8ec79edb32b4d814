// Interop check of mote's broker with MQTT.js (tools/peers).
// usage: node mqttjs_check.mjs PORT|URL 4|5
// (a URL such as ws://127.0.0.1:9001/mqtt for MQTT over WebSocket)
// Subscribes to js/# at QoS 2, publishes QoS 0, 1 and 2, a retained
// message and (MQTT 5) user properties; checks all come back; a client
// that drops its connection has its will published. Prints OK.
import mqtt from "mqtt";

const where = process.argv[2];
const url = /^[0-9]+$/.test(where) ? `mqtt://127.0.0.1:${where}` : where;
const version = Number(process.argv[3]);
const fail = (why) => {
  console.error(why);
  process.exit(1);
};
setTimeout(() => fail("timed out"), 8000).unref();

const client = await mqtt.connectAsync(url, {
  protocolVersion: version,
  clientId: `mqttjs-check-${version}`,
  clean: true,
  reconnectPeriod: 0,
});
const received = new Map();
let resolveAll;
const all = new Promise((resolve) => (resolveAll = resolve));
client.on("message", (topic, payload, packet) => {
  received.set(topic, { payload: payload.toString(), qos: packet.qos, packet });
  if (received.size === 3) resolveAll();
});
await client.subscribeAsync("js/#", { qos: 2 });
for (const qos of [0, 1, 2]) {
  const properties = version === 5 ? { userProperties: { n: String(qos) } } : undefined;
  await client.publishAsync(`js/${qos}`, `m${qos}`, { qos, properties });
}
await all;
for (const qos of [0, 1, 2]) {
  const got = received.get(`js/${qos}`);
  if (!got || got.payload !== `m${qos}` || got.qos !== qos) fail(`js/${qos}: ${JSON.stringify(got)}`);
  if (version === 5 && got.packet.properties?.userProperties?.n !== String(qos)) {
    fail(`js/${qos} properties: ${JSON.stringify(got.packet.properties)}`);
  }
}
// Retained: set, then a second client sees it on subscribe.
await client.publishAsync("jsr/state", "on", { qos: 1, retain: true });
const second = await mqtt.connectAsync(url, {
  protocolVersion: version,
  reconnectPeriod: 0,
});
const retained = new Promise((resolve) => second.on("message", (t, p, packet) => resolve({ t, p: p.toString(), retain: packet.retain })));
await second.subscribeAsync("jsr/#", { qos: 1 });
const got = await retained;
if (got.t !== "jsr/state" || got.p !== "on" || !got.retain) fail(`retained: ${JSON.stringify(got)}`);
await second.endAsync();
// A will: a client that loses its connection without DISCONNECT.
const will = new Promise((resolve) =>
  client.on("message", (t, p) => t === "jsw/gone" && resolve(p.toString())));
await client.subscribeAsync("jsw/gone", { qos: 1 });
const doomed = await mqtt.connectAsync(url, {
  protocolVersion: version,
  reconnectPeriod: 0,
  will: { topic: "jsw/gone", payload: "bye", qos: 1, retain: false },
});
doomed.stream.destroy();
if ((await will) !== "bye") fail("will payload");
await client.endAsync();
console.log("OK");
process.exit(0);
