// MQTT 5 enhanced authentication of MQTT.js against mote's broker: a
// SCRAM-SHA-1 client (RFC 5802) written here with node's crypto, so it
// checks mote's broker against an independent implementation.
// usage: node mqttjs_scram.mjs PORT   (alice / wonderland in the scram file)
// Checks: the right password connects and the server signature in CONNACK
// verifies; a wrong one gets CONNACK 0x86; an unknown method gets 0x8C.
// Prints OK.
import crypto from "node:crypto";
import mqtt from "mqtt";

const port = Number(process.argv[2]);
const fail = (why) => {
  console.error(why);
  process.exit(1);
};
setTimeout(() => fail("timed out"), 15000).unref();

const hmac = (key, text) => crypto.createHmac("sha1", key).update(text).digest();
const sha1 = (data) => crypto.createHash("sha1").update(data).digest();
const attribute = (message, name) => {
  const field = message.split(",").find((f) => f.startsWith(`${name}=`));
  return field === undefined ? undefined : field.slice(2);
};

// Resolves with { connack, serverSignatureOk } or rejects with the error.
function scramConnect(user, password, method = "SCRAM-SHA-1") {
  const clientNonce = crypto.randomBytes(18).toString("base64");
  const clientFirstBare = `n=${user},r=${clientNonce}`;
  let expectedServerSignature;
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      clientId: `mqttjs-scram-${user}`,
      reconnectPeriod: 0,
      properties: {
        authenticationMethod: method,
        authenticationData: Buffer.from(`n,,${clientFirstBare}`),
      },
    });
    client.handleAuth = (packet, callback) => {
      const serverFirst = packet.properties.authenticationData.toString();
      const nonce = attribute(serverFirst, "r");
      if (!nonce.startsWith(clientNonce)) return callback(new Error("server nonce"));
      const salt = Buffer.from(attribute(serverFirst, "s"), "base64");
      const iterations = Number(attribute(serverFirst, "i"));
      const salted = crypto.pbkdf2Sync(password, salt, iterations, 20, "sha1");
      const clientKey = hmac(salted, "Client Key");
      const withoutProof = `c=biws,r=${nonce}`;
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const signature = hmac(sha1(clientKey), authMessage);
      const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
      expectedServerSignature = hmac(hmac(salted, "Server Key"), authMessage).toString("base64");
      callback(null, {
        cmd: "auth",
        reasonCode: 0x18,
        properties: {
          authenticationMethod: method,
          authenticationData: Buffer.from(`${withoutProof},p=${proof.toString("base64")}`),
        },
      });
    };
    client.on("connect", (connack) => {
      const final = connack.properties?.authenticationData?.toString() ?? "";
      client.end(true);
      resolve({ connack, serverSignatureOk: final === `v=${expectedServerSignature}` });
    });
    client.on("error", (error) => {
      client.end(true);
      reject(error);
    });
  });
}

const good = await scramConnect("alice", "wonderland");
if (good.connack.reasonCode !== 0) fail(`good password: ${good.connack.reasonCode}`);
if (good.connack.properties.authenticationMethod !== "SCRAM-SHA-1") fail("no method in CONNACK");
if (!good.serverSignatureOk) fail("the server signature does not verify");

const codeOf = async (promise) => {
  try {
    await promise;
    return "connected";
  } catch (error) {
    return error.code;
  }
};
const wrong = await codeOf(scramConnect("alice", "guess"));
if (wrong !== 0x86) fail(`wrong password: ${wrong}`);
const unknown = await codeOf(scramConnect("alice", "wonderland", "SCRAM-SHA-512"));
if (unknown !== 0x8c) fail(`unknown method: ${unknown}`);
console.log("OK");
process.exit(0);
