// rec_id: one id per served list, signed, so that whatever later refers to it (an impression, a
// click, the `_shopml_rec` line-item property on an order) says truthfully which arm and which
// model version produced the list — without the server writing anything when it serves.
//
//   r1.<issued ms, base36>.<arm><version>.<experiment>.<random>.<mac>
//
// arm: c champion, x challenger, h holdout, f fallback (no assignment); version: the sha256 as
// base64url (43 characters), "-" for popularity, "~<base64url utf-8>" for a version that is not a
// sha256; experiment: the live experiment's id in base36, "-" for none; mac: HMAC-SHA256 over shop and body, 96 bits, with a per-shop key derived from
// SHOPML_SECRET_KEY (through `keys`, so the webhook path and the server agree across restarts).
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Keys } from '../keys.ts';

export type Arm = 'champion' | 'challenger' | 'holdout';
export type ServedVariant = Arm | 'fallback';

export interface RecInfo {
  issuedAt: number;
  variant: ServedVariant;
  /** null: the list came from popularity, not from a model version. */
  version: string | null;
  /** The live experiment the unit was assigned under, if any. */
  experiment: number | null;
}

export interface RecIds {
  issue(shop: string, variant: ServedVariant, version: string | null, experiment: number | null, nowMs: number): string;
  parse(shop: string, recId: string): RecInfo | null;
}

const CODE: Record<ServedVariant, string> = { champion: 'c', challenger: 'x', holdout: 'h', fallback: 'f' };
const VARIANT: Record<string, ServedVariant> = { c: 'champion', x: 'challenger', h: 'holdout', f: 'fallback' };
const HEX64 = /^[0-9a-f]{64}$/;

function encodeVersion(v: string | null): string {
  if (v === null) return '-';
  if (HEX64.test(v)) return Buffer.from(v, 'hex').toString('base64url');
  return `~${Buffer.from(v, 'utf8').toString('base64url')}`;
}

function decodeVersion(s: string): string | null | undefined {
  if (s === '-') return null;
  if (s.startsWith('~')) return Buffer.from(s.slice(1), 'base64url').toString('utf8') || undefined;
  const b = Buffer.from(s, 'base64url');
  return b.length === 32 ? b.toString('hex') : undefined;
}

export const REC_ID_MAX_LENGTH = 160;

export function createRecIds(keys: Keys): RecIds {
  // Uniqueness, not secrecy (the MAC is what cannot be forged): a random per-process prefix and
  // a counter, rather than a call into the system's random source per list served.
  const prefix = randomBytes(3).toString('base64url');
  let counter = 0;
  const shopKeys = new Map<string, KeyObject>();
  const keyFor = (shop: string): KeyObject => {
    let k = shopKeys.get(shop);
    if (!k) {
      // A keyed hash under SHOPML_SECRET_KEY that no real subject can collide with (ids are digits).
      k = createSecretKey(Buffer.from(keys.subjectHash(shop, 'customer', '\u0000shopml-rec-id-key-v1'), 'utf8'));
      if (shopKeys.size > 10_000) shopKeys.clear();
      shopKeys.set(shop, k);
    }
    return k;
  };
  const mac = (shop: string, body: string): string => createHmac('sha256', keyFor(shop)).update(`${shop}|${body}`).digest().subarray(0, 12).toString('base64url');
  return {
    issue(shop, variant, version, experiment, nowMs) {
      const exp = experiment === null ? '-' : Math.trunc(experiment).toString(36);
      counter = (counter + 1) % 0x7fffffff;
      const body = `r1.${Math.trunc(nowMs).toString(36)}.${CODE[variant]}${encodeVersion(version)}.${exp}.${prefix}${counter.toString(36)}`;
      return `${body}.${mac(shop, body)}`;
    },
    parse(shop, recId) {
      if (typeof recId !== 'string' || recId.length > REC_ID_MAX_LENGTH) return null;
      const parts = recId.split('.');
      if (parts.length !== 6 || parts[0] !== 'r1') return null;
      const body = parts.slice(0, 5).join('.');
      const given = Buffer.from(parts[5]!, 'base64url');
      const want = Buffer.from(mac(shop, body), 'base64url');
      if (given.length !== want.length || !timingSafeEqual(given, want)) return null;
      const issuedAt = parseInt(parts[1]!, 36);
      const variant = VARIANT[parts[2]!.charAt(0)];
      const version = decodeVersion(parts[2]!.slice(1));
      const experiment = parts[3] === '-' ? null : parseInt(parts[3]!, 36);
      if (!Number.isFinite(issuedAt) || !variant || version === undefined || (experiment !== null && !Number.isSafeInteger(experiment))) return null;
      return { issuedAt, variant, version, experiment };
    },
  };
}
