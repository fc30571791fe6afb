// Byte-level searches for the privacy test (privacy.test.ts): every file shopml wrote (the SQLite
// database, its -wal and -shm, artifacts — gunzipped too —, logs) searched for a canary string in
// the encodings a leak could plausibly take, and every row of every table searched for the ids of
// a customer who asked to be forgotten.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type Database from 'better-sqlite3';

export interface Needle {
  label: string;
  bytes: Buffer;
}

/** The base64 characters fully determined by `s` when it starts `offset` bytes into the encoded data. */
function base64Inner(s: Buffer, offset: number, url: boolean): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), s]).toString(url ? 'base64url' : 'base64');
  return encoded.slice(Math.ceil((4 * offset) / 3), Math.floor((4 * (offset + s.length)) / 3));
}

/**
 * A canary as it could appear: raw, upper case, base64 / base64url at each of the three byte
 * alignments, hex (both cases) and UTF-16LE. (Lower case, URL- and JSON-escaping leave a canary of
 * [a-z0-9] unchanged: the raw needle covers them.)
 */
export function canaryNeedles(canary: string): Needle[] {
  if (!/^[a-z0-9]+$/.test(canary)) throw new Error('use a canary of lowercase letters and digits (it goes into emails)');
  const raw = Buffer.from(canary, 'utf8');
  const needles: Needle[] = [
    { label: 'raw', bytes: raw },
    { label: 'upper', bytes: Buffer.from(canary.toUpperCase(), 'utf8') },
    { label: 'hex', bytes: Buffer.from(raw.toString('hex'), 'latin1') },
    { label: 'HEX', bytes: Buffer.from(raw.toString('hex').toUpperCase(), 'latin1') },
    { label: 'utf16le', bytes: Buffer.from(canary, 'utf16le') },
  ];
  for (const offset of [0, 1, 2]) {
    needles.push({ label: `base64@${offset}`, bytes: Buffer.from(base64Inner(raw, offset, false), 'latin1') });
    const url = base64Inner(raw, offset, true);
    if (url !== base64Inner(raw, offset, false)) needles.push({ label: `base64url@${offset}`, bytes: Buffer.from(url, 'latin1') });
  }
  return needles;
}

export interface Hit {
  file: string;
  needle: string;
  offset: number;
  context: string;
}

export function searchBuffer(file: string, buf: Buffer, needles: Needle[], hits: Hit[]): void {
  for (const n of needles) {
    for (let at = buf.indexOf(n.bytes); at !== -1; at = buf.indexOf(n.bytes, at + 1)) {
      const context = buf.subarray(Math.max(0, at - 60), Math.min(buf.length, at + n.bytes.length + 60)).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
      hits.push({ file, needle: n.label, offset: at, context });
      if (hits.length > 200) return; // enough to see what leaked
    }
  }
}

export interface ScanResult {
  files: number;
  bytes: number;
  /** Of those, bytes searched after gunzipping a .gz file (counted in `bytes` too). */
  gunzippedBytes: number;
  hits: Hit[];
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** Searches each file's bytes, and a gzip file's content as well. */
export function scanFiles(files: string[], needles: Needle[]): ScanResult {
  const r: ScanResult = { files: 0, bytes: 0, gunzippedBytes: 0, hits: [] };
  for (const file of files) {
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) continue;
    const buf = readFileSync(file);
    r.files++;
    r.bytes += buf.length;
    searchBuffer(file, buf, needles, r.hits);
    if (buf[0] === 0x1f && buf[1] === 0x8b) {
      const plain = gunzipSync(buf);
      r.bytes += plain.length;
      r.gunzippedBytes += plain.length;
      searchBuffer(`${file} (gunzipped)`, plain, needles, r.hits);
    }
  }
  return r;
}

/**
 * Unkeyed digests of each email (sha256, sha1, md5 in hex, base64 and base64url): a pseudonym
 * anyone can recompute from a list of emails. Only the per-shop HMAC may be stored.
 */
export function unkeyedEmailDigests(emails: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const email of emails) {
    for (const form of new Set([email, email.trim().toLowerCase()])) {
      for (const alg of ['sha256', 'sha1', 'md5']) {
        const d = createHash(alg).update(form).digest();
        out.add(d.toString('hex'));
        out.add(d.toString('base64'));
        out.add(d.toString('base64').replace(/=+$/, ''));
        out.add(d.toString('base64url'));
      }
    }
  }
  return out;
}

/** Tokens in `files` that look like a digest (hex 32/40/64, base64 of 16/20/32 bytes) and are in `digests`. */
export function findDigests(files: string[], digests: Set<string>): Hit[] {
  const hits: Hit[] = [];
  const token = /[A-Za-z0-9+/_-]{22,64}={0,2}/g;
  for (const file of files) {
    const bufs: [string, Buffer][] = [[file, readFileSync(file)]];
    if (bufs[0]![1][0] === 0x1f && bufs[0]![1][1] === 0x8b) bufs.push([`${file} (gunzipped)`, gunzipSync(bufs[0]![1])]);
    for (const [name, buf] of bufs) {
      const text = buf.toString('latin1');
      for (const m of text.matchAll(token)) {
        // A digest may sit inside a longer token run (base64 next to '+' or '/'): try the known lengths.
        const t = m[0];
        for (const len of [22, 24, 27, 28, 32, 40, 43, 44, 64]) {
          for (let i = 0; i + len <= t.length; i++) {
            if (digests.has(t.slice(i, i + len))) hits.push({ file: name, needle: 'unkeyed email digest', offset: (m.index ?? 0) + i, context: t });
          }
        }
      }
    }
  }
  return hits;
}

