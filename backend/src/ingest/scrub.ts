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

/** Best effort for bodies that are not even JSON: keep a bounded prefix with emails and phone-like runs masked. */
export function scrubText(text: string, max = 4096): string {
  return text
    .slice(0, max)
    .replace(/[^\s"'<>@,;:]+@[^\s"'<>@,;:]+/g, '[email]')
    .replace(/\+?\d[\d ().-]{7,}\d/g, '[number]');
}
