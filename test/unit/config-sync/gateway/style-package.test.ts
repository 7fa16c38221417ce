/**
 * A zipped style package through the gateway: GeoServer unzips it and parses its SLD
 * (StyleController, `getSldFileFromDirectory`), so the SLD is checked for a DOCTYPE like any XML
 * body, and the package is read within bounds (entries, sizes, compression ratio) before
 * anything reaches the master.
 */
import { handleGatewayCall, type GatewayRequest, type Upstream } from '../../../../lambdas/config-sync/gateway/gateway';
import { MAX_COMPRESSION_RATIO, MAX_PACKAGE_ENTRIES, MAX_PACKAGE_SLD_BYTES } from '../../../../lambdas/config-sync/gateway/style-package';
import { storingPublisher } from './storing-publisher';
import { masterView } from './master-view';
import { crc32, deflateRawSync } from 'node:zlib';
import { descriptorOf, zipOf, type ZipEntry } from '../../../support/zip';
import { ebcdic } from '../../../support/ebcdic';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');
const SLD = '<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>poi</Name></NamedLayer></StyledLayerDescriptor>';
const XXE = '<?xml version="1.0"?>\n<!DOCTYPE StyledLayerDescriptor [<!ENTITY x SYSTEM "file:///etc/passwd">]>' +
  '<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>&x;</Name></NamedLayer></StyledLayerDescriptor>';
