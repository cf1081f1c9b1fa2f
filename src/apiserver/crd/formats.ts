/**
 * The string formats a CRD schema can declare and the checks behind them, as upstream's
 * `apiserver/validation/formats.go` lists them and kube-openapi's `strfmt` registry checks them.
 * Names are normalized by dropping `-` (`date-time` is `datetime`), as go-openapi does. A format
 * not listed here is ignored, as upstream strips unsupported formats before validating.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { dns1123LabelErrors, dns1123SubdomainErrors, quantityErrors } from '../validation/index.ts';

const HOSTNAME =
  /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z0-9\p{S}\p{L}])(-?[a-zA-Z0-9\p{S}\p{L}]){1,62})$/u;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID3 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID4 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const UUID5 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const RGB = new RegExp(`^rgb\\(\\s*${OCTET}\\s*,\\s*${OCTET}\\s*,\\s*${OCTET}\\s*\\)$`);
const MAC = /^([0-9a-fA-F]{2}([:-]))(?:[0-9a-fA-F]{2}\2){4}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{2}([:-]))(?:[0-9a-fA-F]{2}\4){6}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{2}([:-]))(?:[0-9a-fA-F]{2}\6){18}[0-9a-fA-F]{2}$|^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$|^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){3}$|^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){9}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(:(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$/;
const DURATION = /^[+-]?(((\d+(\.\d*)?|\.\d+)\s*(ns|us|µs|μs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?))\s*)+$/;

function validDate(year: string, month: string, day: string): boolean {
  const m = Number(month);
  const d = Number(day);
  if (m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(Number(year), m, 0)).getUTCDate();
  return d <= days;
}

function isDate(s: string): boolean {
  const match = DATE.exec(s);
  return match !== null && validDate(match[1]!, match[2]!, match[3]!);
}

function isDateTime(s: string): boolean {
  const match = DATE_TIME.exec(s);
  if (!match || !validDate(match[1]!, match[2]!, match[3]!)) return false;
  return Number(match[4]) < 24 && Number(match[5]) < 60 && (match[7] === undefined || Number(match[7]) < 60);
}

/** Go's `url.ParseRequestURI`: an absolute URI or an absolute path, no fragment, no spaces. */
function isRequestURI(s: string): boolean {
  if (s === '' || /\s/.test(s) || s.includes('#')) return false;
  if (s.startsWith('/')) return true;
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:.+$/.test(s);
}

function isEmail(s: string): boolean {
  const address = /<([^<>]+)>\s*$/.exec(s)?.[1] ?? s;
  return /^[^@\s<>()[\]\\,;:"]+@[^@\s<>()[\]\\,;:"]+$/.test(address);
}

function isCIDR(s: string): boolean {
  const [ip, prefix, ...rest] = s.split('/');
  if (rest.length > 0 || ip === undefined || prefix === undefined || !/^\d+$/.test(prefix)) return false;
  const version = isIP(ip);
  if (version === 0) return false;
  return Number(prefix) <= (version === 4 ? 32 : 128);
}

function isISBN10(s: string): boolean {
  const digits = s.replace(/[\s-]/g, '');
  if (!/^(?:\d{9}X|\d{10})$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += (i + 1) * (digits[i] === 'X' ? 10 : Number(digits[i]));
  return sum % 11 === 0;
}

function isISBN13(s: string): boolean {
  const digits = s.replace(/[\s-]/g, '');
  if (!/^\d{13}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(digits[i]) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10 === Number(digits[12]);
}

function isCreditCard(s: string): boolean {
  const digits = s.replace(/\D/g, '');
  if (!/^(?:4\d{12}(?:\d{3})?|5[1-5]\d{14}|(222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)\d{12}|6(?:011|5\d\d)\d{12}|3[47]\d{13}|3(?:0[0-5]|[68]\d)\d{11}|(?:2131|1800|35\d{3})\d{11}|6[27]\d{14})$/.test(digits)) {
    return false;
  }
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = Number(digits[i]);
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function isHostname(s: string): boolean {
  if (!HOSTNAME.test(s) || Buffer.byteLength(s) > 255) return false;
  return s.split('.').every((label) => Buffer.byteLength(label) <= 63);
}

/** Go's `net.ParseIP` rejects IPv4 octets with leading zeros, as Node's `isIPv4` does. */
const CHECKS: Readonly<Record<string, (s: string) => boolean>> = {
  bsonobjectid: (s) => /^[0-9a-fA-F]{24}$/.test(s),
  uri: isRequestURI,
  email: isEmail,
  hostname: isHostname,
  ipv4: (s) => isIPv4(s),
  ipv6: (s) => isIPv6(s),
  cidr: isCIDR,
  mac: (s) => MAC.test(s),
  uuid: (s) => UUID.test(s),
  uuid3: (s) => UUID3.test(s),
  uuid4: (s) => UUID4.test(s),
  uuid5: (s) => UUID5.test(s),
  isbn: (s) => isISBN10(s) || isISBN13(s),
  isbn10: isISBN10,
  isbn13: isISBN13,
  creditcard: isCreditCard,
  ssn: (s) => /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(s),
  hexcolor: (s) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(s),
  rgbcolor: (s) => RGB.test(s),
  byte: (s) => BASE64.test(s),
  password: () => true,
  date: isDate,
  duration: (s) => DURATION.test(s),
  datetime: isDateTime,
  quantity: (s) => quantityErrors(s).length === 0,
  k8sshortname: (s) => dns1123LabelErrors(s).length === 0,
  k8slongname: (s) => dns1123SubdomainErrors(s).length === 0,
};

/** go-openapi's format-name normalization: `date-time` and `datetime` are one format. */
function normalize(format: string): string {
  return format.replaceAll('-', '');
}

/** Whether a string format is one CRD schemas support (and so is checked). */
export function isSupportedStringFormat(format: string): boolean {
  return Object.hasOwn(CHECKS, normalize(format));
}

/** Whether `value` is valid for a supported string `format`; unsupported formats accept anything. */
export function matchesFormat(format: string, value: string): boolean {
  const check = CHECKS[normalize(format)];
  return check === undefined || check(value);
}

/**
 * The format upstream keeps for a schema node: string formats it supports, `int32`/`int64` on
 * integers, `float`/`double` on numbers, nothing on other types. Everything else is ignored.
 */
export function effectiveFormat(format: string | undefined, type: string | undefined): string {
  if (!format) return '';
  switch (type ?? '') {
    case '':
    case 'string':
      return isSupportedStringFormat(format) ? format : '';
    case 'integer':
      return format === 'int32' || format === 'int64' ? format : '';
    case 'number':
      return format === 'float' || format === 'double' ? format : '';
    default:
      return '';
  }
}
