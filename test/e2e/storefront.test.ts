// The storefront block in a real browser (Debian chromium driven by playwright-core): the block's
// real Liquid rendered by the storefront simulator (simulator/storefront.ts) into a theme page;
// its app proxy forwards /apps/shopml/… to the real backend (Fastify on port 0, SQLite, a trained
// champion and challenger, a live experiment with a holdout) with Shopify's signed parameters;
// Shopify's own /recommendations/products.json and cart are simulated. Checked: products appear,
// impressions and clicks land in the unit's arm, the line-item property attributes an order to
// that arm, nothing is sent or kept without consent, Shopify's list takes over when shopml is down
// or slow, cumulative layout shift is 0 on every path, the keyboard focus ring shows, French and
// a converted currency, the cart template. Screenshots go to docs/screenshots/.
//
// Under CI=true a missing browser FAILS; elsewhere the file is skipped with a loud message.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer, type AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { generateStore } from '../../simulator/store.ts';
import { orderPayload, productPayload } from '../../simulator/rest-payloads.ts';
import { appProxyQuery, webhookHeaders } from '../../simulator/sign.ts';
import { placeholderImage, startStorefront, type Storefront } from '../../simulator/storefront.ts';
import type { SimOrder, SimProduct } from '../../simulator/types.ts';
import { recordEvent } from '../../backend/src/ingest/record.ts';
import { normalizeOrder, normalizeProduct } from '../../backend/src/ingest/normalize-rest.ts';
import { trainShop } from '../../backend/src/models/train-pipeline.ts';
import { getAlias, promote } from '../../backend/src/registry/aliases.ts';
import { armsFor, startExperiment } from '../../backend/src/rollout/experiments.ts';
import { SHOP, startTestBackend, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';

// What runs inside page.evaluate runs in the browser; the project compiles without the DOM library.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type BrowserAny = any;
declare const window: BrowserAny, document: BrowserAny, localStorage: BrowserAny, sessionStorage: BrowserAny, requestAnimationFrame: BrowserAny, getComputedStyle: BrowserAny;
declare const PerformanceObserver: BrowserAny;
interface LayoutShift { value: number; hadRecentInput: boolean; sources?: { node?: BrowserNode | null }[] }
interface BrowserNode { className?: string; nodeName?: string; compareDocumentPosition(other: BrowserNode): number; contains(other: BrowserNode): boolean }

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXTENSION = `${ROOT}extensions/shopml-theme`;
const SCREENSHOTS = `${ROOT}docs/screenshots`;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CI = Boolean(process.env.CI) && process.env.CI !== 'false';
const browserMissing = !existsSync(CHROMIUM);
if (browserMissing && !CI) {
  console.warn(`\n${'!'.repeat(78)}\n!! SKIPPING test/e2e/storefront.test.ts: no browser at ${CHROMIUM}.\n!! Install Debian's chromium (scripts/apt-packages.txt) or set CHROMIUM_PATH. Under CI=true this fails.\n${'!'.repeat(78)}\n`);
}

const store = generateStore({ seed: 61, shop: SHOP, customers: 220, products: 40, days: 200 });
const VIEWPORT = { width: 1280, height: 1100 };

let be: TestBackend;
let sf: Storefront;
let browser: Browser;
let V1: string;
let V2: string;
let experimentId: number;
let arms: (unit: string) => string;
let nextId = 8_000_000_000;

const active = store.products.filter((p) => p.status === 'ACTIVE' && p.image && p.variants.some((v) => v.inventoryQuantity > 0));
const byHandle = (h: string) => store.products.find((p) => p.handle === h)!;
const byId = (id: string | number) => store.products.find((p) => String(p.id) === String(id))!;
const unitIn = (variant: string, prefix: string) => {
  for (let i = 0; i < 500; i++) if (arms(`${prefix}-${i}`) === variant) return `${prefix}-${i}`;
  throw new Error(`no unit in ${variant}`);
};

interface Served { variant: string; model_version: string; rec_id: string; products: { id: string; url: string | null; title: string | null; price: { amount: string } | null }[] }
async function backendList(extra: Record<string, string>): Promise<Served> {
  const q = appProxyQuery({ secret: TEST_SECRET, shop: SHOP, extra });
  return (await (await fetch(`${be.url}/proxy/recommendations?${q}`)).json()) as Served;
}

/** A browser context as a shopper: consent cookie, anonymous id already kept, CLS observer, images. */
async function shopper(o: { consent: boolean; anonymousId?: string; viewport?: { width: number; height: number } }): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: o.viewport ?? VIEWPORT, deviceScaleFactor: 1, reducedMotion: 'reduce' });
  if (o.consent) await ctx.addCookies([{ name: 'sim_consent', value: '1', url: sf.url }]);
  await ctx.addInitScript(({ aid }) => {
    if (aid && !localStorage.getItem('shopml_aid')) localStorage.setItem('shopml_aid', aid);
    const w = window as unknown as { __cls: number; __shifts: unknown[]; __themeShifts: unknown[] };
    w.__cls = 0;
    w.__shifts = [];
    w.__themeShifts = [];
    // A shift of the theme's own content above the block (its product form's button when the
    // page's font settles late on a loaded machine) is not the block's: the block comes after it
    // in the page and cannot move it. Such shifts are kept apart; every other one counts, a shift
    // whose moved node is gone included.
    const DOCUMENT_POSITION_FOLLOWING = 4;
    const beforeBlock = (n: BrowserNode | null | undefined): boolean => {
      const block = document.querySelector('.shopify-app-section') as unknown as BrowserNode | null;
      return !!n && !!block && !block.contains(n) && (n.compareDocumentPosition(block) & DOCUMENT_POSITION_FOLLOWING) !== 0;
    };
    new PerformanceObserver((list: { getEntries(): LayoutShift[] }) => {
      for (const e of list.getEntries()) {
        if (e.hadRecentInput) continue;
        const shift = { value: e.value, nodes: (e.sources ?? []).map((s) => s.node?.className || s.node?.nodeName) };
        const sources = e.sources ?? [];
        if (sources.length > 0 && sources.every((s) => beforeBlock(s.node))) {
          w.__themeShifts.push(shift);
          continue;
        }
        w.__cls += e.value;
        w.__shifts.push(shift);
      }
    }).observe({ type: 'layout-shift', buffered: true });
  }, { aid: o.anonymousId ?? '' });
  // The simulated catalog's image host does not exist: answer with a picture per product.
  await ctx.route('https://cdn.example.com/**', (route) => {
    const handle = /\/([\w-]+)\.jpg/.exec(route.request().url())?.[1] ?? 'x';
    return route.fulfill({ status: 200, contentType: 'image/svg+xml', body: placeholderImage(byHandle(handle)?.title ?? handle) });
  });
  return { ctx, page: await ctx.newPage() };
}

