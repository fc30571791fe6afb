// admin.customer-details.block.render: what shopml's champion models say about this customer —
// segment, churn risk, expected next order, predicted value — and the tags shopml applied.
import { render } from 'preact';
import type { ChurnRisk, CustomerInsights } from '../../../backend/src/insights/types.ts';
import { numericId, useInsights } from './api.ts';
import { Block, Empty, Fact, LoadError, Loading, ModelNote } from './common.tsx';
import { day, money, percent, t } from './format.ts';

export default async () => {
  render(<CustomerBlock />, document.body);
};

const RISK_TONE: Record<ChurnRisk, 'success' | 'warning' | 'critical'> = { low: 'success', medium: 'warning', high: 'critical' };

function CustomerBlock() {
  const id = numericId(shopify.data.selected[0]?.id, 'Customer');
  const r = useInsights<CustomerInsights>(id === null ? null : `/api/v1/customers/${id}/insights`);
  if (r.state === 'loading') return <Block><Loading /></Block>;
  if (r.state === 'error') return <Block><LoadError status={r.status} /></Block>;
  const c = r.data;
  if (c.status === 'no_model') return <Block><Empty text={t('noModel')} /></Block>;
  if (c.status === 'not_enough_history') {
    return <Block><Empty text={t(c.reason === 'not_scored_yet' ? 'customer.notScoredYet' : 'customer.notEnoughHistory')} /></Block>;
  }
  const risk = c.churn ? t(`customer.risk.${c.churn.risk}`) : null;
  const summary = c.segment && risk ? t('customer.summary', { segment: c.segment.name, risk }) : c.segment?.name ?? risk ?? undefined;
  return (
    <Block summary={summary}>
      <s-stack gap="base">
        <s-grid gridTemplateColumns="1fr 1fr" gap="base">
          {c.segment && (
            <Fact label={t('customer.segment')}>
              <s-stack direction="inline" gap="small-200" alignItems="center">
                <s-badge tone="info">{c.segment.name}</s-badge>
                <s-text color="subdued">{c.segment.tag}</s-text>
              </s-stack>
            </Fact>
          )}
          {c.churn && (
            <Fact label={t('customer.churnRisk')}>
              <s-badge tone={RISK_TONE[c.churn.risk]}>{risk}</s-badge>
            </Fact>
          )}
          {c.expected_next_order && (
            <Fact label={t('customer.nextOrder')}>
              <s-text>
                {c.expected_next_order.beyond_a_year ? t('customer.nextOrderUnlikely')
                  : c.expected_next_order.overdue ? t('customer.nextOrderOverdue', { date: day(c.expected_next_order.date) })
                  : day(c.expected_next_order.date)}
              </s-text>
            </Fact>
          )}
          {c.predicted_value && (
            <Fact label={t('customer.predictedValue')}>
              <s-text>{t('customer.predictedValueDetail', { amount: money(c.predicted_value.amount, c.currency), days: c.predicted_value.horizon_days })}</s-text>
            </Fact>
          )}
        </s-grid>
        {c.churn && (
          <s-text color="subdued">
            {t('customer.churnDetail', { probability: percent(c.churn.churn_probability), days: c.churn.horizon_days, percentile: percent(c.churn.percentile) })}
          </s-text>
        )}
        <Fact label={t('customer.tags')}>
          {c.tags.length > 0 ? (
            <s-stack direction="inline" gap="small-300">
              {c.tags.map((tag) => <s-badge key={tag.prefix}>{tag.tag}</s-badge>)}
            </s-stack>
          ) : (
            <s-text color="subdued">{t('customer.tagsNone')}</s-text>
          )}
        </Fact>
        {c.history.last_order_at && (
          <s-text color="subdued">{t('customer.history', { orders: c.history.orders, spent: money(c.history.total_spent, c.currency), last: day(c.history.last_order_at) })}</s-text>
        )}
        {(c.churn ?? c.segment) && <ModelNote model={(c.churn ?? c.segment)!.model} />}
      </s-stack>
    </Block>
  );
}
