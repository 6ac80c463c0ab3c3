// The peer of the refresh benchmark: N client-credentials token requests made with jsforce
// (Connection#authorize with grant_type=client_credentials), CONCURRENCY at a time, against the
// fake org. Prints one JSON line: {"requests", "seconds", "per_second", "failures"}.
// usage: NODE_EXTRA_CA_CERTS=ca.pem BENCH_SECRET=... node refresh_peer.js LOGIN_URL CLIENT_ID N CONCURRENCY
'use strict';
const jsforce = require('jsforce');

async function main() {
  const [loginUrl, clientId, nText, concText] = process.argv.slice(2);
  const clientSecret = process.env.BENCH_SECRET;
  const n = Number(nText);
  const concurrency = Number(concText);
  if (!loginUrl || !clientId || !clientSecret || !(n > 0) || !(concurrency > 0)) {
    console.error('usage: BENCH_SECRET=... node refresh_peer.js LOGIN_URL CLIENT_ID N CONCURRENCY');
    process.exit(2);
  }
  let next = 0;
  let failures = 0;
  async function worker() {
    while (next < n) {
      next++;
      // One Connection per org, as an integrator holding many orgs would have.
      const conn = new jsforce.Connection({ oauth2: { loginUrl, clientId, clientSecret } });
      try {
        await conn.authorize({ grant_type: 'client_credentials' });
        if (!conn.accessToken) failures++;
      } catch (e) {
        failures++;
        if (failures === 1) console.error(`peer: first failure: ${e.name}: ${e.message}`);
      }
    }
  }
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ requests: n, seconds, per_second: n / seconds, failures }));
}

main().catch((e) => {
  console.error(`peer: ${e.message}`);
  process.exit(1);
});
