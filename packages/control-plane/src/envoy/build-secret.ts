import { create } from "@bufbuild/protobuf";
import { SecretSchema, type Secret } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/secret_pb";
import type { GraphSecret } from "../graph/graph.ts";
import { secretName } from "../graph/resource-names.ts";

/** The SDS Secret of a Secret object: a certificate with its key, or a CA bundle to verify peers with. */
export function buildSecret(s: GraphSecret): Secret {
  const name = secretName(s.name);
  if ("tlsCertificate" in s.spec) {
    const { certificate, key } = s.spec.tlsCertificate;
    return create(SecretSchema, {
      name,
      type: {
        case: "tlsCertificate",
        value: {
          certificateChain: { specifier: { case: "inlineString", value: certificate } },
          privateKey: { specifier: { case: "inlineString", value: key } },
        },
      },
    });
  }
  return create(SecretSchema, {
    name,
    type: { case: "validationContext", value: { trustedCa: { specifier: { case: "inlineString", value: s.spec.validationContext.caCertificates } } } },
  });
}
