import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { findRedactedPlaceholder, redactedPlaceholder, redactSecrets, redactText } from "./redact-secrets.ts";

const pem = (type: "rsa" | "ec") =>
  (type === "rsa"
    ? generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs1", format: "pem" })
    : generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" })
  ).toString();
/** The lines between BEGIN and END: what must never appear anywhere. */
const bodyLines = (key: string) => key.split("\n").filter((l) => l !== "" && !l.startsWith("-----"));

describe("redactSecrets", () => {
  const ec = pem("ec");
  const rsa = pem("rsa");

  it("replaces PEM private keys in any string, keeping certificates and the rest of the text", () => {
    const out = redactSecrets({ spec: { tls: { certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", key: ec } }, note: `before ${rsa} after` });
    const text = JSON.stringify(out);
    for (const line of [...bodyLines(ec), ...bodyLines(rsa)]) assert.ok(!text.includes(line), line);
    assert.equal(out.spec.tls.key.trim(), redactedPlaceholder(ec.trim()));
    assert.match(out.note, /^before <redacted sha256:[0-9a-f]{12}>\n? after$/);
    assert.match(out.spec.tls.certificate, /BEGIN CERTIFICATE/);
  });

  it("redacts inline key material of Envoy data sources, base64 included, with the hash of the key bytes", () => {
    const b64 = Buffer.from(ec).toString("base64");
    const tls = {
      tls_certificates: [{ certificate_chain: { inline_string: "CERT" }, private_key: { inline_bytes: b64 } }, { privateKey: { inlineString: ec } }],
      session_ticket_keys: { keys: [{ inline_bytes: Buffer.from("ticket").toString("base64") }, { filename: "/etc/ticket" }] },
    };
    const out = redactSecrets(tls);
    assert.equal(out.tls_certificates[0]?.private_key?.inline_bytes, redactedPlaceholder(Buffer.from(ec)));
    assert.equal(out.tls_certificates[1]?.privateKey?.inlineString, redactedPlaceholder(ec), "text and bytes of one key: one placeholder");
    assert.equal(out.tls_certificates[0]?.certificate_chain?.inline_string, "CERT");
    assert.equal(out.session_ticket_keys.keys[0]?.inline_bytes, redactedPlaceholder(Buffer.from("ticket")));
    assert.equal(out.session_ticket_keys.keys[1]?.filename, "/etc/ticket");
    assert.ok(!JSON.stringify(out).includes(b64.slice(0, 40)));
  });

  it("finds base64 of a key inside free text, leaves the input alone and shares what holds no key", () => {
    const b64 = Buffer.from(rsa).toString("base64");
    assert.ok(!redactText(`value "${b64}" is invalid`).includes(b64.slice(0, 64)));
    const input = { a: { b: ec }, c: { d: "plain" } };
    const out = redactSecrets(input);
    assert.equal(input.a.b, ec);
    assert.equal(out.c, input.c);
  });

  it("finds a placeholder sent back, by path", () => {
    const out = redactSecrets({ spec: { tls: { key: ec } } });
    assert.equal(findRedactedPlaceholder(out), "spec.tls.key");
    assert.equal(findRedactedPlaceholder({ spec: { list: ["a"] } }), undefined);
  });
});
