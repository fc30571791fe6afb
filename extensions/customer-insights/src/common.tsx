// What both blocks share: the loading, error and "nothing yet" states, and the model footnote.
import type { ComponentChildren } from 'preact';
import type { ModelRef } from '../../../backend/src/insights/types.ts';
import { day, t } from './format.ts';

export function Block(props: { summary?: string; children: ComponentChildren }) {
  return <s-admin-block heading={t('heading')} collapsedSummary={props.summary}>{props.children}</s-admin-block>;
}

export function Loading() {
  return (
    <s-stack direction="inline" gap="small-200" alignItems="center">
      <s-spinner accessibilityLabel={t('loading')} />
      <s-text color="subdued">{t('loading')}</s-text>
    </s-stack>
  );
}

export function LoadError(props: { status: number | null }) {
  return (
    <s-banner tone="critical" heading={t('error.heading')}>
      {props.status === null ? t('error.network') : t('error.status', { status: props.status })}
    </s-banner>
  );
}

export function Empty(props: { text: string }) {
  return <s-paragraph color="subdued">{props.text}</s-paragraph>;
}

export function ModelNote(props: { model: ModelRef }) {
  const { trained_at, as_of } = props.model;
  if (!trained_at || !as_of) return null;
  return <s-text color="subdued">{t('model', { trained: day(trained_at), asOf: day(as_of) })}</s-text>;
}

/** A label over its value. */
export function Fact(props: { label: string; children: ComponentChildren }) {
  return (
    <s-stack gap="small-400">
      <s-text type="strong">{props.label}</s-text>
      {props.children}
    </s-stack>
  );
}