/** Waits for the block to finish, every image to load and the page to settle; returns the block's state. */
async function settled(page: Page): Promise<{ state: string; source: string; variant: string | null; cls: number; shifts: unknown[]; themeShifts: unknown[]; hrefs: string[]; titles: string[]; prices: string[]; alts: string[] }> {
  await page.waitForSelector('shopml-recs[data-state]', { timeout: 10_000 });
  await page.waitForFunction(() => [...document.images].every((i: { complete: boolean }) => i.complete));
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 250)))));
  return page.evaluate(() => {
    const el = document.querySelector('shopml-recs');
    const w = window as unknown as { __cls: number; __shifts: unknown[]; __themeShifts: unknown[] };
    const items = [...el.querySelectorAll('li:not(.shopml__item--empty):not([aria-hidden])')];
    return {
      state: el.dataset.state as string, source: el.dataset.source ?? '', variant: el.dataset.variant ?? null, cls: w.__cls, shifts: w.__shifts, themeShifts: w.__themeShifts,
      hrefs: items.map((li: BrowserAny) => li.querySelector('a').getAttribute('href') as string),
      titles: items.map((li: BrowserAny) => li.querySelector('a').textContent as string),
      prices: items.map((li: BrowserAny) => li.querySelector('.shopml__price').textContent as string),
      alts: items.map((li: BrowserAny) => (li.querySelector('img')?.getAttribute('alt') ?? '') as string),
    };
  });
}

