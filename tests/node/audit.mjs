// graphql-http's own audit of a GraphQL-over-HTTP server: `node audit.mjs URL` prints one JSON line,
// {"counts": {"ok": N, "warn": N, "error": N, "notice": N}, "findings": [...]} (tests/test_graphql_http.py reads it).
import { auditServer } from 'graphql-http';

const results = await auditServer({ url: process.argv[2] });
const counts = { ok: 0, warn: 0, error: 0, notice: 0 };
const findings = [];
for (const result of results) {
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  if (result.status !== 'ok') findings.push({ status: result.status, id: result.id, name: result.name, reason: result.reason });
}
console.log(JSON.stringify({ counts, findings }));
