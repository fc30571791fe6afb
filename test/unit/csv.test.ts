import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvParser, CsvStructureError, csvBatches, isGzip, openCsvFile, parseCsv, parseCsvString, type CsvRecord } from '../../backend/src/ingest/csv.ts';
import { classifyLine, isNonProductCode, orderKindOf } from '../../backend/src/ingest/line-kind.ts';
import { parseTimestamp, zonedToEpoch } from '../../backend/src/ingest/local-time.ts';
import { createProgress, formatDuration, renderProgress } from '../../backend/src/cli/progress.ts';

const FIXTURE = new URL('../fixtures/online-retail-quirks.csv', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'shopml-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = (text: string) => parseCsvString(text).map((r) => r.fields);
const lines = (text: string) => parseCsvString(text).map((r) => r.line);

function structureError(fn: () => unknown): CsvStructureError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CsvStructureError);
    return err as CsvStructureError;
  }
  throw new Error('expected a CsvStructureError');
}

async function collect(source: AsyncIterable<Uint8Array | string>): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of parseCsv(source)) out.push(r);
  return out;
}

async function* chunks(parts: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
  for (const p of parts) yield p;
}

describe('CSV parser', () => {
  it('parses plain, quoted, empty and doubled-quote fields', () => {
    expect(rows('a,b,c\n1,"x,y",""\n"say ""hi""",,3\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x,y', ''],
      ['say "hi"', '', '3'],
    ]);
  });

  it('accepts CRLF, LF, a missing final line break and a BOM; skips blank lines', () => {
    expect(rows('\uFEFFa,b\r\n1,2\r\n\r\n3,4')).toEqual([['a', 'b'], ['1', '2'], ['3', '4']]);
    expect(rows('a,b\n1,\n')).toEqual([['a', 'b'], ['1', '']]);
    expect(lines('a,b\n\n1,2\n3,4\n')).toEqual([1, 3, 4]);
  });

  it('keeps line breaks inside quotes and reports the physical line each record starts on', () => {
    const text = 'id,note\n1,"two\nlines"\n2,"three\r\nlines\nhere"\n3,x\n';
    const recs = parseCsvString(text);
    expect(recs.map((r) => r.fields)).toEqual([['id', 'note'], ['1', 'two\nlines'], ['2', 'three\r\nlines\nhere'], ['3', 'x']]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 4, 7]);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = readFileSync(FIXTURE, 'utf8') + '1,"a ""b""\nc",,,,,,\r\n2,x,y,z,w,v,u,t\r\n';
    const whole = parseCsvString(text);
    for (const size of [1, 2, 3, 7, 64]) {
      const p = new CsvParser();
      const out: CsvRecord[] = [];
      for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size), out);
      p.end(out);
      expect(out).toEqual(whole);
    }
  });

  it('decodes UTF-8 split across byte chunks', async () => {
    const bytes = Buffer.from('a,b\n£20,é\n', 'utf8');
    const parts = [...bytes].map((b) => Uint8Array.of(b));
    expect((await collect(chunks(parts))).map((r) => r.fields)).toEqual([['a', 'b'], ['£20', 'é']]);
  });

  describe('structural errors carry the line number', () => {
    it('an unterminated quote at the end of the input: the line the quote opened on', () => {
      const e = structureError(() => parseCsvString('a,b\n1,2\n3,"open\n4,5\n6,7\n'));
      expect(e.line).toBe(3);
      expect(e.message).toMatch(/unterminated/);
    });
    it('a stray quote inside an unquoted field', () => {
      const e = structureError(() => parseCsvString('a,b\n1,2\n3,RECORD 7" SIZE\n'));
      expect(e.line).toBe(3);
      expect(e.message).toMatch(/stray quote/);
    });
    it('a character after a closing quote', () => {
      const e = structureError(() => parseCsvString('a,b\n"x"y,2\n'));
      expect(e.line).toBe(2);
      expect(e.message).toMatch(/after a closing quote/);
    });
    it('a record with another number of fields than the header (line of the record start)', () => {
      const e = structureError(() => parseCsvString('a,b,c\n1,2,3\n4,"multi\nline",6,7\n'));
      expect(e.line).toBe(3);
      expect(e.message).toMatch(/expected 3 fields.*found 4/);
    });
    it('bytes that are not UTF-8', async () => {
      const err = await collect(chunks([Buffer.from('a,b\n1,2\n'), Uint8Array.of(0x33, 0x2c, 0xff, 0x0a)])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CsvStructureError);
      expect((err as CsvStructureError).line).toBe(3);
    });
  });

  describe('gzip', () => {
    const text = readFileSync(FIXTURE, 'utf8');

    it('is detected by its magic bytes, not the file name', async () => {
      const gzAsCsv = join(dir, 'really-gzip.csv');
      const csvAsGz = join(dir, 'really-text.csv.gz');
      writeFileSync(gzAsCsv, gzipSync(text));
      writeFileSync(csvAsGz, text);
      expect(isGzip(readFileSync(gzAsCsv))).toBe(true);
      const expected = parseCsvString(text);
      expect(await collect(openCsvFile(gzAsCsv))).toEqual(expected);
      expect(await collect(openCsvFile(csvAsGz))).toEqual(expected);
    });

    it('a truncated gzip is a structural error at the line reached', async () => {
      // Big enough that the decompressor hands out data before the cut.
      const big = ['InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country'];
      for (let i = 0; i < 20_000; i++) big.push(`${600000 + i},${10000 + (i % 997)},ITEM ${i * 7919},${(i % 12) + 1},2011-05-0${(i % 9) + 1} 10:00:00,1.${i % 100},${12000 + (i % 300)}.0,United Kingdom`);
      const gz = gzipSync(`${big.join('\n')}\n`);
      const file = join(dir, 'truncated.csv.gz');
      writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.6)));
      let n = 0;
      const err = await (async () => {
        for await (const batch of csvBatches(openCsvFile(file))) n += batch.length;
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CsvStructureError);
      expect((err as CsvStructureError).message).toMatch(/truncated or corrupt gzip/);
      expect((err as CsvStructureError).line).toBeGreaterThan(1);
      expect((err as CsvStructureError).line).toBeLessThan(big.length);
      expect(n).toBeLessThan(big.length);
    });

    it('a corrupt gzip body is a structural error too', async () => {
      const gz = Buffer.from(gzipSync(text));
      for (let i = 20; i < 60; i++) gz[i] = gz[i]! ^ 0x5a;
      const file = join(dir, 'corrupt.csv.gz');
      writeFileSync(file, gz);
      const err = await collect(openCsvFile(file)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CsvStructureError);
    });
  });
});

