/**
 * What a failed delivery attempt tells the user (WebhookDelivery.error): a fixed message chosen by the
 * error's code, never the error's own text, which names addresses (`connect ECONNREFUSED 11.22.33.44:1`),
 * host names and certificate subjects (`Host: a.example. is not in the cert's altnames: IP:…`). The full
 * error goes to our log only.
 */

export const DELIVERY_ERRORS = {
  refused: "connection refused",
  reset: "connection closed by the receiver",
  timeout: "connection timed out",
  dns: "host name could not be resolved",
  unreachable: "receiver unreachable",
  tlsName: "TLS certificate not valid for the receiver",
  tlsExpired: "TLS certificate expired or not yet valid",
  tlsUntrusted: "TLS certificate not trusted",
  tls: "TLS handshake failed",
  protocol: "invalid HTTP response",
  other: "connection failed",
} as const;

export type DeliveryErrorMessage = (typeof DELIVERY_ERRORS)[keyof typeof DELIVERY_ERRORS];

const BY_CODE: Record<string, DeliveryErrorMessage> = {
  ECONNREFUSED: DELIVERY_ERRORS.refused,
  ConnectionRefused: DELIVERY_ERRORS.refused,
  ECONNRESET: DELIVERY_ERRORS.reset,
  EPIPE: DELIVERY_ERRORS.reset,
  ECONNABORTED: DELIVERY_ERRORS.reset,
  ConnectionClosed: DELIVERY_ERRORS.reset,
  ETIMEDOUT: DELIVERY_ERRORS.timeout,
  ESOCKETTIMEDOUT: DELIVERY_ERRORS.timeout,
  UND_ERR_CONNECT_TIMEOUT: DELIVERY_ERRORS.timeout,
  ENOTFOUND: DELIVERY_ERRORS.dns,
  EAI_AGAIN: DELIVERY_ERRORS.dns,
  EAI_NONAME: DELIVERY_ERRORS.dns,
  EAI_FAIL: DELIVERY_ERRORS.dns,
  EAI_NODATA: DELIVERY_ERRORS.dns,
  ENODATA: DELIVERY_ERRORS.dns,
  ESERVFAIL: DELIVERY_ERRORS.dns,
  EHOSTUNREACH: DELIVERY_ERRORS.unreachable,
  ENETUNREACH: DELIVERY_ERRORS.unreachable,
  EHOSTDOWN: DELIVERY_ERRORS.unreachable,
  ENETDOWN: DELIVERY_ERRORS.unreachable,
  EADDRNOTAVAIL: DELIVERY_ERRORS.unreachable,
  ERR_TLS_CERT_ALTNAME_INVALID: DELIVERY_ERRORS.tlsName,
  HOSTNAME_MISMATCH: DELIVERY_ERRORS.tlsName,
  CERT_HAS_EXPIRED: DELIVERY_ERRORS.tlsExpired,
  CERT_NOT_YET_VALID: DELIVERY_ERRORS.tlsExpired,
  DEPTH_ZERO_SELF_SIGNED_CERT: DELIVERY_ERRORS.tlsUntrusted,
  SELF_SIGNED_CERT_IN_CHAIN: DELIVERY_ERRORS.tlsUntrusted,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: DELIVERY_ERRORS.tlsUntrusted,
  UNABLE_TO_GET_ISSUER_CERT: DELIVERY_ERRORS.tlsUntrusted,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: DELIVERY_ERRORS.tlsUntrusted,
  CERT_UNTRUSTED: DELIVERY_ERRORS.tlsUntrusted,
  CERT_REVOKED: DELIVERY_ERRORS.tlsUntrusted,
  CERT_SIGNATURE_FAILURE: DELIVERY_ERRORS.tlsUntrusted,
  EPROTO: DELIVERY_ERRORS.tls,
};

/** The fixed message for an error of a delivery attempt (from its `code`; the message is never used). */
export function deliveryErrorMessage(err: { code?: unknown } | Error | null | undefined): DeliveryErrorMessage {
  const raw = (err as { code?: unknown } | null | undefined)?.code;
  const code = typeof raw === "string" ? raw : "";
  const known = Object.hasOwn(BY_CODE, code) ? BY_CODE[code] : undefined;
  if (known) return known;
  if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")) return DELIVERY_ERRORS.tls;
  if (code.startsWith("HPE_") || code === "ERR_INVALID_HTTP_RESPONSE") return DELIVERY_ERRORS.protocol;
  if (code.startsWith("CERT_") || code.includes("_CERT")) return DELIVERY_ERRORS.tlsUntrusted;
  return DELIVERY_ERRORS.other;
}
