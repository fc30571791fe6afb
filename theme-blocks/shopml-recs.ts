// <shopml-recs>: the "Recommended products" app block's web component. The Liquid renders the
// heading and one placeholder per product (so the block's space is reserved before any script
// runs); this fills them in place. See docs/storefront.md.
//
// 1. Consent: loads Shopify's Customer Privacy API (`Shopify.loadFeatures`) and asks
//    `analyticsProcessingAllowed()`. Only with consent is an anonymous id kept (localStorage) and
//    sent, and are impressions, clicks and the attribution line-item property sent. Without it
//    the shelf still shows (the backend serves the champion and records nothing).
// 2. Fetches `/apps/shopml/recommendations` (Shopify's app proxy signs it and adds
//    `logged_in_customer_id`) with a 1.5 s budget; on failure, a slow answer or an empty list it
//    falls back to Shopify's `/recommendations/products.json`, so the shelf is never empty.
// 3. Renders an accessible list in the placeholders; prices in the presentment currency.
// 4. Impression when half the block is visible, clicks, and `_shopml_rec` on add to cart (the
//    block's button, and the theme's product form after a click from the shelf).
import { priceText, type PriceContext } from './money.ts';

interface Item { id: string; variant: string | null; title: string; url: string; image: string | null; price: string }
interface ShopmlProduct { id: string; variant_id: string | null; title: string | null; url: string | null; image: string | null; price: { amount: string; currency: string } | null }
interface AjaxProduct { id: number; title: string; url: string; featured_image: string | null; price: number; available?: boolean; variants?: { id: number; available?: boolean }[] }
interface Privacy { analyticsProcessingAllowed(): boolean }
interface ShopifyGlobal {
  customerPrivacy?: Privacy;
  loadFeatures?: (features: { name: string; version: string }[], cb: (error?: unknown) => void) => void;
  currency?: { active?: string; rate?: string };
}

const AID_KEY = 'shopml_aid';
const REC_KEY = 'shopml_rec_';
const TIMEOUT_MS = 1500;
const PRIVACY_WAIT_MS = 1000;
const PROPERTY = '_shopml_rec';

const shopify = (): ShopifyGlobal | undefined => (window as unknown as { Shopify?: ShopifyGlobal }).Shopify;

/** Analytics consent, as Shopify's Customer Privacy API reports it now (false when unavailable). */
function consent(): boolean {
  try {
    return shopify()?.customerPrivacy?.analyticsProcessingAllowed() === true;
  } catch {
    return false;
  }
}

let privacy: Promise<void> | undefined;
/** Loads the Customer Privacy API once per page; never waits longer than PRIVACY_WAIT_MS. */
function loadPrivacy(): Promise<void> {
  return (privacy ??= new Promise((done) => {
    const s = shopify();
    if (s?.customerPrivacy || !s?.loadFeatures) return done();
    setTimeout(done, PRIVACY_WAIT_MS);
    try {
      s.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }], () => done());
    } catch {
      done();
    }
  }));
}

const random = (n: number): string => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => (b % 36).toString(36)).join('');

function storage(): Storage | null {
  try {
    return localStorage;
  } catch {
    return null;
  }
}

let memoryAid: string | undefined;
let blocks = 0;
/** The shopper's anonymous id (the rollout unit): created and kept only with consent. */
function anonymousId(): string {
  const s = storage();
  let id = s?.getItem(AID_KEY) ?? memoryAid;
  if (!id || !/^[\w-]{1,64}$/.test(id)) {
    id = `a-${random(20)}`;
    try {
      s?.setItem(AID_KEY, id);
    } catch { /* private mode: this page only */ }
  }
  return (memoryAid = id);
}

/** GET JSON within `ms` (the whole answer, body included), else throws. */
async function getJson<T>(url: string, ms: number): Promise<T> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    const res = await fetch(url, { signal: abort.signal, headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(String(res.status));
    return (await res.json()) as T;
  } finally {
    clearTimeout(timer);
  }
}

