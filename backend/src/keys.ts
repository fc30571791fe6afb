// Everything keyed by SHOPML_SECRET_KEY: pseudonyms (per-shop keyed hashes of emails and
// customer ids) and encryption of stored access tokens. Keys are derived per purpose with HKDF,
// so one secret never serves two uses.
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';

export interface Keys {
  /** Keyed hash of a normalized email, per shop (guest matching without storing the email). */
  emailHash(shop: string, email: string): string;
  /** Keyed hash used in tombstones: lets us recognize a redacted subject, not recover it. */
  subjectHash(shop: string, kind: 'customer' | 'email' | 'order', value: string): string;
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
}

function derive(secret: string, info: string): KeyObject {
  // A KeyObject made once: passing raw bytes to createHmac would rebuild one on every call.
  return createSecretKey(Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('shopml'), Buffer.from(info), 32)));
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function createKeys(secret: string): Keys {
  const pseudonymKey = derive(secret, 'pseudonym-v1');
  const tombstoneKey = derive(secret, 'tombstone-v1');
  const tokenKey = derive(secret, 'token-encryption-v1');
  const hmac = (key: KeyObject, msg: string) => createHmac('sha256', key).update(msg).digest('base64url');
  return {
    emailHash: (shop, email) => hmac(pseudonymKey, `${shop}\u0000email\u0000${normalizeEmail(email)}`),
    subjectHash: (shop, kind, value) => hmac(tombstoneKey, `${shop}\u0000${kind}\u0000${value}`),
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', tokenKey, iv);
      const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    decrypt(ciphertext) {
      const [v, iv, tag, body] = ciphertext.split('.');
      if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('unknown token ciphertext format');
      const d = createDecipheriv('aes-256-gcm', tokenKey, Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
    },
  };
}
