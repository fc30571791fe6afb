// admin.product-details.block.render: shopml's demand forecast for this product (weekly, with its
// prediction interval), the predicted stock-out date and reorder suggestion as of now, and the
// products most often bought with it.
import { render } from 'preact';
import type { ProductInsights } from '../../../backend/src/insights/types.ts';
import { numericId, useInsights } from './api.ts';
import { Block, Empty, Fact, LoadError, Loading, ModelNote } from './common.tsx';
import { day, percent, t, units } from './format.ts';

export default async () => {
  render(<ProductBlock />, document.body);
};

/** Forecast weeks shown in the table. */
const WEEKS = 4;

function ProductBlock() {
  const id = numericId(shopify.data.selected[0]?.id, 'Product');
  const r = useInsights<ProductInsights>(id === null ? null : `/api/v1/products/${id}/insights`);
  if (r.state === 'loading') return <Block><Loading /></Block>;
  if (r.state === 'error') return <Block><LoadError status={r.status} /></Block>;
  const p = r.data;
  if (p.status === 'no_model') return <Block><Empty text={t('noModel')} /></Block>;
  if (p.status === 'not_enough_history' || !p.forecast) {
    return <Block><s-stack gap="base"><Empty text={t('product.notEnoughHistory')} /><Related related={p.related} /></s-stack></Block>;
  }
  const f = p.forecast;
  const inv = p.inventory;
  const stockout = inv === null || inv.stock === null ? t('product.stockoutUnknown') : inv.stockout_date ? day(inv.stockout_date) : t('product.stockoutNone');
  const summary = inv?.stockout_date ? t('product.summaryStockout', { date: day(inv.stockout_date) }) : t('product.summaryUnits', { units: units(f.next_28_days) });
  // The admin shows a block's first 300 px before "Show more": what to do about stock comes first.
  return (
    <Block summary={summary}>
      <s-stack gap="base">
        {inv && (
          <s-grid gridTemplateColumns="1fr 1fr 1fr" gap="base">
            <Fact label={t('product.stock')}>
              <s-text>{inv.stock === null ? t('product.stockUnknown') : t('product.stockUnits', { units: units(inv.stock) })}</s-text>
            </Fact>
            <Fact label={t('product.stockout')}>
              <s-text tone={inv.stockout_date ? 'critical' : 'auto'}>{stockout}</s-text>
            </Fact>
            <Fact label={t('product.reorder')}>
              {inv.suggested_order_qty === null ? <s-text>{t('product.reorderUnknown')}</s-text>
                : inv.suggested_order_qty > 0 ? <s-badge tone="warning">{t('product.reorderNow', { units: inv.suggested_order_qty })}</s-badge>
                : <s-text>{t('product.reorderNotYet', { point: units(inv.reorder_point) })}</s-text>}
            </Fact>
          </s-grid>
        )}
        {inv && (
          <s-text color="subdued">
            {t('product.leadTime', { days: inv.lead_time_days, source: t(`product.leadTimeSource.${inv.lead_time_source}`), safety: units(inv.safety_stock) })}
          </s-text>
        )}
        <Fact label={t('product.forecast')}>
          {f.expired ? <s-text tone="warning">{t('product.expired')}</s-text> : (
            <s-stack gap="small-200">
              <s-text>{t('product.next28', { units: units(f.next_28_days), velocity: units(f.velocity_per_day) })}</s-text>
              <s-table>
                <s-table-header-row>
                  <s-table-header>{t('product.week')}</s-table-header>
                  <s-table-header format="numeric">{t('product.units')}</s-table-header>
                  <s-table-header format="numeric">{t('product.interval', { level: percent(f.interval_level) })}</s-table-header>
                </s-table-header-row>
                <s-table-body>
                  {f.weeks.slice(0, WEEKS).map((w) => (
                    <s-table-row key={w.week_start}>
                      <s-table-cell>{w.current ? t('product.thisWeek', { date: day(w.week_start) }) : day(w.week_start)}</s-table-cell>
                      <s-table-cell>{units(w.mean)}</s-table-cell>
                      <s-table-cell>{`${units(w.lo)} – ${units(w.hi)}`}</s-table-cell>
                    </s-table-row>
                  ))}
                </s-table-body>
              </s-table>
            </s-stack>
          )}
        </Fact>
        <Related related={p.related} />
        <ModelNote model={f.model} />
      </s-stack>
    </Block>
  );
}

function Related(props: { related: ProductInsights['related'] }) {
  const list = props.related.products;
  return (
    <Fact label={t('product.related')}>
      {list.length === 0 ? <s-text color="subdued">{t('product.relatedNone')}</s-text> : (
        <s-unordered-list>
          {list.map((x) => (
            <s-list-item key={x.id}>
              {x.title ?? x.id}
              {!x.servable && <s-text color="subdued">{` (${t('product.notOnStorefront')})`}</s-text>}
            </s-list-item>
          ))}
        </s-unordered-list>
      )}
    </Fact>
  );
}