describe('line kinds', () => {
  it('knows every non-product code family of the data set', () => {
    for (const code of ['POST', 'DOT', 'M', 'm', 'C2', 'D', 'S', 'BANK CHARGES', 'AMAZONFEE', 'CRUK', 'PADS', 'B', 'DCGS0003', 'DCGSSBOY', 'DCGS0066P', 'gift_0001_10', 'gift_0001_50']) {
      expect(isNonProductCode(code), code).toBe(true);
    }
    for (const code of ['85123A', '22423', '84406B', '79323LP', 'DOTS', 'POSTER', 'MUG']) expect(isNonProductCode(code), code).toBe(false);
  });

  it('orderKindOf: C = cancellation, A = adjustment', () => {
    expect(orderKindOf('536365')).toBe('order');
    expect(orderKindOf('C536379')).toBe('cancellation');
    expect(orderKindOf('A563185')).toBe('adjustment');
  });

  it('classifyLine: write-offs, non-products, products', () => {
    // negative quantity, no customer, price 0, not a C invoice → write-off
    expect(classifyLine({ stockCode: '21777', quantity: -10, price: 0, customerId: null, invoice: '536589' })).toBe('writeoff');
    // the same on a cancellation is a return, not a write-off
    expect(classifyLine({ stockCode: '21777', quantity: -10, price: 0, customerId: null, invoice: 'C536589' })).toBe('product');
    // with a customer, or a price, it is not a write-off
    expect(classifyLine({ stockCode: '21777', quantity: -10, price: 0, customerId: '17850', invoice: '536589' })).toBe('product');
    expect(classifyLine({ stockCode: '21777', quantity: -10, price: 1.5, customerId: null, invoice: '536589' })).toBe('product');
    // a non-product code wins over the write-off rule
    expect(classifyLine({ stockCode: 'DCGS0055', quantity: -1, price: 0, customerId: null, invoice: '542529' })).toBe('non_product');
    expect(classifyLine({ sku: 'POST', quantity: 1, price: 18, customerId: '1', invoice: '1' })).toBe('non_product');
    // order-level data (no product code) is revenue, not a product
    expect(classifyLine({ stockCode: null, quantity: 1, price: 20, customerId: 'c1' })).toBe('non_product');
    expect(classifyLine({ stockCode: '85123A', quantity: 6, price: 2.55, customerId: '17850', invoice: '536365' })).toBe('product');
  });
});

