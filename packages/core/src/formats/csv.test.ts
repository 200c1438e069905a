import { describe, expect, it } from 'vitest';
import { formatCsvRow, parseCsv } from './csv.js';

describe('parseCsv', () => {
  it('reads quoted fields with commas, quotes and newlines, CRLF and a BOM, keeping start lines', () => {
    const text = '\ufeffimage,label\r\n"a, b.jpg","say ""hi"""\r\n\r\n"multi\nline.jpg",x\nlast.jpg,y';
    expect(parseCsv(text, 'f.csv')).toEqual([
      { line: 1, fields: ['image', 'label'] },
      { line: 2, fields: ['a, b.jpg', 'say "hi"'] },
      { line: 4, fields: ['multi\nline.jpg', 'x'] },
      { line: 6, fields: ['last.jpg', 'y'] },
    ]);
  });

  it('names the line of an unclosed quote and of text after a closing quote', () => {
    expect(() => parseCsv('image,label\na.jpg,"cat\n', 'f.csv')).toThrow(
      /f\.csv: line 2: a quoted field is never closed/,
    );
    expect(() => parseCsv('image,label\n"a.jpg"x,cat\n', 'f.csv')).toThrow(/f\.csv: line 2: unexpected text/);
  });

  it('round-trips what formatCsvRow writes', () => {
    const values = ['a,b', 'q"q', ' lead', 'new\nline', 'plain'];
    expect(parseCsv(formatCsvRow(values), 'x')).toEqual([{ line: 1, fields: values }]);
    expect(formatCsvRow(['a', null, 3])).toBe('a,,3\n');
  });
});
