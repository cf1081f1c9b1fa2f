/**
 * The example of a user's own controller (examples/greeting-controller.ts) against a real
 * server: a Greeting applied with kubectl gets its ConfigMap and status; a changed message
 * reaches the ConfigMap; deleting the Greeting takes the ConfigMap with it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runGreetingController } from '../examples/greeting-controller.ts';
import { Client, HttpTransport } from '../src/client/index.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';

const examples = join(import.meta.dirname, '..', 'examples');
let server: TestServer;
let transport: HttpTransport;
const stop = new AbortController();
let running: Promise<void>;

before(async () => {
  server = await startServer();
  const crd = await kubectl(server, ['apply', '-f', join(examples, 'greeting-crd.yaml')]);
  assert.equal(crd.code, 0, crd.stderr);
  const established = await kubectl(server, ['wait', '--for=condition=Established', 'crd/greetings.example.com', '--timeout=20s']);
  assert.equal(established.code, 0, established.stderr);
  transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'greeting-controller' });
  running = runGreetingController(new Client(transport), stop.signal);
});

after(async () => {
  stop.abort();
  await running;
  transport?.close();
  await cleanup(server);
});

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a Greeting gets an owned ConfigMap and a status; changes follow; deletion cascades', async () => {
  assert.equal((await kubectl(server, ['apply', '-f', join(examples, 'greeting.yaml')])).code, 0);
  await until('the ConfigMap', async () => (await kubectl(server, ['get', 'configmap', 'hello-greeting', '-o', 'jsonpath={.data.message}'])).stdout === 'Hello from a TypeScript controller');
  await until('the status', async () => (await kubectl(server, ['get', 'greeting', 'hello', '-o', 'jsonpath={.status.configMap}/{.status.observedGeneration}'])).stdout === 'hello-greeting/1');
  const table = await kubectl(server, ['get', 'gr']);
  assert.match(table.stdout, /hello\s+Hello from a TypeScript controller\s+hello-greeting/);

  const changed = await kubectl(server, ['patch', 'greeting', 'hello', '--type', 'merge', '-p', '{"spec":{"message":"Changed"}}']);
  assert.equal(changed.code, 0, changed.stderr);
  await until('the new message', async () => (await kubectl(server, ['get', 'configmap', 'hello-greeting', '-o', 'jsonpath={.data.message}'])).stdout === 'Changed');
  await until('generation 2 observed', async () => (await kubectl(server, ['get', 'greeting', 'hello', '-o', 'jsonpath={.status.observedGeneration}'])).stdout === '2');

  // Someone edits the ConfigMap by hand: the controller puts the message back.
  const tampered = await kubectl(server, ['patch', 'configmap', 'hello-greeting', '--type', 'merge', '-p', '{"data":{"message":"tampered"}}']);
  assert.equal(tampered.code, 0, tampered.stderr);
  await until('the message restored', async () => (await kubectl(server, ['get', 'configmap', 'hello-greeting', '-o', 'jsonpath={.data.message}'])).stdout === 'Changed');

  const deleted = await kubectl(server, ['delete', 'greeting', 'hello', '--wait']);
  assert.equal(deleted.code, 0, deleted.stderr);
  await until('the ConfigMap to be collected', async () => (await kubectl(server, ['get', 'configmap', 'hello-greeting'])).code !== 0);
});
