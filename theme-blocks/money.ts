// Prices for the storefront block, with no DOM: Shopify's money-format placeholders
// ({{amount}}, {{amount_with_comma_separator}}, …) applied to an amount in cents, and the choice
// of how to show a price in the shopper's presentment currency. Bundled into the block's script
// and unit-tested in Node (test/unit/theme-extension.test.ts).

/** [decimals, thousands separator, decimal separator] per Shopify money-format placeholder. */
const STYLES: Record<string, [number, string, string]> = {
  amount: [2, ',', '.'],
  amount_no_decimals: [0, ',', '.'],
  amount_with_comma_separator: [2, '.', ','],
  amount_no_decimals_with_comma_separator: [0, '.', ','],
  amount_with_apostrophe_separator: [2, "'", '.'],
  amount_no_decimals_with_space_separator: [0, ' ', ','],
  amount_with_space_separator: [2, ' ', ','],
  amount_with_period_and_space_separator: [2, ' ', '.'],
};

/** `cents` formatted with a shop money format such as `${{amount}}` or `{{amount_with_comma_separator}} €`. */
export function formatMoney(cents: number, format: string): string {
  return format.replace(/\{\{\s*(\w+)\s*\}\}/, (_, name: string) => {
    const [decimals, thousands, point] = STYLES[name] ?? STYLES.amount!;
    const [whole, fraction] = (Math.round(cents) / 100).toFixed(decimals).split('.');
    return whole!.replace(/\B(?=(\d{3})+(?!\d))/g, thousands) + (fraction ? point + fraction : '');
  });
}

export interface PriceContext {
  /** The shop's money format (Liquid `shop.money_format`, tags and entities already removed). */
  format: string;
  /** The shop's currency (Liquid `shop.currency`). */
  shopCurrency: string;
  /** The shopper's presentment currency (Liquid `cart.currency.iso_code`). */
  currency: string;
  /** Storefront locale for Intl (Liquid `request.locale.iso_code`). */
  locale: string;
  /** `window.Shopify.currency` as Shopify sets it on every storefront page: `{active, rate}`. */
  rate?: { active?: string; rate?: string | number } | undefined;
}

/**
 * The text shown for a price of `amount` (major units) in `currency`, in the presentment currency:
 * converted with Shopify's published rate when the amount is in another currency (the shop's),
 * formatted with the shop's money format when the presentment currency is the shop's, else with
 * Intl for the presentment currency. Empty when the amount cannot be shown in the presentment
 * currency (no rate): better no price than a price in the wrong currency.
 */
export function priceText(amount: number, currency: string, c: PriceContext): string {
  let a = amount;
  if (currency !== c.currency) {
    const rate = Number(c.rate?.rate);
    if (c.rate?.active !== c.currency || !(rate > 0) || currency !== c.shopCurrency) return '';
    a = amount * rate;
  }
  if (!Number.isFinite(a)) return '';
  if (c.currency === c.shopCurrency && c.format) return formatMoney(a * 100, c.format);
  try {
    return new Intl.NumberFormat(c.locale || undefined, { style: 'currency', currency: c.currency }).format(a);
  } catch {
    return `${a.toFixed(2)} ${c.currency}`;
  }
}