describe('timestamps', () => {
  it('UK local time to UTC across GMT and BST', () => {
    expect(parseTimestamp('2010-12-01 08:26:00', 'Europe/London')).toBe('2010-12-01T08:26:00.000Z');
    expect(parseTimestamp('2011-06-01 12:00:00', 'Europe/London')).toBe('2011-06-01T11:00:00.000Z');
    expect(parseTimestamp('2011-03-26 12:00:00', 'Europe/London')).toBe('2011-03-26T12:00:00.000Z'); // last GMT day
    expect(parseTimestamp('2011-03-28 07:53:00', 'Europe/London')).toBe('2011-03-28T06:53:00.000Z'); // first BST weekday
    expect(parseTimestamp('2011-10-31 09:00:00', 'Europe/London')).toBe('2011-10-31T09:00:00.000Z'); // back to GMT
  });

  it('times in the spring gap move forward; times in the autumn overlap take the earlier instant', () => {
    expect(parseTimestamp('2011-03-27 01:30:00', 'Europe/London')).toBe('2011-03-27T01:30:00.000Z');
    expect(parseTimestamp('2011-10-30 01:30:00', 'Europe/London')).toBe('2011-10-30T00:30:00.000Z');
    expect(new Date(zonedToEpoch(2011, 10, 30, 2, 0, 0, 0, 'Europe/London')).toISOString()).toBe('2011-10-30T02:00:00.000Z');
  });

  it('ISO 8601 with offsets, bare dates, and rejects', () => {
    expect(parseTimestamp('2024-03-01T10:00:00Z', 'Europe/London')).toBe('2024-03-01T10:00:00.000Z');
    expect(parseTimestamp('2024-03-01 10:00:00 +0100', 'UTC')).toBe('2024-03-01T09:00:00.000Z');
    expect(parseTimestamp('2024-03-01T10:00:00.250-05:00', 'UTC')).toBe('2024-03-01T15:00:00.250Z');
    expect(parseTimestamp('2024-03-01', 'UTC')).toBe('2024-03-01T00:00:00.000Z');
    expect(parseTimestamp('2024-03-01 10:00', 'America/New_York')).toBe('2024-03-01T15:00:00.000Z');
    for (const bad of ['', 'yesterday', '2011-02-30 12:00:00', '2011-13-01 00:00:00', '2011-01-01 24:00:00', '01/12/2010 08:26']) {
      expect(parseTimestamp(bad, 'UTC'), bad).toBeNull();
    }
  });
});

describe('progress bar', () => {
  function fakeStream(isTTY: boolean) {
    const writes: string[] = [];
    return { writes, stream: { isTTY, columns: 80, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WritableStream & { isTTY: boolean } };
  }

  it('renders label, bar, percent, rate and ETA', () => {
    const line = renderProgress({ label: 'importing', done: 250, total: 1000, elapsedMs: 1000, unit: 'items', width: 80 });
    expect(line).toMatch(/^importing \[#+\.+\]  25% 250\/s ETA 0:03$/);
    expect(formatDuration(3725)).toBe('1:02:05');
  });

  it('draws throttled on a terminal and clears its line when done', () => {
    let t = 0;
    const { writes, stream } = fakeStream(true);
    const p = createProgress({ label: 'x', total: 100, stream, now: () => t, intervalMs: 100 });
    p.tick(10);
    t = 50;
    p.tick(10); // throttled
    t = 200;
    p.update(60);
    p.done();
    p.done();
    expect(writes.filter((w) => w.includes('%'))).toHaveLength(3); // first, after 100 ms, final
    expect(writes.at(-1)).toBe('\r\u001b[K');
  });

  it('writes nothing when the stream is not a terminal', () => {
    const { writes, stream } = fakeStream(false);
    const p = createProgress({ label: 'x', total: 10, stream });
    p.tick(5);
    p.done();
    expect(p.enabled).toBe(false);
    expect(writes).toEqual([]);
  });
});
