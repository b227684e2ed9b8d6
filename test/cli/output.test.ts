import { describe, expect, it } from 'vitest';
import { colorEnabled, createStyle, relativeTime, renderTable, visibleWidth, wrap } from '../../cli/output.js';

const plain = createStyle(false);

describe('Function: renderTable()', () => {
  it('pads every column to its widest line, headings included, and leaves no trailing spaces', () => {
    const table = renderTable(['TARGET', 'N', 'ORIGINS'], [['demo/a', '10', 'https://a.example.com'], ['demo/longer', '2', '-']], plain);
    expect(table).toBe(['TARGET       N   ORIGINS', 'demo/a       10  https://a.example.com', 'demo/longer  2   -', ''].join('\n'));
  });

  it('gives a cell of several lines its own rows, and measures colour codes as nothing', () => {
    const style = createStyle(true);
    const table = renderTable(['A', 'B'], [[[style.green('+ x'), style.red('- yy')], 'z']], style);
    const lines = table.split('\n').map((line) => line.replace(/\u001b\[[0-9;]*m/g, ''));
    expect(lines).toEqual(['A     B', '+ x   z', '- yy', '']);
    expect(visibleWidth(style.bold('abc'))).toBe(3);
  });
});

describe('Function: colorEnabled()', () => {
  const tty = { isTTY: true } as never;
  const pipe = { isTTY: false } as never;

  it('colours a terminal unless NO_COLOR, TERM=dumb or --no-color say otherwise', () => {
    expect(colorEnabled(tty, {}, true)).toBe(true);
    expect(colorEnabled(pipe, {}, true)).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '1' }, true)).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '' }, true)).toBe(true);
    expect(colorEnabled(tty, { TERM: 'dumb' }, true)).toBe(false);
    expect(colorEnabled(tty, {}, false)).toBe(false);
  });

  it('FORCE_COLOR colours a pipe, but never over NO_COLOR or --no-color', () => {
    expect(colorEnabled(pipe, { FORCE_COLOR: '1' }, true)).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '0' }, true)).toBe(false);
    expect(colorEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' }, true)).toBe(false);
    expect(colorEnabled(pipe, { FORCE_COLOR: '1' }, false)).toBe(false);
  });
});

describe('Function: relativeTime()', () => {
  const now = new Date('2026-05-01T12:00:00Z');
  it('says how long ago or how soon, in the largest whole unit', () => {
    expect(relativeTime('2026-05-01T11:59:48Z', now)).toBe('12s ago');
    expect(relativeTime('2026-05-01T11:55:00Z', now)).toBe('5m ago');
    expect(relativeTime('2026-04-29T12:00:00Z', now)).toBe('2d ago');
    expect(relativeTime('2026-05-01T12:04:00Z', now)).toBe('in 4m');
    expect(relativeTime(undefined, now)).toBe('-');
  });
});

describe('Function: wrap()', () => {
  it('breaks at spaces within the width; a longer word keeps a line of its own', () => {
    expect(wrap('origin "https://evil.example.org" is outside the allowed origins', 20)).toEqual(['origin', '"https://evil.example.org"', 'is outside the', 'allowed origins']);
    expect(wrap('', 10)).toEqual([]);
  });
});