export interface RowHit {
  table: string;
  column: string;
  rowid: string;
  subject: string;
  value: string;
}

/** Matches `id` as a whole number (not inside a longer run of digits) or any other subject as a substring. */
function mentions(value: string, subject: string): boolean {
  if (!/^\d+$/.test(subject)) return value.includes(subject);
  for (let at = value.indexOf(subject); at !== -1; at = value.indexOf(subject, at + 1)) {
    const before = value.charCodeAt(at - 1);
    const after = value.charCodeAt(at + subject.length);
    const isDigit = (c: number) => c >= 48 && c <= 57;
    if (!isDigit(before) && !isDigit(after)) return true;
  }
  return false;
}

/**
 * Every row of every table, every column (TEXT, INTEGER, REAL, BLOB as text), searched for each
 * subject (customer id, email hash, order ids ...). Generic on purpose: a table added later is
 * searched without anyone listing it here.
 */
export function findSubjectInRows(db: Database.Database, subjects: string[]): { rows: number; cells: number; tables: number; hits: RowHit[] } {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];
  let rows = 0;
  let cells = 0;
  const hits: RowHit[] = [];
  for (const table of tables) {
    for (const row of db.prepare(`SELECT * FROM "${table}"`).iterate() as Iterable<Record<string, unknown>>) {
      rows++;
      for (const [column, v] of Object.entries(row)) {
        if (v === null || v === undefined) continue;
        cells++;
        const text = Buffer.isBuffer(v) ? v.toString('latin1') : String(v);
        for (const s of subjects) {
          if (mentions(text, s)) hits.push({ table, column, rowid: JSON.stringify(row).slice(0, 160), subject: s, value: text.slice(0, 200) });
        }
      }
    }
  }
  return { rows, cells, tables: tables.length, hits };
}

/** Whole-number occurrences of each subject in a file's bytes (and gunzipped content). */
export function countSubjectInFiles(files: string[], subjects: string[]): { file: string; subject: string; count: number }[] {
  const out: { file: string; subject: string; count: number }[] = [];
  for (const file of files) {
    const buf = readFileSync(file);
    const texts: [string, string][] = [[file, buf.toString('latin1')]];
    if (buf[0] === 0x1f && buf[1] === 0x8b) texts.push([`${file} (gunzipped)`, gunzipSync(buf).toString('latin1')]);
    for (const [name, text] of texts) {
      for (const s of subjects) {
        let count = 0;
        if (mentions(text, s)) {
          const re = /^\d+$/.test(s) ? new RegExp(`(?<!\\d)${s}(?!\\d)`, 'g') : new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g');
          count = text.match(re)?.length ?? 0;
        }
        if (count > 0) out.push({ file: name, subject: s, count });
      }
    }
  }
  return out;
}

/**
 * Personal data of a store generated WITHOUT a canary (the demo's own store), recognised by shape
 * from the simulator's name, street and phone lists (simulator/people.ts): an email on the
 * reserved example domains, a "First Last" name, a street address, a 555-01xx phone number.
 */
export function personalPatterns(first: readonly string[], last: readonly string[], streets: readonly string[]): { label: string; re: RegExp }[] {
  const alt = (xs: readonly string[]) => xs.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return [
    { label: 'email', re: /[a-z0-9._%+-]+@example\.(com|net|org)/g },
    { label: 'full name', re: new RegExp(`\\b(${alt(first)}) (${alt(last)})\\b`, 'g') },
    { label: 'street address', re: new RegExp(`\\b\\d{1,4} (${alt(streets)})\\b`, 'g') },
    { label: 'phone', re: /\+\d{1,2}\d{3}55501\d{2}\b/g },
  ];
}

/** Matches of `patterns` in each file's bytes (as latin1 text) and gunzipped content. */
export function scanPatterns(files: string[], patterns: { label: string; re: RegExp }[]): { bytes: number; hits: Hit[] } {
  let bytes = 0;
  const hits: Hit[] = [];
  for (const file of files) {
    const buf = readFileSync(file);
    const texts: [string, string][] = [[file, buf.toString('latin1')]];
    if (buf[0] === 0x1f && buf[1] === 0x8b) texts.push([`${file} (gunzipped)`, gunzipSync(buf).toString('latin1')]);
    for (const [name, text] of texts) {
      bytes += text.length;
      for (const p of patterns) {
        let n = 0;
        for (const m of text.matchAll(p.re)) {
          hits.push({ file: name, needle: p.label, offset: m.index ?? 0, context: text.slice(Math.max(0, (m.index ?? 0) - 40), (m.index ?? 0) + m[0].length + 40).replace(/[^\x20-\x7e]/g, '.') });
          if (++n >= 50) break; // enough to see what leaked
        }
      }
    }
  }
  return { bytes, hits };
}