const events = (unit: string) => be.deps.db.prepare('SELECT type, unit, variant, model_version, experiment_id, product_id, product_ids, rec_id FROM storefront_events WHERE unit = ? ORDER BY occurred_at, type DESC').all(unit) as
  { type: string; unit: string; variant: string; model_version: string | null; experiment_id: number | null; product_id: string | null; product_ids: string | null; rec_id: string }[];
const eventCount = () => be.deps.db.prepare('SELECT count(*) FROM storefront_events').pluck().get() as number;

/** A guest's live order of the cart's lines, as Shopify sends orders/create (line-item properties kept). */
async function checkout(lines: { product_id: number; variant_id: number; properties: Record<string, string> }[]): Promise<number> {
  const tpl = store.orders.find((o) => o.cancelledAt === null)!;
  const id = nextId++;
  const now = new Date().toISOString();
  const order: SimOrder = {
    ...tpl, id, name: `#${id}`, orderNumber: id, customerId: null, createdAt: now, updatedAt: now, processedAt: now, cancelledAt: null, cancelReason: null,
    financialStatus: 'paid', refunds: [], discount: null, test: false, fulfilledAt: null, tags: [],
    lines: lines.map((l, i) => {
      const p = byId(l.product_id);
      const v = p.variants.find((x) => x.id === l.variant_id)!;
      return { id: id * 10 + i, productId: p.id, variantId: v.id, sku: v.sku, title: p.title, quantity: 1, price: v.price };
    }),
  };
  const payload = orderPayload(order, store) as Record<string, unknown> & { line_items: { variant_id: number; properties: unknown[] }[] };
  for (const li of payload.line_items) {
    const props = lines.find((l) => l.variant_id === li.variant_id)?.properties ?? {};
    li.properties = Object.entries(props).map(([name, value]) => ({ name, value }));
  }
  const body = JSON.stringify(payload);
  const res = await fetch(`${be.url}/webhooks`, { method: 'POST', body, headers: webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic: 'orders/create', rawBody: body, webhookId: `w-${nextId++}` }) });
  expect(res.status).toBe(200);
  return id;
}