const ICON = { name: 'marker.png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]), stored: true };

/** A master that records what reaches it and creates the style `poi`. */
function recordingMaster() {
  const sent: GatewayRequest[] = [];
  const upstream: Upstream = {
    async send(call) {
      sent.push(call);
      const reply = (status: number, body: string, contentType = 'text/plain') => ({ status, headers: { 'content-type': contentType }, body: Buffer.from(body) });
      if (call.method === 'POST') return reply(201, 'poi');
      if (call.method === 'PUT') return reply(200, '');
      if (call.path.endsWith('.json')) return reply(200, JSON.stringify({ style: { name: 'poi', format: 'sld', languageVersion: { version: '1.0.0' }, filename: 'poi.sld' } }), 'application/json');
      return reply(200, SLD, 'application/vnd.ogc.sld+xml');
    },
  };
  return { upstream, sent };
}

function send(upstream: Upstream, zip: Buffer, method = 'POST', path = '/styles', query = 'name=poi') {
  const publisher = storingPublisher();
  const answer = handleGatewayCall(upstream, publisher, { method, path, query, headers: { authorization: ADMIN, 'content-type': 'application/zip' }, body: zip }, { readBack: masterView(upstream) });
  return { answer, published: publisher.published };
}

describe('a zipped style package whose SLD has a DOCTYPE', () => {
  it('is refused with 400 XML_DOCTYPE naming the entry, on every style path, and nothing is sent or published', async () => {
    const { upstream, sent } = recordingMaster();
    const cases: [readonly ZipEntry[], string, string, string][] = [
      [[{ name: 'poi.sld', data: XXE }, ICON], 'POST', '/styles', 'name=poi'],
      [[ICON, { name: 'poi.sld', data: XXE, stored: true }], 'POST', '/workspaces/topp/styles', 'name=poi'],
      [[{ name: 'poi.sld', data: XXE }], 'PUT', '/styles/poi', ''],
      [[{ name: 'poi.sld', data: XXE }], 'PUT', '/workspaces/topp/styles/poi', ''],
      // UTF-16, as GeoServer's parser would read it.
      [[{ name: 'poi.sld', data: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(XXE, 'utf16le')]) }], 'POST', '/styles', 'name=poi'],
      // GeoServer takes the first file whose name ends in "sld", in an order the file system decides: every one is checked.
      [[{ name: 'a.sld', data: SLD }, { name: 'b.sld', data: XXE }], 'POST', '/styles', 'name=poi'],
    ].map(([entries, method, path, query]) => [entries as readonly ZipEntry[], method as string, path as string, query as string]);
    for (const [entries, method, path, query] of cases) {
      const { answer, published } = send(upstream, zipOf(entries), method, path, query);
      await expect(answer).rejects.toMatchObject({ status: 400, code: 'XML_DOCTYPE', field: 'body', message: expect.stringMatching(/DOCTYPE.*\.sld|\.sld.*DOCTYPE/s) });
      expect(published).toEqual([]);
    }
    expect(sent).toEqual([]);
  });

  it('refuses with 400 XML_ENCODING a package whose SLD is in EBCDIC, which the DOCTYPE check cannot read', async () => {
    const { upstream, sent } = recordingMaster();
    const { answer, published } = send(upstream, zipOf([{ name: 'poi.sld', data: ebcdic(XXE.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="IBM037"?>')) }, ICON]));
    await expect(answer).rejects.toMatchObject({ status: 400, code: 'XML_ENCODING', field: 'body', message: expect.stringMatching(/"poi\.sld".*EBCDIC/) });
    expect(published).toEqual([]);
    expect(sent).toEqual([]);
  });

  // The master keeps the package's SLD as its bytes; the other nodes get the document read back as UTF-8 text.
  it('refuses with 400 a package whose SLD is not UTF-8, naming the entry, before anything is sent or published', async () => {
    const { upstream, sent } = recordingMaster();
    const latin1 = Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?>\n${SLD.replace('<Name>poi</Name>', '<Name>poi</Name><Title>Caf\u00e9</Title>')}`, 'latin1');
    const { answer, published } = send(upstream, zipOf([{ name: 'poi.sld', data: latin1 }, ICON]));
    await expect(answer).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/"poi\.sld" is not UTF-8/) });
    expect(sent).toEqual([]);
    expect(published).toEqual([]);
  });

  it('forwards a package whose SLD has none, unchanged, and publishes the style', async () => {
    const { upstream, sent } = recordingMaster();
    const zip = zipOf([{ name: 'poi.sld', data: `<?xml version="1.0"?>\n<!-- no <!DOCTYPE here -->${SLD}` }, ICON]);
    const { answer, published } = send(upstream, zip);
    await expect(answer).resolves.toMatchObject({ status: 201, replication: 'published' });
    expect(sent[0]!.body?.equals(zip)).toBe(true);
    expect(published).toHaveLength(1);
  });
});

describe('a zipped style package the gateway cannot read within its bounds', () => {
  const sld = (size: number) => `<StyledLayerDescriptor version="1.0.0"><!--${' '.repeat(size)}--></StyledLayerDescriptor>`;
  const cases: [string, Buffer, RegExp][] = [
    ['not a zip', Buffer.from('PK\u0003\u0004poi.sld and marker.png'), /not a zip/],
    ['too many entries', zipOf(Array.from({ length: MAX_PACKAGE_ENTRIES + 1 }, (_, i) => ({ name: `icon${i}.png`, data: 'x', stored: true }))), /entries/],
    ['an SLD larger than the cluster carries', zipOf([{ name: 'poi.sld', data: sld(MAX_PACKAGE_SLD_BYTES) }]), /declare \d+ bytes/],
    // A zip bomb: ~1,000 to 1 (deflate's most), within the size limit.
    ['an SLD compressed more than the ratio allows', zipOf([{ name: 'poi.sld', data: sld(MAX_COMPRESSION_RATIO * 5000) }]), /more than 100 to 1/],
    ['an SLD that inflates to more than it declares', zipOf([{ name: 'poi.sld', data: sld(20_000), declaredSize: 300 }]), /inflates to more than the 300 bytes/],
    ['an SLD hidden from the central directory', zipOf([{ name: 'poi.sld', data: XXE, hidden: true }, { name: 'ok.sld', data: SLD }]), /not where the previous one ends/],
  ];

  it.each(cases)('%s: refused with 400 STYLE_PACKAGE, nothing sent or published', async (_, zip, why) => {
    const { upstream, sent } = recordingMaster();
    const { answer, published } = send(upstream, zip);
    await expect(answer).rejects.toMatchObject({ status: 400, code: 'STYLE_PACKAGE', field: 'body', message: expect.stringMatching(why) });
    expect(published).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('inflates no more than the SLD declares: a bomb costs the function no memory', async () => {
    // 50 MB of zeros in ~50 KB, declared as 1 KB (a ratio the check lets through): inflation stops at 1 KB + 1.
    const bomb = zipOf([{ name: 'poi.sld', data: Buffer.alloc(50 * 1024 * 1024), declaredSize: 1024 }]);
    const before = process.memoryUsage().arrayBuffers;
    const { upstream, sent } = recordingMaster();
    await expect(send(upstream, bomb).answer).rejects.toMatchObject({ status: 400, code: 'STYLE_PACKAGE', message: expect.stringContaining('inflates to more than the 1024 bytes') });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10 * 1024 * 1024);
    expect(sent).toEqual([]);
  });
});

describe('a zipped style package written by a streaming zipper (data descriptors after the data)', () => {
  // GeoServer reads the package with java.util.zip.ZipInputStream, which (JDK 21 on) reads a data
  // descriptor's 8-byte ZIP64 sizes when the local header carries a ZIP64 extra field.
  const streamed = (descriptor: 'zip32' | 'zip64', extra: Partial<ZipEntry> = {}): ZipEntry[] => [
    { name: 'poi.sld', data: SLD, descriptor, ...extra },
    { name: 'marker.png', data: Buffer.alloc(300, 7), descriptor, ...extra },
  ];

  it.each([
    ['ZIP64 descriptors (zip - -)', streamed('zip64')],
    ['ZIP64 descriptors without their signature', streamed('zip64', { descriptorSignature: false })],
    ['4-byte descriptors (ZipOutputStream)', streamed('zip32')],
    ['4-byte descriptors without their signature', streamed('zip32', { descriptorSignature: false })],
  ])('%s: forwarded unchanged and published', async (_, entries) => {
    const { upstream, sent } = recordingMaster();
    const zip = zipOf(entries);
    const { answer, published } = send(upstream, zip);
    await expect(answer).resolves.toMatchObject({ status: 201, replication: 'published' });
    expect(sent[0]!.body?.equals(zip)).toBe(true);
    expect(published).toHaveLength(1);
  });

  it('reads the SLD of a ZIP64-descriptor package: a DOCTYPE in it is refused', async () => {
    const { upstream, sent } = recordingMaster();
    const { answer } = send(upstream, zipOf([ICON, { name: 'poi.sld', data: XXE, descriptor: 'zip64' }]));
    await expect(answer).rejects.toMatchObject({ status: 400, code: 'XML_DOCTYPE', message: expect.stringContaining('"poi.sld"') });
    expect(sent).toEqual([]);
  });

  /** An icon whose deflate stream ends early: where it ends, a descriptor of the empty icon, then an SLD the central directory never lists. */
  const smuggled = () => {
    const emptyStream = Buffer.from([0x03, 0x00]);
    const hidden = zipOf([{ name: 'evil.sld', data: XXE, stored: true, hidden: true }]);
    return { name: 'marker.png', data: '', descriptor: 'zip32' as const, padding: Buffer.concat([descriptorOf({ descriptor: 'zip32' }, 0, emptyStream.length, 0), hidden]) };
  };
  /**
   * A stored icon declaring more bytes than its compressed size: GeoServer's zip reader reads a
   * stored entry's size, so it reads on through the next entry's local header into that entry's
   * data, where an SLD the central directory never lists begins. Its CRC is that of what the master
   * reads, so the master takes it whole.
   */
  const storedOverrun = () => {
    const icon = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
    const hidden = zipOf([{ name: 'evil.sld', data: XXE, stored: true, hidden: true }]);
    const localBytes = (name: string) => 30 + Buffer.byteLength(name);
    const zip = zipOf([{ name: 'marker.png', data: icon, stored: true, declaredSize: icon.length + localBytes('pad.bin') }, { name: 'pad.bin', data: hidden, stored: true }]);
    const dataStart = localBytes('marker.png');
    const crc = crc32(zip.subarray(dataStart, dataStart + icon.length + localBytes('pad.bin')));
    zip.writeUInt32LE(crc, 14);
    zip.writeUInt32LE(crc, zip.readUInt32LE(zip.length - 22 + 16) + 16);
    return zip;
  };
  /**
   * A deflated icon whose headers declare the size 0xFFFFFFFF: GeoServer's zip reader then takes
   * its sizes from the ZIP64 extra field of its local header, which here declares the deflate
   * stream's own length, shorter than the compressed size the headers declare; so the master reads
   * the next entry where the stream ends, inside what the headers count as the icon's data.
   */
  const zip64Sizes = () => {
    const icon = Buffer.alloc(300, 7);
    const hidden = zipOf([{ name: 'evil.sld', data: XXE, stored: true, hidden: true }]);
    const extra = Buffer.alloc(20);
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(16, 2);
    extra.writeBigUInt64LE(BigInt(icon.length), 4);
    extra.writeBigUInt64LE(BigInt(deflateRawSync(icon).length), 12);
    return zipOf([{ name: 'marker.png', data: icon, declaredSize: 0xffffffff, localExtra: extra, padding: hidden }]);
  };
  const cases: [string, Buffer, RegExp][] = [
    ['a stored icon declaring more bytes than it holds, hiding an SLD in the next entry', storedOverrun(), /"marker.png".*stored/],
    ['an icon whose sizes are in a ZIP64 extra field, hiding an SLD in its data', zip64Sizes(), /"marker.png".*ZIP64/],
    ['a ZIP64 descriptor declaring another size than the central directory', zipOf([{ name: 'poi.sld', data: SLD, descriptor: 'zip64', descriptorSizes: { size: 4 } }]), /"poi.sld".*data descriptor declares/],
    ['a ZIP64 descriptor declaring another compressed size', zipOf([ICON, { name: 'marker2.png', data: 'x'.repeat(50), descriptor: 'zip64', descriptorSizes: { compressedSize: 1 } }]), /"marker2.png".*data descriptor declares/],
    ['a 4-byte descriptor declaring another size', zipOf([{ name: 'poi.sld', data: SLD, descriptor: 'zip32', descriptorSizes: { size: 2 ** 31 } }]), /"poi.sld".*data descriptor declares/],
    ['a ZIP64 extra field zip readers take differently', zipOf([{ name: 'poi.sld', data: SLD, descriptor: 'zip64', zip64ExtraBytes: 24 }]), /"poi.sld".*ZIP64 extra field of 24 bytes/],
    ['a stored entry with a data descriptor', zipOf([{ name: 'poi.sld', data: SLD, stored: true, descriptor: 'zip32' }]), /"poi.sld".*stored with a data descriptor/],
    ['a local header declaring another size than the central directory', zipOf([{ name: 'poi.sld', data: SLD, localSize: 3 }]), /"poi.sld".*local header declares/],
    ['an icon whose deflate stream ends before its compressed size, hiding an SLD', zipOf([smuggled(), { name: 'poi.sld', data: SLD }]), /"marker.png".*deflate stream is 2 bytes long/],
    ['an icon with a descriptor compressed more than the ratio allows', zipOf([{ name: 'marker.png', data: Buffer.alloc(MAX_COMPRESSION_RATIO * 5000), descriptor: 'zip64' }]), /"marker.png".*more than 100 to 1/],
  ];

  it.each(cases)('%s: refused with 400 STYLE_PACKAGE naming the entry, nothing sent or published', async (_, zip, why) => {
    const { upstream, sent } = recordingMaster();
    const { answer, published } = send(upstream, zip);
    await expect(answer).rejects.toMatchObject({ status: 400, code: 'STYLE_PACKAGE', field: 'body', message: expect.stringMatching(why) });
    expect(published).toEqual([]);
    expect(sent).toEqual([]);
  });
});
