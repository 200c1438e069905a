import { describe, expect, it } from 'vitest';
import { csvRecordsOf, formatCsvRow, parseCsv, sniffDelimiter, unescapeFormula } from './csv-syntax.js';

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

describe('delimiters', () => {
  it('are sniffed from the header, outside quotes, a comma when in doubt', () => {
    expect(sniffDelimiter('image;label\r\na;b')).toBe(';');
    expect(sniffDelimiter('\ufeffimage\tlabel\n')).toBe('\t');
    expect(sniffDelimiter('"a;b;c",label\n')).toBe(',');
    expect(sniffDelimiter('image\n')).toBe(',');
  });

  it('split fields, and quotes protect them', () => {
    expect(parseCsv('image;label\n"a;b.jpg";"x,y"\n', 'f.csv', ';')).toEqual([
      { line: 1, fields: ['image', 'label'] },
      { line: 2, fields: ['a;b.jpg', 'x,y'] },
    ]);
    expect(parseCsv('a\tb\n', 'f.csv', '\t')).toEqual([{ line: 1, fields: ['a', 'b'] }]);
  });
});

describe('formula escaping', () => {
  it('writes cells a spreadsheet would run with an apostrophe, and reads them back', () => {
    const row = formatCsvRow(['=1+1.jpg', '+plus', '-dash', '@at', 'plain', "'=kept"]);
    expect(row).toBe("'=1+1.jpg,'+plus,'-dash,'@at,plain,'=kept\n");
    expect(parseCsv(row, 'x')[0]!.fields.map(unescapeFormula)).toEqual([
      '=1+1.jpg',
      '+plus',
      '-dash',
      '@at',
      'plain',
      '=kept',
    ]);
  });

  it('reads a stream of chunks cut anywhere (in quotes, between "" and CR LF) as it reads the whole text', async () => {
    const text = '\ufeffimage,label\r\n"a ""b"",\r\nc.jpg",cat\r\n\r\nplain.jpg,"dog"\nlast.jpg,x';
    const whole = parseCsv(text, 'f.csv');
    expect(whole).toHaveLength(4);
    for (let cut = 0; cut <= text.length; cut++) {
      for (const size of [1, 2, 3]) {
        const chunks = async function* (): AsyncGenerator<string> {
          yield text.slice(0, cut);
          for (let i = cut; i < text.length; i += size) yield text.slice(i, i + size);
        };
        const records = [];
        for await (const record of csvRecordsOf(chunks(), 'f.csv')) records.push(record);
        expect(records).toEqual(whole);
      }
    }
    const unclosed = async function* (): AsyncGenerator<string> {
      yield 'image,label\na.jpg,"c';
      yield 'at\n';
    };
    await expect(async () => {
      for await (const record of csvRecordsOf(unclosed(), 'f.csv')) void record;
    }).rejects.toThrow(/f\.csv: line 2: a quoted field is never closed/);
  });
});
