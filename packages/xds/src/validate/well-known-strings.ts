import { isIPv4, isIPv6 } from "node:net";

// The "well_known" string formats of protoc-gen-validate, with the semantics of
// its C++ validator (the one Envoy runs). Each takes the string and says whether
// it is well formed.

const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * Host name as PGV's validate.h checks it: at most 253 characters; dot-separated
 * labels of 1-63 letters, digits and hyphens, not starting or ending with a
 * hyphen (inner "--" is fine, as in IDNA "xn--" labels); one trailing dot allowed.
 */
export function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const body = s.endsWith(".") ? s.slice(0, -1) : s;
  for (const label of body.split(".")) {
    if (label.length === 0 || label.length > 63) return false;
    if (label.charCodeAt(0) === 45 || label.charCodeAt(label.length - 1) === 45) return false;
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      if (!isAlnum(c) && c !== 45) return false;
    }
  }
  return true;
}

// inet_pton, which PGV uses, rejects IPv6 zone ids ("fe80::1%eth0") that Node accepts.
export const isIpv4 = (s: string): boolean => isIPv4(s);
export const isIpv6 = (s: string): boolean => !s.includes("%") && isIPv6(s);
export const isIp = (s: string): boolean => isIpv4(s) || isIpv6(s);

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
export const isUuid = (s: string): boolean => UUID.test(s);

// RFC 3986: a URI has a scheme; neither form may hold spaces, controls or other
// characters outside the URI alphabet (percent-encoding is how they get in).
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const PCT = /%(?![0-9A-Fa-f]{2})/;
export const isUriRef = (s: string): boolean => URI_CHARS.test(s) && !PCT.test(s);
export const isUri = (s: string): boolean => isUriRef(s) && SCHEME.test(s);

/** addr-spec only ("a@b.c"), with a host name domain, as PGV's Go validator checks it. */
export function isEmail(s: string): boolean {
  if (s.length > 254) return false;
  const at = s.lastIndexOf("@");
  if (at <= 0 || at > 64) return false;
  const local = s.slice(0, at);
  return /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/.test(local) && !local.startsWith(".") && !local.endsWith(".") && isHostname(s.slice(at + 1));
}

// PGV's KnownRegex patterns (RFC 7230), as character scans rather than
// regular expressions (faster, and control characters stay readable).
// Strict name: `^:?[0-9a-zA-Z!#$%&'*+-.^_|~\x60]+$`; PGV's `+-.` is a range that
// also admits ','. Strict value: no control characters but HTAB. Loose mode
// (strict: false) only forbids NUL, LF and CR, for headers that must pass
// through unchanged.
// How Envoy prints these patterns in its messages (checked by e2e/pgv).
export const HEADER_NAME_PATTERN = "^:?[0-9a-zA-Z!#$%&'*+-.^_|~`]+$";
export const HEADER_VALUE_PATTERN = "^[^\\x00-\\b\\n-\\x1f\\x7f]*$";
export const HEADER_LOOSE_PATTERN = "^[^\\x00\\n\\r]*$";

const TOKEN = new Uint8Array(128);
for (const c of "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'*+,-.^_|~`") TOKEN[c.charCodeAt(0)] = 1;

export function isHeaderNameStrict(s: string): boolean {
  const start = s.startsWith(":") ? 1 : 0;
  if (s.length <= start) return false;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) return false;
  }
  return true;
}

export function isHeaderValueStrict(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

export function isHeaderLoose(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}
