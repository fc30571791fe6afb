// A Shopify storefront, simulated, for the theme app extension (extensions/shopml-theme): a local
// HTTP server that renders the block's real Liquid with liquidjs into a minimal theme page and
// plays every part of Shopify the block talks to:
//
//   GET  /products/:handle          product template with the block (Liquid: block, product, shop, cart…)
//   GET  /cart                      cart template with the block
//   GET  /cdn/extensions/shopml-theme/assets/:file   the extension's assets (schema javascript/stylesheet)
//   *    /apps/shopml/*             the app proxy: forwarded to `${backend}/proxy/*` with the
//                                   parameters Shopify adds (shop, logged_in_customer_id,
//                                   path_prefix, timestamp) signed with the app secret
//                                   (simulator/sign.ts appProxyQuery); cookies are not forwarded
//   GET  /recommendations/products.json  Shopify's own Product Recommendations API (Ajax product JSON)
//   POST /cart/add.js, /cart/add    add to cart (JSON or the theme's form), line-item properties kept
//   GET  /cart.js                   the cart
//
// and on every page `window.Shopify` with `loadFeatures` and the Customer Privacy API whose
// analytics consent comes from the `sim_consent` cookie (1 = granted), as Shopify keeps it in a
// cookie. Liquid filters are implemented, not faked: `t` reads the extension's locale files,
// `money` formats presentment-currency cents by Shopify's money-format rules (theme-blocks/money.ts),
// `asset_url` points at the assets above. Used by the browser tests (test/e2e/storefront.test.ts) and the demo's preview.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Liquid, Tag, type TagToken, type TopLevelToken } from 'liquidjs';
import { priceText } from '../theme-blocks/money.ts';
import { appProxyQuery } from './sign.ts';
import type { SimProduct, SimStore } from './types.ts';

export interface StorefrontOptions {
  store: SimStore;
  /** The theme app extension folder (extensions/shopml-theme). */
  extensionDir: string;
  /** The block file in blocks/, without .liquid. */
  block?: string;
  /** The app's client secret: the proxy signs with it. */
  secret: string;
  /** The backend's base URL (the app's application_url); the proxy forwards to `${backend}/proxy/…`. */
  backend: string;
  /** Block settings (defaults from the block's {% schema %}). */
  settings?: Record<string, unknown>;
  /** Storefront language: locales/<locale>.json (default: the extension's default locale). */
  locale?: string;
  /** The shopper's presentment currency and Shopify's rate from the shop currency (default: the shop's). */
  presentment?: { currency: string; rate: number };
  /** The shop's money format (Liquid `shop.money_format`). */
  moneyFormat?: string;
  /** Subpath of the app proxy (shopify.app.toml [app_proxy]). */
  proxyPath?: string;
}

export interface ProxiedRequest { method: string; path: string; query: URLSearchParams; body: string; status: number }
export interface CartLine { variant_id: number; product_id: number; quantity: number; title: string; price: number; properties: Record<string, string> }