describe.skipIf(browserMissing && !CI)('storefront block in a real browser', () => {
  beforeAll(async () => {
    if (browserMissing) throw new Error(`chromium not found at ${CHROMIUM}: under CI=true a missing browser fails (install it from scripts/apt-packages.txt)`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    const launching = chromium.launch({ executablePath: CHROMIUM });
    be = await startTestBackend();
    const db = be.deps.db;
    const keys = be.deps.keys;
    db.transaction(() => {
      for (const p of store.products) recordEvent(db, keys, { shop: SHOP, topic: 'products/create', source: 'webhook', sourceId: `p-${p.id}`, receivedAt: p.createdAt, payloadSha256: 'x', event: { type: 'product', product: normalizeProduct(productPayload(p, store)) } });
      for (const o of store.orders) recordEvent(db, keys, { shop: SHOP, topic: 'orders/create', source: 'webhook', sourceId: `o-${o.id}`, receivedAt: o.createdAt, payloadSha256: 'x', event: { type: 'order', order: normalizeOrder(orderPayload(o, store), SHOP, keys) } });
    })();
    V1 = (await trainShop({ db, shop: SHOP, kinds: ['recommend'], seed: 1, artifactsDir: be.config.artifactsDir })).runs[0]!.version!;
    V2 = (await trainShop({ db, shop: SHOP, kinds: ['recommend'], seed: 2, artifactsDir: be.config.artifactsDir })).runs[0]!.version!;
    expect(getAlias(db, SHOP, 'recommend', 'champion')).toBe(V1);
    if (getAlias(db, SHOP, 'recommend', 'challenger') !== V2) promote(db, { shop: SHOP, kind: 'recommend', version: V2, to: 'challenger', reason: 'e2e', actor: 'test' });
    experimentId = startExperiment(db, { shop: SHOP, kind: 'recommend', championVersion: V1, challengerVersion: V2, holdoutPct: 30, challengerPct: 30 }).id;
    arms = armsFor(db, SHOP, 'recommend').variantOf;
    sf = await startStorefront({ store, extensionDir: EXTENSION, secret: TEST_SECRET, backend: be.url });
    browser = await launching;
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await sf?.close();
    await be?.stop();
  });

  it('shows shopml\'s list (challenger arm), sends the impression and click to that arm, attributes add to cart; CLS 0', async () => {
    const unit = unitIn('challenger', 'a-e2e-chal');
    const product = active[0]!;
    const expected = await backendList({ product_id: String(product.id), anonymous_id: unit, limit: '4' });
    expect(expected).toMatchObject({ variant: 'challenger', model_version: V2 });
    const { ctx, page } = await shopper({ consent: true, anonymousId: unit });
    try {
      await page.goto(`${sf.url}/products/${product.handle}`);
      const s = await settled(page);
      expect(s, JSON.stringify(s.shifts)).toMatchObject({ state: 'ready', source: 'shopml', variant: 'challenger', cls: 0 });
      expect(s.hrefs).toEqual(expected.products.map((p) => p.url));
      expect(s.hrefs).not.toContain(`/products/${product.handle}`);
      expect(s.titles).toEqual(s.hrefs.map((h) => byHandle(h.split('/').pop()!).title));
      expect(s.alts).toEqual(s.titles);
      // The shop's money format ("${{amount}}") on the backend's price (the first purchasable variant).
      expect(s.prices).toEqual(expected.products.map((p) => `$${Number(p.price!.amount).toFixed(2)}`));
      // The request went through the proxy with the unit and consent; Shopify added and signed the rest.
      const get = sf.proxied.find((r) => r.method === 'GET' && r.query.get('anonymous_id') === unit)!;
      expect(Object.fromEntries(get.query)).toEqual({ limit: '4', product_id: String(product.id), anonymous_id: unit, consent: '1' });
      expect(get.status).toBe(200);
      // Accessible list: a labelled region, a list, one item per product, the heading from the locale.
      const a11y = await page.evaluate(() => {
        const section = document.querySelector('shopml-recs section')!;
        return { label: document.getElementById(section.getAttribute('aria-labelledby')!)!.textContent, busy: section.getAttribute('aria-busy'), items: document.querySelectorAll('shopml-recs ul[role=list] > li').length };
      });
      expect(a11y).toEqual({ label: 'You may also like', busy: null, items: 4 });
      await page.screenshot({ path: `${SCREENSHOTS}/storefront-block.png` });

      // Impression (the block is in view): one event, the unit's arm and version, the products shown.
      await vi.waitFor(() => expect(events(unit).filter((e) => e.type === 'impression')).toHaveLength(1), { timeout: 5000 });
      const [imp] = events(unit);
      expect(imp).toMatchObject({ unit, variant: 'challenger', model_version: V2, experiment_id: experimentId, product_ids: expected.products.map((p) => p.id).join(',') });

      // Add to cart from the shelf: the line carries the rec_id the backend signed.
      const first = expected.products[0]!;
      await page.locator('shopml-recs li').nth(0).getByRole('button', { name: 'Add to cart' }).click();
      await page.waitForFunction(() => document.querySelector('shopml-recs li .shopml__add')!.textContent === 'Added to cart');
      const line = sf.cart.find((l) => String(l.product_id) === first.id)!;
      expect(line.properties).toEqual({ _shopml_rec: imp!.rec_id });

      // Click the second product: the click lands in the same arm; its page's own cart form then
      // carries the rec_id (the block adds it), so adding there is attributed too.
      const second = expected.products[1]!;
      await Promise.all([page.waitForURL(`**${second.url}`), page.locator('shopml-recs a').nth(1).click()]);
      await vi.waitFor(() => expect(events(unit).filter((e) => e.type === 'click')).toHaveLength(1), { timeout: 5000 });
      expect(events(unit).find((e) => e.type === 'click')).toMatchObject({ variant: 'challenger', model_version: V2, product_id: second.id, rec_id: imp!.rec_id });
      await settled(page);
      await Promise.all([page.waitForURL('**/cart'), page.locator('form[action="/cart/add"] button').click()]);
      const formLine = sf.cart.find((l) => String(l.product_id) === second.id)!;
      expect(formLine.properties).toEqual({ _shopml_rec: imp!.rec_id });

      // The order (a guest checkout of that cart) is attributed to the challenger and this unit.
      const orderId = await checkout([line, formLine]);
      const conv = be.deps.db.prepare('SELECT product_id, unit, variant, model_version, method FROM rec_conversions WHERE order_id = ? ORDER BY product_id').all(String(orderId));
      expect(conv).toEqual([first.id, second.id].sort().map((id) => ({ product_id: id, unit, variant: 'challenger', model_version: V2, method: 'property' })));
    } finally {
      await ctx.close();
    }
  });

  it('the holdout arm: popularity, events in the holdout, CLS 0', async () => {
    const unit = unitIn('holdout', 'a-e2e-hold');
    const product = active[1]!;
    const { ctx, page } = await shopper({ consent: true, anonymousId: unit });
    try {
      await page.goto(`${sf.url}/products/${product.handle}`);
      const s = await settled(page);
      expect(s, JSON.stringify(s.shifts)).toMatchObject({ state: 'ready', source: 'shopml', variant: 'holdout', cls: 0 });
      expect(s.hrefs).toHaveLength(4);
      await vi.waitFor(() => expect(events(unit)).toHaveLength(1), { timeout: 5000 });
      expect(events(unit)[0]).toMatchObject({ type: 'impression', variant: 'holdout', model_version: null, experiment_id: experimentId });
      // What the CLS figure leaves out: the theme's own content above the block moving (its title
      // grows, its button moves down; the product row keeps its height, so the block stays put).
      await page.evaluate(() => { document.querySelector('.product h1').style.fontSize = '2.2rem'; });
      const after = await settled(page);
      expect(after.themeShifts.length, JSON.stringify(after)).toBeGreaterThan(0);
      expect(after.cls, JSON.stringify(after.shifts)).toBe(0);
    } finally {
      await ctx.close();
    }
  });

  it('a logged-in customer: Shopify\'s signed customer id is the unit, events carry it', async () => {
    const buyers = [...new Set(store.orders.filter((o) => o.customerId !== null).map((o) => String(o.customerId)))];
    const customer = buyers.find((c) => arms(c) === 'champion')!;
    const { ctx, page } = await shopper({ consent: true, anonymousId: unitIn('challenger', 'a-e2e-signed-in') });
    sf.setCustomer(customer);
    try {
      await page.goto(`${sf.url}/products/${active[8]!.handle}`);
      const s = await settled(page);
      expect(s, JSON.stringify(s.shifts)).toMatchObject({ state: 'ready', source: 'shopml', variant: 'champion', cls: 0 });
      await vi.waitFor(() => expect(events(customer)).toHaveLength(1), { timeout: 5000 });
      expect(events(customer)[0]).toMatchObject({ type: 'impression', variant: 'champion', model_version: V1 });
    } finally {
      sf.setCustomer('');
      await ctx.close();
    }
  });

  it('without consent: the shelf shows, nothing is sent or kept, no attribution property', async () => {
    const product = active[2]!;
    const before = eventCount();
    const seen = sf.proxied.length;
    const { ctx, page } = await shopper({ consent: false });
    try {
      await page.goto(`${sf.url}/products/${product.handle}`);
      const s = await settled(page);
      expect(s, JSON.stringify(s.shifts)).toMatchObject({ state: 'ready', source: 'shopml', variant: 'champion', cls: 0 });
      expect(s.hrefs.length).toBe(4);
      await page.locator('shopml-recs li').nth(0).getByRole('button').click();
      await page.waitForFunction(() => document.querySelector('shopml-recs li .shopml__add')!.textContent === 'Added to cart');
      const firstId = byHandle(s.hrefs[0]!.split('/').pop()!).id;
      expect(sf.cart.filter((l) => l.product_id === firstId).at(-1)!.properties).toEqual({});
      await Promise.all([page.waitForURL(`**${s.hrefs[1]}`), page.locator('shopml-recs a').nth(1).click()]);
      await settled(page);
      expect(await page.locator('form[action="/cart/add"] input[name^="properties"]').count()).toBe(0);
      expect(await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }))).toEqual({ local: 0, session: 0 });
      await page.waitForTimeout(500);
      const sent = sf.proxied.slice(seen);
      expect(sent.map((r) => r.method)).toEqual(['GET', 'GET']);
      for (const r of sent) {
        expect(r.query.has('anonymous_id')).toBe(false);
        expect(r.query.has('consent')).toBe(false);
      }
      expect(eventCount()).toBe(before);
    } finally {
      await ctx.close();
    }
  });

  it('falls back to Shopify\'s recommendations when shopml is down or slow; CLS 0', async () => {
    const product = active[3]!;
    const related = (await (await fetch(`${sf.url}/recommendations/products.json?product_id=${product.id}&limit=4&intent=related`)).json()) as { products: { url: string; title: string; price: number }[] };
    // A port nothing listens on: the app is down (connection refused).
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const down = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    const { ctx, page } = await shopper({ consent: true, anonymousId: 'a-e2e-fallback' });
    try {
      for (const [mode, target, delay] of [['down', down, 0], ['slow', be.url, 8000]] as const) {
        sf.setBackend(target, delay);
        const fallbacksBefore = sf.fallbacks.length;
        const t0 = Date.now();
        await page.goto(`${sf.url}/products/${product.handle}`);
        const s = await settled(page);
        const took = Date.now() - t0;
        expect(s, `${mode}: ${JSON.stringify(s.shifts)}`).toMatchObject({ state: 'ready', source: 'shopify', variant: null, cls: 0 });
        expect(s.titles).toEqual(related.products.map((p) => p.title));
        expect(s.prices).toEqual(related.products.map((p) => `$${(p.price / 100).toFixed(2)}`));
        expect(Object.fromEntries(sf.fallbacks[fallbacksBefore]!)).toEqual({ product_id: String(product.id), limit: '4', intent: 'related' });
        if (mode === 'slow') {
          expect(took).toBeGreaterThanOrEqual(1500);
          expect(took).toBeLessThan(6000); // did not wait for the 8 s answer
          await page.screenshot({ path: `${SCREENSHOTS}/storefront-block-fallback.png` });
        }
      }
      // Shopify's lists carry no rec_id: nothing is sent to shopml for them.
      expect(events('a-e2e-fallback')).toEqual([]);
      // Both fail (shopml down, an empty cart gives Shopify nothing to relate): the block keeps its space, blank.
      sf.setBackend(down, 0);
      const cart = sf.cart.splice(0);
      try {
        await page.goto(`${sf.url}/cart`);
        const s = await settled(page);
        expect(s, JSON.stringify(s.shifts)).toMatchObject({ state: 'empty', source: '', cls: 0, hrefs: [] });
        expect(await page.locator('shopml-recs section').isVisible()).toBe(false);
      } finally {
        sf.cart.push(...cart);
      }
    } finally {
      sf.setBackend(be.url, 0);
      await ctx.close();
    }
  });

  it('keyboard focus shows a visible ring on each product', async () => {
    const { ctx, page } = await shopper({ consent: false });
    try {
      await page.goto(`${sf.url}/products/${active[4]!.handle}`);
      await settled(page);
      const card = page.locator('shopml-recs li').nth(0);
      const unfocused = await card.screenshot();
      for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.classList.contains('shopml__title'))); i++) await page.keyboard.press('Tab');
      const ring = await page.evaluate(() => {
        const a = document.activeElement;
        const after = getComputedStyle(a, '::after');
        return { cls: a.className, style: after.outlineStyle, width: after.outlineWidth, first: a === document.querySelector('shopml-recs a') };
      });
      expect(ring).toEqual({ cls: 'shopml__title', style: 'solid', width: '2px', first: true });
      expect((await card.screenshot()).equals(unfocused)).toBe(false);
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement.className)).toBe('shopml__add');
      await page.keyboard.press('Shift+Tab');
      await page.locator('shopml-recs').screenshot({ path: `${SCREENSHOTS}/storefront-block-focus.png` });
    } finally {
      await ctx.close();
    }
  });

  it('carousel, French strings and a converted presentment currency; the cart template; CLS 0', async () => {
    const fr = await startStorefront({ store, extensionDir: EXTENSION, secret: TEST_SECRET, backend: be.url, locale: 'fr', presentment: { currency: 'EUR', rate: 0.9 }, settings: { layout: 'carousel', products_count: 6, columns: 4, image_ratio: 'portrait' } });
    const { ctx, page } = await shopper({ consent: false, viewport: { width: 1024, height: 1100 } });
    try {
      const product = active[5]!;
      const expected = await backendList({ product_id: String(product.id), limit: '6' });
      await page.goto(`${fr.url}/products/${product.handle}`);
      const s = await settled(page);
      expect(s, JSON.stringify(s.shifts)).toMatchObject({ state: 'ready', source: 'shopml', cls: 0 });
      expect(s.hrefs).toEqual(expected.products.map((p) => p.url));
      const eur = new Intl.NumberFormat('fr', { style: 'currency', currency: 'EUR' });
      expect(s.prices).toEqual(expected.products.map((p) => eur.format(Number(p.price!.amount) * 0.9)));
      expect(await page.locator('shopml-recs h2').textContent()).toBe('Vous aimerez aussi');
      expect(await page.locator('shopml-recs li button').first().textContent()).toBe('Ajouter au panier');
      // A carousel: one row that scrolls sideways.
      const layout = await page.evaluate(() => {
        const ul = document.querySelector('shopml-recs ul')!;
        const tops = new Set([...ul.children].map((li: BrowserAny) => Math.round(li.getBoundingClientRect().top)));
        return { rows: tops.size, scrolls: ul.scrollWidth > ul.clientWidth };
      });
      expect(layout).toEqual({ rows: 1, scrolls: true });
      await page.screenshot({ path: `${SCREENSHOTS}/storefront-block-carousel-fr.png` });

      // The cart template: every cart product goes to shopml; none comes back.
      fr.cart.push(...[active[6]!, active[7]!].map((p) => ({ variant_id: p.variants[0]!.id, product_id: p.id, quantity: 1, title: p.title, price: 100, properties: {} })));
      await page.goto(`${fr.url}/cart`);
      const c = await settled(page);
      expect(c, JSON.stringify(c.shifts)).toMatchObject({ state: 'ready', source: 'shopml', cls: 0 });
      expect(fr.proxied.at(-1)!.query.get('product_id')).toBe(`${active[6]!.id},${active[7]!.id}`);
      const inCart = [active[6]!, active[7]!].map((p: SimProduct) => `/products/${p.handle}`);
      expect(c.hrefs.length).toBeGreaterThan(0);
      for (const h of c.hrefs) expect(inCart).not.toContain(h);
    } finally {
      await ctx.close();
      await fr.close();
    }
  });
});
