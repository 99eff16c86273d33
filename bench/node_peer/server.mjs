// The acknowledge path's peer: the official Saleor app SDK's signature check on node:http.
//
// Each POST's `saleor-signature` is verified with @saleor/app-sdk's `verifySignatureWithJwks`
// against a fixed JWKS (the file named by JWKS_FILE); a good one is answered 200 {"status":"ok"},
// a bad one 401. GET /health answers 200. PROCESSES > 1 forks that many servers sharing the port.
// bench/webhook_ack.py installs the SDK with npm into a temporary folder, copies this file beside
// it and runs it there by hand; nothing here runs in the tests.
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import http from "node:http";

import { verifySignatureWithJwks } from "@saleor/app-sdk/auth";

const port = Number(process.env.PORT);
const processes = Number(process.env.PROCESSES ?? "1");
const jwks = readFileSync(process.env.JWKS_FILE, "utf8");
const OK = JSON.stringify({ status: "ok" });
const REFUSED = JSON.stringify({ error: { type: "SIGNATURE_VERIFICATION_FAILED" } });

function answer(response, status, body) {
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  response.end(body);
}

async function handle(request, response) {
  if (request.method === "GET" && request.url === "/health") {
    answer(response, 200, OK);
    return;
  }
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  try {
    await verifySignatureWithJwks(jwks, request.headers["saleor-signature"] ?? "", Buffer.concat(chunks).toString());
  } catch {
    answer(response, 401, REFUSED);
    return;
  }
  answer(response, 200, OK);
}

if (cluster.isPrimary && processes > 1) {
  for (let i = 0; i < processes; i += 1) cluster.fork();
} else {
  http.createServer(handle).listen(port, "127.0.0.1");
}
