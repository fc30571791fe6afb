// Removes personal data from an arbitrary JSON value before it is kept anywhere (quarantine,
// logs). Used where we cannot trust the shape: it drops every key that can hold a name, contact
// detail, address, note or free text a shopper typed, at any depth.
const PERSONAL_KEYS = new Set([
  'email', 'contact_email', 'customer_email', 'phone', 'first_name', 'last_name', 'name_on_card',
  'address1', 'address2', 'city', 'zip', 'province', 'latitude', 'longitude', 'company',
  'shipping_address', 'billing_address', 'default_address', 'addresses', 'note', 'note_attributes',
  'browser_ip', 'client_details', 'customer_locale', 'landing_site', 'referring_site', 'buyer_accepts_marketing',
  'email_marketing_consent', 'sms_marketing_consent', 'payment_details', 'credit_card_number', 'firstName', 'lastName',
  'displayName', 'defaultEmailAddress', 'defaultPhoneNumber', 'defaultAddress', 'shippingAddress', 'billingAddress',
  'properties', 'customer_name', 'username', 'token', 'cart_token', 'checkout_token',
]);

/** A line item's or customer's `name` is personal for customers/addresses, not for products. */
const PERSON_CONTAINERS = new Set(['customer', 'shipping_address', 'billing_address', 'default_address', 'user']);

export function scrubPersonalData(value: unknown, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => scrubPersonalData(v, parentKey));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (PERSONAL_KEYS.has(k)) continue;
    if (k === 'name' && PERSON_CONTAINERS.has(parentKey)) continue;
    out[k] = scrubPersonalData(v, k);
  }
  return out;
}

const JSON_PUNCTUATION = /[{}[\]:,\s]/;
const BARE_LITERAL = /^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)$/;
const KEY = /^[A-Za-z_][A-Za-z0-9_.$-]{0,63}$/;

/**
 * For bodies that are not valid JSON (truncated, a stray character, a form post): the shape only,
 * within `max` characters. Object keys that look like identifiers, JSON punctuation and number,
 * boolean and null literals are kept; every string value and every other bare word becomes "…".
 * Nothing typed by a person survives — not a name left unquoted, not a value cut off mid-string —
 * yet the quarantine still shows where an order broke ("shipping_address":{"first_name":"…",…).
 */
export function scrubText(text: string, max = 4096): string {
  const s = text.slice(0, max);
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      const closed = j < s.length;
      const content = s.slice(i + 1, Math.min(j, s.length));
      let k = j + 1;
      while (k < s.length && /\s/.test(s[k]!)) k++;
      out += closed && s[k] === ':' && KEY.test(content) ? `"${content}"` : closed ? '"…"' : '"…';
      i = closed ? j + 1 : s.length;
    } else if (JSON_PUNCTUATION.test(c)) {
      out += c;
      i++;
    } else {
      let j = i;
      while (j < s.length && !JSON_PUNCTUATION.test(s[j]!) && s[j] !== '"') j++;
      const token = s.slice(i, j);
      out += BARE_LITERAL.test(token) ? token : '…';
      i = j;
    }
  }
  return out;
}

/**
 * JSON.parse's error without the input it quotes: V8 puts the text around the error in the
 * message ("Unexpected token 'K', ...\"first_name\":Kira..." is not valid JSON"), which would
 * carry a name into the quarantine table and the logs. Keeps the kind of error and its position.
 */
export function jsonErrorSummary(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const kind = message
    .replace(/,\s*(\.\.\.)?".*$/s, '') // the quoted input: ', "…" is not valid JSON' or ', ..."…"... is not valid JSON'
    .replace(/^Unexpected token\s*'.*?'/, 'Unexpected token') // the offending character is input too
    .replace(/\s+(in JSON )?at position.*$/s, '')
    .replace(/\s+in JSON$/, '')
    .trim();
  const at = /position (\d+)/.exec(message);
  return `${kind || 'invalid JSON'}${at ? ` at byte ${at[1]}` : ''}`;
}
