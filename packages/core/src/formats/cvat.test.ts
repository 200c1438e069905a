import { describe, expect, it } from 'vitest';
import { type ReadResult, readSource, scratchFolder } from '../testing/formats.js';
import { cvat, parseXml } from './cvat.js';
import { sniffFormat } from './registry.js';

const scratch = scratchFolder('autolabel-cvat-');
const write = (text: string): string => scratch.file('annotations.xml', text);

const read = (source: string): Promise<ReadResult> => readSource(cvat, source);

const label = (name: string) => `<label>
          <name>${name}</name>
          <color>#fa3253</color>
          <type>any</type>
          <attributes>
            <attribute><name>quality</name><mutable>False</mutable><input_type>select</input_type><default_value>good</default_value><values>good
bad</values></attribute>
          </attributes>
        </label>`;

// As CVAT documents "CVAT for images 1.1": a project export, two tasks, image ids per task.
const PROJECT = `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <project>
      <id>2</id>
      <name>pets</name>
      <created>2024-01-01 00:00:00.000000+00:00</created>
      <labels>
        ${label('cat')}
        ${label('dog &amp; puppy')}
        ${label('bird')}
      </labels>
      <owner><username>ann</username><email>ann@example.com</email></owner>
      <tasks>
        <task><id>7</id><name>first</name><size>2</size><mode>annotation</mode><segments><segment><id>1</id><start>0</start><stop>1</stop></segment></segments></task>
        <task><id>8</id><name>second</name><size>2</size></task>
      </tasks>
      <dumped>2024-01-02 00:00:00.000000+00:00</dumped>
    </project>
  </meta>
  <!-- a comment -->
  <image id="0" name="task1/a.jpg" subset="default" task_id="7" width="640" height="480">
    <tag label="cat" source="manual">
      <attribute name="quality">good</attribute>
    </tag>
  </image>
  <image id="1" name="task1/sub dir/b.jpg" subset="default" task_id="7" width="640" height="480">
    <box label="cat" source="manual" occluded="0" xtl="1" ytl="2" xbr="3" ybr="4" z_order="0"></box>
    <mask label="cat" source="semi-auto" occluded="0" rle="1, 2, 3" left="0" top="0" width="3" height="1" z_order="0"></mask>
  </image>
  <image id="0" name="task2/a.jpg" subset="Train" task_id="8" width="10" height="10">
    <tag label="dog &amp; puppy" source="manual"></tag>
    <tag label="bird" source="manual"/>
    <polygon label="bird" source="manual" occluded="0" points="0,0;1,1;1,0" z_order="0"/>
  </image>
  <image id="1" name="task2/ünï 名.jpg" subset="Train" task_id="8" width="10" height="10"/>
</annotations>
`;

describe('cvat', () => {
  it('reads a project export: ids repeating per task, names in subfolders, tags as labels, shapes counted', async () => {
    const file = write(PROJECT);
    expect((await sniffFormat(file)).name).toBe('cvat');
    const result = await read(file);
    expect(result.classes).toEqual(['cat', 'dog & puppy', 'bird']);
    expect(result.entries).toEqual([
      { image: { path: 'task1/a.jpg' }, labels: ['cat'], provenance: null },
      { image: { path: 'task1/sub dir/b.jpg' }, labels: [] },
      // Two tags: the import's --multi rule decides.
      { image: { path: 'task2/a.jpg' }, labels: ['dog & puppy', 'bird'], provenance: null },
      { image: { path: 'task2/ünï 名.jpg' }, labels: [] },
    ]);
    const line = PROJECT.split('\n').findIndex((l) => l.includes('name="task2/a.jpg"')) + 1;
    expect(result.wheres[2]).toBe(`${file}: line ${line}: image "task2/a.jpg"`);
    expect(result.notes).toEqual([
      `${file}: 3 shapes (boxes, polygons, masks, ...) not read: only image tags are labels`,
    ]);
  });

  it('reads a task export and its own autolabel attributes', async () => {
    const file = write(`<?xml version='1.0' encoding='utf-8'?>
<annotations><version>1.1</version><meta><task><id>1</id><labels><label><name>cat</name></label></labels></task></meta>
<image id="3" name="x.png"><tag label="cat" source="auto" autolabel_status="accepted" autolabel_confidence="0.8123"/></image>
<image id="4" name="y.png"><tag label="cat" source="manual" autolabel_status="labeled" autolabel_origin="next" autolabel_origin_detail="uncertain"/></image>
<image id="5" name="z.png"><tag label="cat" source="auto" autolabel_status="suggested" autolabel_confidence="0.5"/></image>
</annotations>`);
    expect(await read(file)).toMatchObject({
      classes: ['cat'],
      entries: [
        { image: { path: 'x.png' }, labels: ['cat'], accepted: true, confidence: 0.8123 },
        { image: { path: 'y.png' }, labels: ['cat'], provenance: 'next: uncertain' },
        { image: { path: 'z.png' }, labels: [] },
      ],
    });
  });

  it('names the file, the line, the image and the attribute of what is wrong', async () => {
    const cases: [string, string][] = [
      [
        '<annotations><version>1.1</version>\n<image id="0"/></annotations>',
        'line 2: image[0]: name: the attribute is missing',
      ],
      [
        '<annotations><version>1.1</version>\n<image name="a.jpg"><tag source="manual"/></image></annotations>',
        'line 2: image "a.jpg": tag (line 2): label: the attribute is missing',
      ],
      [
        '<annotations><version>1.1</version>\n<image name="a.jpg"><tag label="a" autolabel_confidence="7"/></image></annotations>',
        'line 2: image "a.jpg": tag (line 2): autolabel_confidence: must be a number from 0 to 1',
      ],
      ['<annotations>\n<image name="a.jpg">\n</annotations>', 'line 3: </annotations> closes <image>'],
      ['<annotations>\n<image name="a.jpg">', '<image> (line 2) is never closed'],
      ['<annotations>\n<image name="a.jpg" <tag/></annotations>', 'line 2: not well-formed XML'],
      ['<tasks></tasks>', 'no <annotations> element'],
    ];
    for (const [text, message] of cases) {
      const file = write(text);
      await expect(read(file)).rejects.toThrow(`${file}: ${message}`);
    }
  });

  it('parses entities, CDATA and single-quoted attributes', () => {
    const root = parseXml(`<a x='1 &lt; 2' y="&#233;&#x4e2d;"><![CDATA[<raw>]]> &amp; t</a>`, 'f');
    expect(root.children[0]).toMatchObject({ name: 'a', attributes: { x: '1 < 2', y: 'é中' }, text: '<raw> & t' });
  });
});