/** A Shopify CDN image at the size the shelf needs. */
function sized(src: string): string {
  try {
    const u = new URL(src, location.href);
    if (/(^|\.)cdn\.shopify\.com$/.test(u.hostname) || u.pathname.includes('/cdn/shop/')) u.searchParams.set('width', '480');
    return u.href;
  } catch {
    return src;
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = `shopml__${cls}`;
  if (text) e.textContent = text;
  return e;
}

class ShopmlRecs extends HTMLElement {
  private started = false;
  private recId = '';
  /** Consent when the list was fetched: events only for lists whose exposure the backend logged. */
  private tracked = false;
  private items: Item[] = [];
  private key = `shopml-${++blocks}`;

  connectedCallback(): void {
    if (this.started) return;
    this.started = true;
    void this.run();
  }

  private async run(): Promise<void> {
    const d = this.dataset;
    const limit = Math.max(1, Math.min(24, Number(d.limit) || 4));
    const ids = (d.productIds ?? '').split(',').filter((s) => /^\d+$/.test(s));
    const fmt = new DOMParser().parseFromString(d.moneyFormat ?? '', 'text/html').body.textContent ?? '';
    const money: PriceContext = { format: fmt, shopCurrency: d.shopCurrency ?? '', currency: d.currency ?? '', locale: d.locale ?? '', rate: shopify()?.currency };
    await loadPrivacy();
    this.attribute(ids);
    try {
      const q = new URLSearchParams({ limit: String(limit) });
      if (ids.length) q.set('product_id', ids.join(','));
      if ((this.tracked = consent())) {
        q.set('anonymous_id', anonymousId());
        q.set('consent', '1');
      }
      const r = await getJson<{ variant: string; rec_id: string; products: ShopmlProduct[] }>(`${d.proxy}/recommendations?${q}`, TIMEOUT_MS);
      this.items = r.products
        .filter((p) => p.title && p.url)
        .map((p) => ({ id: p.id, variant: p.variant_id, title: p.title!, url: p.url!, image: p.image, price: p.price ? priceText(Number(p.price.amount), p.price.currency, money) : '' }));
      this.recId = r.rec_id;
      d.variant = r.variant;
      d.source = 'shopml';
    } catch { /* unreachable, slow or refused: Shopify's own list below */ }
    if (!this.items.length && ids[0]) {
      this.recId = '';
      delete d.variant;
      d.source = 'shopify';
      try {
        const r = await getJson<{ products: AjaxProduct[] }>(`${d.recsUrl}?product_id=${ids[0]}&limit=${Math.min(limit, 10)}&intent=related`, 5000);
        this.items = r.products.filter((p) => p.available !== false).map((p) => ({
          id: String(p.id), variant: p.variants?.find((v) => v.available !== false)?.id?.toString() ?? null, title: p.title, url: p.url,
          image: p.featured_image, price: priceText(p.price / 100, money.currency, money),
        }));
      } catch { /* nothing to show: the block keeps its space, blank (data-state="empty") */ }
    }
    this.render(limit);
  }

  private render(limit: number): void {
    const slots = this.querySelectorAll('li');
    const shown = this.items.slice(0, Math.min(limit, slots.length));
    slots.forEach((li, i) => {
      const item = shown[i];
      if (!item) {
        // The placeholder keeps its boxes, hence its space (no layout shift), but is neither seen nor read.
        li.classList.add('shopml__item--empty');
        return;
      }
      li.className = 'shopml__item';
      li.replaceChildren();
      li.removeAttribute('aria-hidden');
      const media = el('div', 'media');
      if (item.image) {
        const img = el('img', 'img');
        img.src = sized(item.image);
        img.alt = item.title;
        img.loading = 'lazy';
        img.width = img.height = 480;
        media.append(img);
      }
      const link = el('a', 'title', item.title);
      link.href = item.url;
      link.id = `${this.key}-${i}`;
      link.addEventListener('click', () => this.clicked(item));
      li.append(media, link, el('span', 'price', item.price));
      if (this.hasAttribute('data-add') && item.variant) {
        const add = el('button', 'add', this.dataset.tAdd);
        add.type = 'button';
        add.setAttribute('aria-describedby', link.id);
        add.setAttribute('aria-live', 'polite');
        add.addEventListener('click', () => void this.add(item, add));
        li.append(add);
      } else if (this.hasAttribute('data-add')) {
        li.append(el('span', 'add shopml__add--none'));
      }
    });
    this.dataset.state = shown.length ? 'ready' : 'empty';
    this.querySelector('section')?.removeAttribute('aria-busy');
    if (shown.length && this.recId && 'IntersectionObserver' in window) {
      const seen = new IntersectionObserver((entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        seen.disconnect();
        this.send([{ type: 'impression', product_ids: shown.map((p) => p.id) }]);
      }, { threshold: 0.5 });
      seen.observe(this);
    }
  }

  /** Impressions and clicks go to shopml only with consent, and only for shopml's own lists. */
  private send(events: Record<string, unknown>[]): void {
    if (!this.recId || !this.tracked || !consent()) return;
    const at = new Date().toISOString();
    void fetch(`${this.dataset.proxy}/events`, {
      method: 'POST',
      keepalive: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ consent: true, anonymous_id: anonymousId(), events: events.map((e) => ({ id: `e-${random(20)}`, rec_id: this.recId, occurred_at: at, ...e })) }),
    }).catch(() => {});
  }

  private clicked(item: Item): void {
    this.send([{ type: 'click', product_id: item.id }]);
    // The product page's own form will carry the rec_id when the shopper adds it there.
    if (this.recId && this.tracked && consent()) {
      try {
        sessionStorage.setItem(REC_KEY + item.id, this.recId);
      } catch { /* no storage: only the block's own button attributes */ }
    }
  }

  /** On the product page of a product reached from a shelf: the theme's cart form carries `_shopml_rec`. */
  private attribute(ids: string[]): void {
    if (this.dataset.page !== 'product' || !ids[0] || !consent()) return;
    let rec: string | null = null;
    try {
      rec = sessionStorage.getItem(REC_KEY + ids[0]);
    } catch { /* none */ }
    if (!rec) return;
    document.querySelectorAll<HTMLFormElement>('form[action*="/cart/add"]').forEach((form) => {
      if (form.querySelector(`[name="properties[${PROPERTY}]"]`)) return;
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = `properties[${PROPERTY}]`;
      input.value = rec;
      form.append(input);
    });
  }

  private async add(item: Item, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    const properties = this.recId && this.tracked && consent() ? { [PROPERTY]: this.recId } : undefined;
    let ok = false;
    try {
      const res = await fetch(this.dataset.cartAddUrl!, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ items: [{ id: Number(item.variant), quantity: 1, properties }] }),
      });
      ok = res.ok;
    } catch { /* shown below */ }
    button.textContent = (ok ? this.dataset.tAdded : this.dataset.tFailed) ?? '';
    button.disabled = false;
    if (ok) this.dispatchEvent(new CustomEvent('shopml:cart-add', { bubbles: true, detail: { product_id: item.id, variant_id: item.variant } }));
  }
}

if (!customElements.get('shopml-recs')) customElements.define('shopml-recs', ShopmlRecs);
