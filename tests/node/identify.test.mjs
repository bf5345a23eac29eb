// customerio-node, unmodified, against `roster serve --ephemeral --tls-self-signed`: an identify
// sent with the Track client is read back with the App API client (docs/api.md §7).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { APIClient, TrackClient } from 'customerio-node';

import { startRoster } from './roster.mjs';

let roster;

before(async () => {
  roster = await startRoster();
});

after(async () => {
  if (roster) await roster.stop();
});

test('an identify sent with customerio-node is read back through the App API', async () => {
  const { url, site_id, track_api_key, app_api_key, ca_bundle } = roster.info;
  // customerio-node speaks HTTPS only: it trusts roster's certificate through `ca`.
  const tls = { port: roster.port, ca: readFileSync(ca_bundle) };
  const cio = new TrackClient(site_id, track_api_key, { url: `${url}/api/v1`, ...tls });
  const api = new APIClient(app_api_key, { url: `${url}/v1`, ...tls });

  await cio.identify('ada-1', { email: 'ada@example.com', plan: 'pro' });
  const { customer } = await api.getAttributes('ada-1');

  assert.equal(customer.identifiers.id, 'ada-1');
  assert.equal(customer.identifiers.email, 'ada@example.com');
  assert.equal(customer.attributes.plan, 'pro');
});

test('roster stops and removes its files when its stdin closes', async () => {
  const other = await startRoster();
  const certificate = other.info.ca_bundle;
  assert.ok(existsSync(certificate));

  assert.equal(await other.stop(), 0);

  assert.ok(!existsSync(certificate), `${certificate} is still there`);
});