export interface Storefront {
  url: string;
  /** Every request that reached /apps/shopml/… (what the block sent to shopml). */
  proxied: ProxiedRequest[];
  /** Requests to Shopify's /recommendations/products.json. */
  fallbacks: URLSearchParams[];
  cart: CartLine[];
  /** Change the proxy's target (a closed port: the app is down) or delay its answers (slow). */
  setBackend(url: string, delayMs?: number): void;
  /** The logged-in customer's id ('' = nobody), as Shopify's proxy adds it. */
  setCustomer(id: string): void;
  setSettings(settings: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** The {% schema %} of a block file, parsed. */
export function blockSchema(source: string): { javascript?: string; stylesheet?: string; settings?: { id?: string; default?: unknown }[] } {
  const m = /\{%-?\s*schema\s*-?%\}([\s\S]*?)\{%-?\s*endschema\s*-?%\}/.exec(source);
  if (!m) throw new Error('block has no {% schema %}');
  return JSON.parse(m[1]!) as ReturnType<typeof blockSchema>;
}

/** `{% schema %}` renders nothing on a storefront. */
class SchemaTag extends Tag {
  constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid) {
    super(token, remain, liquid);
    while (remain.length) {
      const t = remain.shift() as TopLevelToken & { name?: string };
      if (t.name === 'endschema') return;
    }
    throw new Error('{% schema %} is not closed');
  }
  render(): void {}
}

function lookup(obj: unknown, key: string): unknown {
  let cur = obj;
  for (const part of key.split('.')) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[part] : undefined;
  return cur;
}

/** A product picture as an SVG (the simulator's image URLs point at a host that does not exist). */
export function placeholderImage(title: string): string {
  let h = 0;
  for (const c of title) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hue = h % 360;
  const initials = title.split(/\s+/).slice(0, 2).map((w) => w[0] ?? '').join('').toUpperCase().replace(/[^A-Z0-9]/g, '');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="480" viewBox="0 0 480 480"><rect width="480" height="480" fill="hsl(${hue} 45% 82%)"/>`
    + `<circle cx="240" cy="200" r="110" fill="hsl(${hue} 40% 66%)"/><text x="240" y="420" font-family="sans-serif" font-size="72" text-anchor="middle" fill="hsl(${hue} 40% 30%)">${initials}</text></svg>`;
}

const PAGE = `<!doctype html>
<html lang="{{ request.locale.iso_code }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% if product %}{{ product.title | escape }}{% else %}Cart{% endif %} – {{ shop.name }}</title>
<script>{{ shopify_script }}</script>
{%- if app_stylesheet %}
<link rel="stylesheet" href="{{ app_stylesheet | asset_url }}">{% endif %}
{%- if app_javascript %}
<script src="{{ app_javascript | asset_url }}" defer></script>{% endif %}
<style>
  body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1c1d1f; background: #fff; }
  header, footer { padding: 16px 32px; background: #f4f1ec; }
  main { max-width: 1100px; margin: 0 auto; padding: 24px 32px; }
  .product { display: grid; grid-template-columns: 320px 1fr; gap: 32px; align-items: start; }
  .product img { width: 100%; height: auto; aspect-ratio: 1; border-radius: 6px; display: block; }
  .product h1 { margin: 0 0 8px; font-size: 1.6rem; }
  .product button, .cart button { font: inherit; padding: 10px 20px; border: 0; border-radius: 4px; background: #1c1d1f; color: #fff; }
  .cart li { margin: 4px 0; }
  footer p { margin: 0; }
</style>
</head>
<body>
<header><strong>{{ shop.name }}</strong></header>
<main>
{%- if template.name == 'product' %}
  <section class="product">
    <img src="{{ product.featured_image }}" alt="{{ product.title | escape }}" width="320" height="320">
    <div>
      <h1>{{ product.title | escape }}</h1>
      <p class="price">{{ product.price | money }}</p>
      <form action="{{ routes.cart_add_url }}" method="post">
        <input type="hidden" name="id" value="{{ product.variant_id }}">
        <input type="hidden" name="quantity" value="1">
        <button type="submit">Add to cart</button>
      </form>
    </div>
  </section>
{%- else %}
  <section class="cart"><h1>Cart</h1><ul>{% for item in cart.items %}<li>{{ item.quantity }} × {{ item.title | escape }} – {{ item.final_line_price | money }}</li>{% endfor %}</ul></section>
{%- endif %}
  <div class="shopify-section shopify-app-section">
    <div id="shopify-block-{{ block.id }}" class="shopify-block shopify-app-block">{{ block_html }}</div>
  </div>
</main>
<footer><p>Footer content under the block: any shift of the block would move it.</p></footer>
</body>
</html>`;

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startStorefront(o: StorefrontOptions): Promise<Storefront> {
  const store = o.store;
  const blockName = o.block ?? 'recommended-products';
  const blockSource = readFileSync(join(o.extensionDir, 'blocks', `${blockName}.liquid`), 'utf8');
  const schema = blockSchema(blockSource);
  const defaults = Object.fromEntries((schema.settings ?? []).filter((s) => s.id).map((s) => [s.id!, s.default ?? null]));
  let settings = { ...defaults, ...o.settings };
  const proxyPath = o.proxyPath ?? '/apps/shopml';
  const localesDir = join(o.extensionDir, 'locales');
  const defaultLocaleFile = ['en.default.json'].find((f) => existsSync(join(localesDir, f))) ?? 'en.default.json';
  const defaultLocale = basename(defaultLocaleFile, '.default.json');
  const locale = o.locale ?? defaultLocale;
  const strings = JSON.parse(readFileSync(join(localesDir, defaultLocaleFile), 'utf8')) as unknown;
  const localized = locale === defaultLocale ? strings : JSON.parse(readFileSync(join(localesDir, `${locale}.json`), 'utf8')) as unknown;
  const presentment = o.presentment ?? { currency: store.currency, rate: 1 };
  const moneyFormat = o.moneyFormat ?? '${{amount}}';
  const assetBase = `/cdn/extensions/${basename(o.extensionDir)}/assets`;
  let backend = o.backend;
  let delayMs = 0;
  let customer = '';
  const proxied: ProxiedRequest[] = [];
  const fallbacks: URLSearchParams[] = [];
  const cart: CartLine[] = [];

  const liquid = new Liquid({ strictFilters: true, outputEscape: undefined });
  liquid.registerTag('schema', SchemaTag);
  liquid.registerFilter('t', (key: string, ...args: unknown[]) => {
    const value = lookup(localized, key) ?? lookup(strings, key);
    if (typeof value !== 'string') return `translation missing: ${locale}.${key}`;
    const vars = Object.fromEntries(args.filter(Array.isArray).map((a) => [String(a[0]), a[1]]));
    return value.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => String(vars[k] ?? ''));
  });
  // Amounts are in the presentment currency: the shop's format when it is the shop's currency.
  liquid.registerFilter('money', (cents: unknown) => priceText(Number(cents) / 100, presentment.currency, { format: moneyFormat, shopCurrency: store.currency, currency: presentment.currency, locale }));
  liquid.registerFilter('asset_url', (file: string) => `${assetBase}/${encodeURIComponent(file)}`);
  const blockTemplate = liquid.parse(blockSource);
  const pageTemplate = liquid.parse(PAGE);

  const variantOf = (id: number) => {
    for (const p of store.products) for (const v of p.variants) if (v.id === id) return { p, v };
    return null;
  };
  /** Cents in the presentment currency (Shopify converts and rounds to the cent here). */
  const cents = (price: string) => Math.round(Number(price) * presentment.rate * 100);

  function ajaxProduct(p: SimProduct, refId: number) {
    const prices = p.variants.map((v) => cents(v.price));
    return {
      id: p.id, title: p.title, handle: p.handle, description: p.description ?? '', published_at: p.createdAt, created_at: p.createdAt,
      vendor: p.vendor, type: p.productType, tags: p.tags, price: Math.min(...prices), price_min: Math.min(...prices), price_max: Math.max(...prices),
      available: p.variants.some((v) => v.inventoryQuantity > 0), price_varies: new Set(prices).size > 1, compare_at_price: null,
      variants: p.variants.map((v) => ({ id: v.id, title: v.title, sku: v.sku, price: cents(v.price), available: v.inventoryQuantity > 0 })),
      images: p.image ? [p.image] : [], featured_image: p.image,
      url: `/products/${p.handle}?pr_prod_strat=collection_fallback&pr_rec_pid=${p.id}&pr_ref_pid=${refId}&pr_seq=uniform`,
    };
  }

  /** Shopify's related products: same type first, then the rest by popularity; active only. */
  function related(productId: number, limit: number): SimProduct[] {
    const ref = store.products.find((p) => p.id === productId);
    if (!ref) return [];
    const others = store.products.filter((p) => p.id !== productId && p.status === 'ACTIVE');
    const score = (p: SimProduct) => (p.productType === ref.productType ? 1e6 : 0) + (p.popularity ?? 0);
    return others.sort((a, b) => score(b) - score(a) || a.id - b.id).slice(0, limit);
  }

  const shopifyScript = (consent: boolean) => `window.Shopify = ${JSON.stringify({
    shop: store.shop, locale, country: 'US', currency: { active: presentment.currency, rate: String(presentment.rate) }, routes: { root: '/' },
  })};
(function () {
  var S = window.Shopify, allowed = ${consent ? 'true' : 'false'}, api = null;
  // The Customer Privacy API, loaded on demand like Shopify's (asynchronously, once).
  S.loadFeatures = function (features, cb) {
    setTimeout(function () {
      if (features.some(function (f) { return f.name === 'consent-tracking-api'; }) && !api) {
        api = S.customerPrivacy = {
          analyticsProcessingAllowed: function () { return allowed; },
          marketingAllowed: function () { return allowed; },
          preferencesProcessingAllowed: function () { return allowed; },
          saleOfDataAllowed: function () { return allowed; },
          setTrackingConsent: function (c, done) {
            allowed = c.analytics === true;
            document.cookie = 'sim_consent=' + (allowed ? '1' : '0') + '; path=/';
            document.dispatchEvent(new CustomEvent('visitorConsentCollected', { detail: { analyticsAllowed: allowed, marketingAllowed: allowed, preferencesAllowed: allowed, saleOfDataAllowed: allowed } }));
            if (done) done();
          }
        };
      }
      cb();
    }, 20);
  };
})();`.replace(/<\/script/gi, '<\\/script');

  async function page(template: 'product' | 'cart', product: SimProduct | null, consent: boolean): Promise<string> {
    const cartItems = cart.map((l) => ({ ...l, final_line_price: l.price * l.quantity }));
    const ctx = {
      template: { name: template },
      request: { locale: { iso_code: locale } },
      routes: { root_url: '/', cart_add_url: '/cart/add', cart_url: '/cart', product_recommendations_url: '/recommendations/products' },
      shop: { name: 'shopml demo store', money_format: moneyFormat, currency: store.currency, permanent_domain: store.shop },
      cart: { items: cartItems, item_count: cart.reduce((n, l) => n + l.quantity, 0), currency: { iso_code: presentment.currency } },
      product: product ? { id: product.id, title: product.title, handle: product.handle, price: cents(product.variants[0]!.price), variant_id: product.variants[0]!.id, featured_image: product.image } : null,
      block: { id: 'AbCdEf123', settings, shopify_attributes: '' },
    };
    const block_html = await liquid.render(blockTemplate, ctx);
    return liquid.render(pageTemplate, { ...ctx, block_html, shopify_script: shopifyScript(consent), app_javascript: schema.javascript, app_stylesheet: schema.stylesheet });
  }

  async function proxy(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = req.method === 'POST' ? await read(req) : '';
    const extra: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) (extra[k] ??= []).push(v);
    const query = appProxyQuery({ secret: o.secret, shop: store.shop, pathPrefix: proxyPath, loggedInCustomerId: customer, extra });
    const log: ProxiedRequest = { method: req.method ?? 'GET', path: url.pathname, query: new URLSearchParams(url.search), body, status: 0 };
    proxied.push(log);
    if (delayMs) await sleep(delayMs);
    try {
      const upstream = await fetch(`${backend}/proxy${url.pathname.slice(proxyPath.length)}?${query}`, {
        method: req.method, body: req.method === 'POST' ? body : undefined,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/octet-stream', 'user-agent': 'Shopify-Proxy-Simulator' },
      });
      const text = await upstream.text();
      log.status = upstream.status;
      const headers: Record<string, string> = {};
      for (const h of ['content-type', 'cache-control', 'retry-after']) {
        const v = upstream.headers.get(h);
        if (v) headers[h] = v;
      }
      if (!res.destroyed) res.writeHead(upstream.status, headers).end(text);
    } catch {
      // The app is unreachable: Shopify answers with an error page of its own.
      log.status = 502;
      if (!res.destroyed) res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
    }
  }

  function addToCart(items: { id?: unknown; quantity?: unknown; properties?: unknown }[]): CartLine[] | string {
    const added: CartLine[] = [];
    for (const it of items) {
      const found = variantOf(Number(it.id));
      if (!found) return `variant ${String(it.id)} not found`;
      const properties: Record<string, string> = {};
      if (typeof it.properties === 'object' && it.properties !== null) for (const [k, v] of Object.entries(it.properties)) if (v !== null && v !== undefined && v !== '') properties[k] = String(v);
      const line: CartLine = { variant_id: found.v.id, product_id: found.p.id, quantity: Math.max(1, Number(it.quantity) || 1), title: found.p.title, price: cents(found.v.price), properties };
      cart.push(line);
      added.push(line);
    }
    return added;
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://storefront.local');
      const consent = /(?:^|;\s*)sim_consent=1/.test(req.headers.cookie ?? '');
      const html = (s: string) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(s);
      const json = (status: number, v: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      try {
        if (url.pathname === proxyPath || url.pathname.startsWith(`${proxyPath}/`)) return await proxy(req, res, url);
        const m = /^\/products\/([\w-]+)$/.exec(url.pathname);
        if (m && req.method === 'GET') {
          const product = store.products.find((p) => p.handle === m[1]);
          if (!product) return res.writeHead(404).end('not found');
          return html(await page('product', product, consent));
        }
        if (url.pathname === '/cart' && req.method === 'GET') return html(await page('cart', null, consent));
        if (url.pathname === '/cart.js') return json(200, { items: cart, item_count: cart.reduce((n, l) => n + l.quantity, 0), currency: presentment.currency });
        if (url.pathname === '/cart/add.js' && req.method === 'POST') {
          const body = JSON.parse((await read(req)) || '{}') as { items?: unknown[]; id?: unknown; quantity?: unknown; properties?: unknown };
          const added = addToCart((body.items ?? [body]) as Parameters<typeof addToCart>[0]);
          return typeof added === 'string' ? json(422, { status: 422, message: 'Cart Error', description: added }) : json(200, { items: added });
        }
        if (url.pathname === '/cart/add' && req.method === 'POST') {
          const form = new URLSearchParams(await read(req));
          const properties: Record<string, string> = {};
          for (const [k, v] of form) {
            const p = /^properties\[(.+)\]$/.exec(k);
            if (p) properties[p[1]!] = v;
          }
          const added = addToCart([{ id: form.get('id'), quantity: form.get('quantity'), properties }]);
          if (typeof added === 'string') return res.writeHead(422).end(added);
          return res.writeHead(303, { location: '/cart' }).end();
        }
        if (url.pathname === '/recommendations/products.json' && req.method === 'GET') {
          fallbacks.push(url.searchParams);
          const id = Number(url.searchParams.get('product_id'));
          const limit = Number(url.searchParams.get('limit') ?? 10);
          if (!Number.isInteger(id) || id <= 0) return json(422, { status: 422, message: 'Invalid parameter error', description: 'product_id is required' });
          if (!Number.isInteger(limit) || limit < 1 || limit > 10) return json(422, { status: 422, message: 'Invalid parameter error', description: 'limit must be between 1 and 10' });
          if (!store.products.some((p) => p.id === id)) return json(404, { status: 404, message: 'Product not found', description: 'No product with this id' });
          return json(200, { intent: url.searchParams.get('intent') ?? 'related', products: related(id, limit).map((p) => ajaxProduct(p, id)) });
        }
        if (url.pathname.startsWith(`${assetBase}/`) && req.method === 'GET') {
          const file = decodeURIComponent(url.pathname.slice(assetBase.length + 1));
          const path = join(o.extensionDir, 'assets', basename(file));
          if (!existsSync(path)) return res.writeHead(404).end();
          const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream';
          return res.writeHead(200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'public, max-age=31536000' }).end(readFileSync(path));
        }
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      } catch (err) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end((err as Error).message);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    proxied, fallbacks, cart,
    setBackend(url, ms = 0) {
      backend = url;
      delayMs = ms;
    },
    setCustomer(id) {
      customer = id;
    },
    setSettings(s) {
      settings = { ...defaults, ...s };
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
