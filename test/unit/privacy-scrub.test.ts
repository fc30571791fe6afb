import { describe, expect, it } from 'vitest';
import { jsonErrorSummary, scrubText } from '../../backend/src/ingest/scrub.ts';
import { mentionsId } from '../../backend/src/ingest/compliance.ts';

const parseError = (s: string): unknown => {
  try {
    JSON.parse(s);
  } catch (err) {
    return err;
  }
  throw new Error('parsed');
};

describe('scrubText (bodies that are not JSON)', () => {
  it('keeps keys, punctuation and literals; masks every string value and bare word', () => {
    const body = '{"id":123,"test":true,"n":null,"x":-1.5e3,"email":"ann@example.com","a":{"first_name":Ann Smith,"note":"say \\"hi\\""},"cut":"Ann Sm';
    expect(scrubText(body)).toBe('{"id":123,"test":true,"n":null,"x":-1.5e3,"email":"…","a":{"first_name":… …,"note":"…"},"cut":"…');
  });

  it('masks a form post or plain text entirely, and keys that are not identifiers', () => {
    expect(scrubText('email=ann%40example.com&first_name=Ann')).toBe('…');
    expect(scrubText('{"ann@example.com":1}')).toBe('{"…":1}');
  });

  it('bounds the kept text', () => {
    expect(scrubText(`{"k":${'1,'.repeat(5000)}`, 100).length).toBeLessThanOrEqual(100);
  });
});

describe('jsonErrorSummary', () => {
  it('drops the input V8 quotes in its messages, keeps the kind and position', () => {
    const e = parseError('{"first_name":Kira-Secret,"x":1}');
    expect(String((e as Error).message)).toContain('Kira'); // what V8 would have stored
    expect(jsonErrorSummary(e)).toBe('Unexpected token');
    expect(jsonErrorSummary(parseError('{"a":1 "b":2}'))).toMatch(/^Expected ',' or '}' after property value at byte \d+$/);
    expect(jsonErrorSummary(parseError('{"a":'))).toBe('Unexpected end of JSON input');
    expect(jsonErrorSummary(parseError('"Kira-Secret" x'))).not.toContain('Kira');
  });
});

describe('mentionsId', () => {
  it('matches whole numbers only', () => {
    expect(mentionsId('{"id":123456}', '123456')).toBe(true);
    expect(mentionsId('{"id":1234567}', '123456')).toBe(false);
    expect(mentionsId('gid://shopify/Customer/123456', '123456')).toBe(true);
  });
});
