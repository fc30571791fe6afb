// Numbers, money and dates in the merchant's admin locale (shopify.i18n), and translated strings.
export const t = (key: string, replacements?: Record<string, string | number>): string => shopify.i18n.translate(key, replacements);

export const percent = (x: number): string => shopify.i18n.formatNumber(x, { style: 'percent', maximumFractionDigits: 0 });

export const units = (x: number): string => shopify.i18n.formatNumber(x, { maximumFractionDigits: x < 10 ? 1 : 0 });

export function money(amount: number, currency: string | null): string {
  return currency ? shopify.i18n.formatCurrency(amount, { currency }) : shopify.i18n.formatNumber(amount, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** A calendar day (YYYY-MM-DD, or an ISO instant's UTC day). */
export function day(iso: string): string {
  return shopify.i18n.formatDate(new Date(`${iso.slice(0, 10)}T00:00:00Z`), { dateStyle: 'medium', timeZone: 'UTC' });
}
