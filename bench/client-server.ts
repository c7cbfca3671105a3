/**
 * The loopback server of `npm run bench:client`, forked by client.bench.ts so that answering costs
 * the measured process nothing. Every request gets the same 200 JSON body (a page of five VPSes,
 * 1 KB), except Cloud Manager's paths without an HTTP Digest answer, which get the challenge
 * first (the client answers it once and reuses it; the answer is not checked: the benchmark
 * measures the client). Reports its port over IPC.
 */
import { createServer } from "node:http";

const BODY = JSON.stringify({
  data: Array.from({ length: 5 }, (_, i) => ({
    id: 1000 + i,
    hostname: `vps-${i}.example.net`,
    status: "online",
    ipv4: `203.0.113.${10 + i}`,
    memory: 2048,
    disk: 40,
    node: "node-1",
    template: "debian-12-x86_64",
    created_at: "2026-01-15T10:20:30Z",
  })),
});
const CHALLENGE = 'Digest realm="bench", nonce="bench-nonce", algorithm=SHA-256, qop="auth"';

const server = createServer((request, response) => {
  request.resume();
  request.once("end", () => {
    if (request.url!.startsWith("/api/public/v1.0/") && !request.headers.authorization?.startsWith("Digest ")) {
      response.writeHead(401, { "WWW-Authenticate": CHALLENGE, "Content-Length": "0" }).end();
      return;
    }
    response.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(BODY) }).end(BODY);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as { port: number }).port }));
process.once("disconnect", () => server.close());
