// Browser test of the dashboard on the whole system as a user starts it:
// `mote demo` (the gateway, the kitchen and garage nodes over MQTT, the attic
// node over CoAP and, when MOTE_SENSOR_NODE_NET_IMAGE names a firmware image,
// the firmware node in QEMU) on loopback ports that were free. It opens the
// dashboard in headless Debian Chromium (playwright-core) and checks that
// every node is listed online, that a chart updates live without reloading,
// that MQTT.js in the page talks to the broker over WebSocket at /mqtt, and
// that a node that is killed is shown offline with an alert. Saves a
// screenshot of that last state, then stops the demo with SIGTERM and expects
// a clean exit.
//
//   [MOTE_SENSOR_NODE_NET_IMAGE=sensor_node_net.elf] node e2e/dashboard.mjs <mote binary> <screenshot.png>
//
// Everything listens on 127.0.0.1; every wait is bounded; the processes are
// killed when the test ends, whatever the outcome.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../tools/peers/package.json'));
const { chromium } = require('playwright-core');

const [moteBinary, screenshotPath] = process.argv.slice(2);
if (!moteBinary || !screenshotPath) {
  console.error('usage: node e2e/dashboard.mjs <mote binary> <screenshot.png>');
  process.exit(2);
}

const children = [];
const dataDir = mkdtempSync(join(tmpdir(), 'mote-dashboard-'));
let browser;

function cleanUp() {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}
process.on('exit', cleanUp);

function unusedPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function start(name, args) {
  const child = spawn(moteBinary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (data) => (child.output += data));
  child.stderr.on('data', (data) => (child.output += data));
  child.on('exit', (code, signal) => (child.exitedWith = signal ?? code));
  child.label = name;
  children.push(child);
  return child;
}

async function waitFor(what, check, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function fail(message) {
  console.error(`FAIL: ${message}`);
  for (const child of children) {
    console.error(`--- ${child.label} (exit ${child.exitedWith ?? 'running'}) ---\n${child.output}`);
  }
  process.exitCode = 1;
}

try {
  const [httpPort, mqttPort, coapPort] = await Promise.all([unusedPort(), unusedPort(), unusedPort()]);
  const firmware = process.env.MOTE_SENSOR_NODE_NET_IMAGE;
  const demo = start('demo', [
    'demo', '--data-dir', dataDir, '--http-port', String(httpPort), '--mqtt-port', String(mqttPort),
    '--coap-port', String(coapPort), '--interval', '500ms', '--duration', '5m',
    ...(firmware ? ['--firmware', firmware] : ['--no-firmware']),
  ]);
  await waitFor('mote demo to be up', () => demo.output.includes('mote demo: the system is up'), 30000);
  // "  node kitchen   pid 1234 ..." lines of the demo's output.
  const pids = new Map(
    [...demo.output.matchAll(/\n {2}node (\w+) +pid (\d+) /g)].map((m) => [m[1], Number(m[2])]),
  );
  const nodes = ['kitchen', 'garage', 'attic', ...(firmware ? ['firmware'] : [])];
  for (const name of nodes) {
    if (!pids.has(name)) throw new Error(`mote demo did not start node ${name}`);
  }
  const url = `http://127.0.0.1:${httpPort}/`;
  await waitFor('the gateway to serve HTTP', async () => (await fetch(`${url}api/devices`)).ok);

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(url);

  // Every node listed and online.
  for (const name of nodes) {
    await page.locator(`.device[data-device="${name}"][data-online="true"]`).waitFor({ timeout: 90000 });
    console.log(`${name} listed online`);
  }
  await page.locator('#connection[data-state="open"]').waitFor({ timeout: 10000 });

  // A chart of the selected node grows while we watch, without a reload.
  await page.locator(`.device[data-device="${nodes[0]}"]`).click();
  const chart = page.locator('.chart').first();
  await chart.waitFor({ timeout: 10000 });
  const before = Number(await waitFor('a chart with points', async () => {
    const last = await chart.getAttribute('data-last-time-ms');
    return last ? last : null;
  }));
  const after = await waitFor('the chart to update live', async () => {
    const last = Number(await chart.getAttribute('data-last-time-ms'));
    return last > before ? last : null;
  });
  console.log(`chart updated live: newest point ${before} -> ${after}`);
  // The live chart spans the last 15 minutes, however little data there is.
  const spanMs = Number(await chart.getAttribute('data-span-ms'));
  if (Math.abs(spanMs - 15 * 60 * 1000) > 1000) throw new Error(`the live chart spans ${spanMs} ms, not 15 min`);

  // MQTT.js in the page, over WebSocket at /mqtt: it hears a node that
  // publishes over TCP, and what it publishes reaches the gateway.
  await page.addScriptTag({ path: join(here, '../tools/peers/node_modules/mqtt/dist/mqtt.min.js') });
  const heard = await page.evaluate(
    ([wsUrl, node]) =>
      new Promise((resolve, reject) => {
        setTimeout(() => reject(new Error('no message over MQTT/WebSocket')), 10000);
        const client = window.mqtt.connect(wsUrl, { clientId: 'browser', reconnectPeriod: 0 });
        client.on('error', (error) => reject(error));
        client.on('message', (topic, payload, packet) => {
          if (packet.retain) return;  // a live message, not the retained status
          client.publish('mote/browser/temperature', '21.5', { qos: 1 }, () => {
            client.end();
            resolve(topic);
          });
        });
        client.subscribe(`mote/${node}/#`, { qos: 1 });
      }),
    [`ws://127.0.0.1:${httpPort}/mqtt`, nodes[0]],
  );
  console.log(`MQTT.js in the browser heard ${heard} over ws://.../mqtt`);
  await waitFor('the browser\'s reading in the API', async () => {
    const devices = await (await fetch(`${url}api/devices`)).json();
    return devices.devices.some((device) => device.name === 'browser');
  });

  // A node that stops is shown offline, with an alert.
  process.kill(pids.get(nodes[1]), 'SIGKILL');
  await page.locator(`.device[data-device="${nodes[1]}"][data-online="false"]`).waitFor({ timeout: 20000 });
  await page.locator(`.alert[data-device="${nodes[1]}"]`).waitFor({ timeout: 10000 });
  console.log(`${nodes[1]} shown offline with an alert`);
  await page.screenshot({ path: screenshotPath, fullPage: true });
  console.log(`screenshot: ${screenshotPath}`);

  if (pageErrors.length > 0) fail(`errors in the page: ${pageErrors.join('; ')}`);
  if (demo.exitedWith !== undefined) fail(`mote demo exited (${demo.exitedWith})`);
  // Ctrl-C's signal stops every node and then the gateway, cleanly.
  demo.kill('SIGTERM');
  await waitFor('mote demo to stop', () => demo.exitedWith !== undefined, 60000);
  if (demo.exitedWith !== 0) fail(`mote demo stopped with ${demo.exitedWith}, not 0`);
  if (!process.exitCode) console.log('PASS');
} catch (error) {
  fail(error.message);
} finally {
  await browser?.close();
  cleanUp();
}
