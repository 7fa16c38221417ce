/**
 * The SLD documents inside a zipped style package (styles.yaml: a POST or PUT of
 * `application/zip` to a style path), read so that the DOCTYPE check (doctype.ts) sees what the
 * master's GeoServer would parse: it unzips the package and parses its file whose name ends in
 * `sld` (StyleController, `getSldFileFromDirectory`). The icons and other files are not read,
 * except where an entry's extent depends on its deflated data (below).
 *
 * Written here rather than taken from a zip library: such a library reads an archive either by
 * its central directory or by its local entries as they stream, and this check must know that
 * the two agree (GeoServer reads the local entries in order, through a `ZipInputStream`, so a
 * check that read the directory alone could pass an entry the master never parses, and the
 * reverse). The structure is read within bounds before anything is inflated, and Node's own
 * `zlib` inflates:
 * - the central directory lists at most MAX_PACKAGE_ENTRIES entries, and every entry it lists is
 *   where it says, one after the other from the first byte to the directory: GeoServer reads the
 *   package's local entries in order (a `ZipInputStream`), so an entry hidden from the directory
 *   or a directory that disagrees with the entries would let the master parse what was never
 *   checked;
 * - what the master's reader takes an entry's CRC and sizes from is what the directory declares:
 *   its local header, or, when general purpose flag bit 3 is set (a streaming zipper: `zip - -`,
 *   Java's `ZipOutputStream`), the data descriptor after its data. `ZipInputStream` reads that
 *   descriptor's sizes in 8 bytes (ZIP64) when the local header's extra field holds a ZIP64 field
 *   of 8 or 16 bytes (JDK 21 on; JDK 17 reads 4 and refuses the entry), in 4 otherwise; a ZIP64
 *   field it could take either way is refused. Such an entry must be deflated (`ZipInputStream`
 *   refuses a stored one), and its data ends where its deflate stream does, not where a size
 *   says: so every such entry, icons too, is inflated here, and its stream must end exactly at
 *   the compressed size the directory declares;
 * - an entry without a data descriptor declares no size 0xFFFFFFFF (`ZipInputStream` would take
 *   both its sizes from its local header's ZIP64 extra field instead, and read the next entry
 *   where its deflate stream ends, not where the headers say);
 * - a stored entry declares as many bytes as it holds (`ZipInputStream` reads a stored entry's
 *   size, not its compressed size, so one declaring more would let the master read on into the
 *   next entry's header and take an entry hidden in its data for the next);
 * - an SLD entry is stored or deflated (all a `ZipInputStream` reads), not encrypted, declares
 *   at most MAX_PACKAGE_SLD_BYTES in all (the most the cluster carries of a style's document);
 *   every entry inflated declares at most MAX_COMPRESSION_RATIO times its compressed size, all
 *   of them at most MAX_PACKAGE_INFLATED_BYTES together, and inflates to exactly what it declares
 *   (inflation stops at the declared size: a zip bomb costs at most that much memory) with the
 *   CRC it declares.
 * A package that breaks any of these is refused (400 STYLE_PACKAGE) before it reaches the master.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { AppError } from '../../shared/errors';
import { MAX_REPLICATED_WRITE_BYTES } from './limits';
import { xmlPrologProblem, XmlEncodingError } from './doctype';

/** The most entries a package may list (an SLD and its icons: a few in practice). */
export const MAX_PACKAGE_ENTRIES = 1000;
/** The most the SLD documents of one package may inflate to, together. */
export const MAX_PACKAGE_SLD_BYTES = MAX_REPLICATED_WRITE_BYTES;
/** The most an entry may inflate to per compressed byte (an SLD's text compresses 5 to 20 times, an icon hardly at all). */
export const MAX_COMPRESSION_RATIO = 100;
/** The most the entries the check inflates (the SLDs, and every entry with a data descriptor) may declare together. */
export const MAX_PACKAGE_INFLATED_BYTES = 16 * MAX_PACKAGE_SLD_BYTES;

/** 400: a zipped style package the gateway cannot read within its bounds, refused before anything is forwarded. */
export class StylePackageError extends AppError {
  constructor(problem: string) {
    super(
      400,
      'STYLE_PACKAGE',
      `The zipped style package cannot be checked: ${problem}. The gateway reads a package's SLD before forwarding it (to refuse a DOCTYPE in it, ` +
        `as in any XML body); nothing was sent to the master. Send a plain zip (stored or deflated entries, no encryption, no ZIP64 end record or sizes, deflated entries where a data descriptor follows the data) of at most ` +
        `${MAX_PACKAGE_ENTRIES} entries, whose SLD is at most ${MAX_PACKAGE_SLD_BYTES} bytes`,
      'body',
    );
  }
}

export interface PackagedDocument {
  readonly name: string;
  readonly data: Buffer;
}

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_ENTRY = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const END_RECORD_BYTES = 22;
const DIRECTORY_ENTRY_BYTES = 46;
const LOCAL_ENTRY_BYTES = 30;
const STORED = 0;
const DEFLATED = 8;
const ENCRYPTED_FLAG = 0x1;
const DESCRIPTOR_FLAG = 0x8;
/** The header id of the ZIP64 extended information extra field. */
const ZIP64_EXTRA = 0x0001;
/** A 4-byte size standing for one in the ZIP64 extra field. */
const ZIP64_MAGIC = 0xffffffff;

interface DirectoryEntry {
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly offset: number;
}

/** An entry's local header: what the master's reader goes by, where the directory is not read. */
interface LocalHeader {
  readonly flags: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly extra: Buffer;
  readonly dataStart: number;
}

/** Whether GeoServer could take the entry for the package's SLD (its name ends in `sld`, in any case and folder). */
export function isSldEntry(name: string): boolean {
  return !name.endsWith('/') && name.toLowerCase().endsWith('sld');
}

/** The package's SLD documents, inflated; throws StylePackageError when the package cannot be read within the bounds. */
export function sldDocumentsOf(zip: Buffer): PackagedDocument[] {
  const entries = directoryOf(zip);
  const directoryStart = zip.readUInt32LE(endRecordAt(zip) + 16);
  const slds = entries.filter((entry) => isSldEntry(entry.name));
  const declared = slds.reduce((sum, entry) => sum + entry.size, 0);
  if (declared > MAX_PACKAGE_SLD_BYTES) throw new StylePackageError(`its SLD entries declare ${declared} bytes, over ${MAX_PACKAGE_SLD_BYTES}`);
  const inflating = declared + entries.filter((entry) => !isSldEntry(entry.name) && isStreamed(entry)).reduce((sum, entry) => sum + entry.size, 0);
  if (inflating > MAX_PACKAGE_INFLATED_BYTES) {
    throw new StylePackageError(`the entries the gateway must inflate to check it (its SLDs, and the entries with a data descriptor) declare ${inflating} bytes, over ${MAX_PACKAGE_INFLATED_BYTES}`);
  }
  checkLayout(zip, entries, directoryStart);
  return slds.map((entry) => ({ name: entry.name, data: inflated(zip, entry, directoryStart) }));
}

/** Whether a data descriptor follows the entry's data (general purpose flag bit 3: a streaming zipper wrote it). */
function isStreamed(entry: { readonly flags: number }): boolean {
  return (entry.flags & DESCRIPTOR_FLAG) !== 0;
}

/** The end record and the central directory it points to. */
function directoryOf(zip: Buffer): DirectoryEntry[] {
  const end = endRecordAt(zip);
  if (end < 0) throw new StylePackageError('it is not a zip (no end of central directory record)');
  const [thisDisk, directoryDisk] = [zip.readUInt16LE(end + 4), zip.readUInt16LE(end + 6)];
  const [onDisk, count] = [zip.readUInt16LE(end + 8), zip.readUInt16LE(end + 10)];
  const [size, start] = [zip.readUInt32LE(end + 12), zip.readUInt32LE(end + 16)];
  if (count === 0xffff || size === 0xffffffff || start === 0xffffffff) throw new StylePackageError('it is a ZIP64 archive');
  if (thisDisk !== 0 || directoryDisk !== 0 || onDisk !== count) throw new StylePackageError('it spans several disks');
  if (count > MAX_PACKAGE_ENTRIES) throw new StylePackageError(`it lists ${count} entries, over ${MAX_PACKAGE_ENTRIES}`);
  if (start + size !== end) throw new StylePackageError('its central directory does not end where its end record starts');
  const entries: DirectoryEntry[] = [];
  let at = start;
  for (let index = 0; index < count; index += 1) {
    if (at + DIRECTORY_ENTRY_BYTES > end || zip.readUInt32LE(at) !== DIRECTORY_ENTRY) throw new StylePackageError(`its central directory entry ${index + 1} is malformed`);
    const [nameLength, extraLength, commentLength] = [zip.readUInt16LE(at + 28), zip.readUInt16LE(at + 30), zip.readUInt16LE(at + 32)];
    const next = at + DIRECTORY_ENTRY_BYTES + nameLength + extraLength + commentLength;
    if (next > end) throw new StylePackageError(`its central directory entry ${index + 1} runs past the directory`);
    entries.push({
      name: zip.toString('utf8', at + DIRECTORY_ENTRY_BYTES, at + DIRECTORY_ENTRY_BYTES + nameLength),
      flags: zip.readUInt16LE(at + 8),
      method: zip.readUInt16LE(at + 10),
      crc: zip.readUInt32LE(at + 16),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      offset: zip.readUInt32LE(at + 42),
    });
    at = next;
  }
  if (at !== end) throw new StylePackageError('its central directory holds more than the entries it counts');
  return entries;
}

/** Where the end of central directory record starts (the last one whose comment ends the file), or -1. */
function endRecordAt(zip: Buffer): number {
  for (let at = zip.length - END_RECORD_BYTES; at >= 0 && at >= zip.length - END_RECORD_BYTES - 0xffff; at -= 1) {
    if (zip.readUInt32LE(at) === END_OF_DIRECTORY && at + END_RECORD_BYTES + zip.readUInt16LE(at + 20) === zip.length) return at;
  }
  return -1;
}

/** How an entry is named in a message. */
function entryName(entry: DirectoryEntry): string {
  return `its entry ${JSON.stringify(entry.name)}`;
}

/** CRC and sizes, as a message gives them. */
function described(declared: { readonly crc: number; readonly compressedSize: number; readonly size: number }): string {
  return `CRC ${declared.crc.toString(16).padStart(8, '0')}, ${declared.compressedSize} bytes compressed, ${declared.size} bytes`;
}

function declaresAlike(a: { readonly crc: number; readonly compressedSize: number; readonly size: number }, b: DirectoryEntry): boolean {
  return a.crc === b.crc && a.compressedSize === b.compressedSize && a.size === b.size;
}

/**
 * The entries, in the order a reader from the first byte meets them, fill the archive up to its
 * directory with nothing between them, each under the name, flags, CRC and sizes the directory
 * gives it, declared where the master's reader reads them (its local header, or its data
 * descriptor, which follows its deflate stream's end).
 */
function checkLayout(zip: Buffer, entries: readonly DirectoryEntry[], directoryStart: number): void {
  let expected = 0;
  for (const entry of [...entries].sort((a, b) => a.offset - b.offset)) {
    const what = entryName(entry);
    if (entry.offset !== expected) throw new StylePackageError(`${what} is not where the previous one ends`);
    const local = localHeaderOf(zip, entry);
    if ((local.flags & (ENCRYPTED_FLAG | DESCRIPTOR_FLAG)) !== (entry.flags & (ENCRYPTED_FLAG | DESCRIPTOR_FLAG))) {
      throw new StylePackageError(`${what} has other flags in its local header than in its central directory`);
    }
    // The master's reader reads a stored entry's size, not its compressed size: where the two differ, it reads into what follows.
    if (entry.method === STORED && entry.size !== entry.compressedSize) {
      throw new StylePackageError(`${what} is stored, yet declares ${entry.size} bytes in ${entry.compressedSize} (GeoServer's zip reader would read ${entry.size} bytes, and take what follows them for the next entry)`);
    }
    let after = local.dataStart + entry.compressedSize;
    if (after > directoryStart) throw new StylePackageError(`${what} runs into the central directory`);
    if (!isStreamed(local)) {
      if (!declaresAlike(local, entry)) throw new StylePackageError(`${what}: its local header declares ${described(local)}, its central directory ${described(entry)}`);
      // Where either is 0xFFFFFFFF, the master's reader takes both sizes from the local header's ZIP64 extra field, which the check does not follow.
      if (entry.size === ZIP64_MAGIC || entry.compressedSize === ZIP64_MAGIC) throw new StylePackageError(`${what} declares its sizes in a ZIP64 extra field`);
    } else {
      if (entry.method !== DEFLATED) throw new StylePackageError(`${what} is stored with a data descriptor, which GeoServer's zip reader refuses (only a deflated entry's data ends by itself)`);
      // Where its data ends, and so where the master reads its descriptor and the next entry.
      inflated(zip, entry, directoryStart);
      after += descriptorBytes(zip, after, entry, hasZip64Descriptor(local, what), directoryStart);
    }
    expected = after;
  }
  if (expected !== directoryStart) throw new StylePackageError('it holds bytes between its last entry and its central directory');
}

/** An entry's local header, which must name it as the directory does and lie before the directory. */
function localHeaderOf(zip: Buffer, entry: DirectoryEntry): LocalHeader {
  const at = entry.offset;
  const what = entryName(entry);
  if (at + LOCAL_ENTRY_BYTES > zip.length || zip.readUInt32LE(at) !== LOCAL_ENTRY) throw new StylePackageError(`${what} has no local header`);
  const [nameLength, extraLength] = [zip.readUInt16LE(at + 26), zip.readUInt16LE(at + 28)];
  const extraStart = at + LOCAL_ENTRY_BYTES + nameLength;
  const dataStart = extraStart + extraLength;
  if (dataStart > zip.length) throw new StylePackageError(`${what} has a local header that runs past the package`);
  const name = zip.toString('utf8', at + LOCAL_ENTRY_BYTES, extraStart);
  if (name !== entry.name) throw new StylePackageError(`its entry ${JSON.stringify(name)} is listed in its central directory as ${JSON.stringify(entry.name)}`);
  if (zip.readUInt16LE(at + 8) !== entry.method) throw new StylePackageError(`${what} declares two compression methods`);
  return {
    flags: zip.readUInt16LE(at + 6),
    crc: zip.readUInt32LE(at + 14),
    compressedSize: zip.readUInt32LE(at + 18),
    size: zip.readUInt32LE(at + 22),
    extra: zip.subarray(extraStart, dataStart),
    dataStart,
  };
}

/**
 * Whether the master's `ZipInputStream` reads the entry's data descriptor with 8-byte (ZIP64)
 * sizes: when its local header's extra field holds a ZIP64 field of 8 or 16 bytes (the local
 * header's sizes 0xFFFFFFFF, as streaming zippers write it, so that JDK readers before and after
 * JDK 21's first reading of it agree). A ZIP64 field readers could take either way, or an extra
 * field that does not parse, is refused.
 */
function hasZip64Descriptor(local: LocalHeader, what: string): boolean {
  const { extra } = local;
  let at = 0;
  while (at < extra.length) {
    if (at + 4 > extra.length || at + 4 + extra.readUInt16LE(at + 2) > extra.length) {
      throw new StylePackageError(`${what} has an extra field in its local header that does not parse, which zip readers take differently`);
    }
    const [id, length] = [extra.readUInt16LE(at), extra.readUInt16LE(at + 2)];
    if (id === ZIP64_EXTRA) {
      if ((length === 8 || length === 16) && (local.compressedSize === ZIP64_MAGIC || local.size === ZIP64_MAGIC)) return true;
      throw new StylePackageError(
        `${what} has a ZIP64 extra field of ${length} bytes in its local header, which declares ${local.compressedSize} and ${local.size} bytes: zip readers take its data descriptor ` +
          'for 4-byte or 8-byte sizes differently (a streaming zipper writes 16 bytes, and 0xFFFFFFFF for both sizes)',
      );
    }
    at += 4 + length;
  }
  return false;
}

/**
 * The length of the data descriptor after an entry's data, read as the master's reader reads it
 * (with its optional signature when it opens with one; sizes in 8 bytes when `zip64`), which must
 * declare what the central directory does.
 */
function descriptorBytes(zip: Buffer, at: number, entry: DirectoryEntry, zip64: boolean, directoryStart: number): number {
  const what = `${entryName(entry)}: its ${zip64 ? 'ZIP64 ' : ''}data descriptor`;
  const signed = at + 4 <= directoryStart && zip.readUInt32LE(at) === DATA_DESCRIPTOR;
  const sizeBytes = zip64 ? 8 : 4;
  const length = (signed ? 4 : 0) + 4 + 2 * sizeBytes;
  if (at + length > directoryStart) throw new StylePackageError(`${what} runs into the central directory`);
  const crcAt = at + (signed ? 4 : 0);
  const sizeAt = (index: number) => crcAt + 4 + index * sizeBytes;
  const read = (offset: number) => (zip64 ? Number(zip.readBigUInt64LE(offset)) : zip.readUInt32LE(offset));
  const declared = { crc: zip.readUInt32LE(crcAt), compressedSize: read(sizeAt(0)), size: read(sizeAt(1)) };
  if (!declaresAlike(declared, entry)) throw new StylePackageError(`${what} declares ${described(declared)}, its central directory ${described(entry)}`);
  return length;
}

/**
 * An entry's bytes, inflated to at most what it declares. A deflated entry's stream must end
 * exactly at its compressed size: a streamed one's is given all up to the directory, since the
 * master's reader takes its data to end where its stream does.
 */
function inflated(zip: Buffer, entry: DirectoryEntry, directoryStart: number): Buffer {
  const what = entryName(entry);
  if ((entry.flags & ENCRYPTED_FLAG) !== 0) throw new StylePackageError(`${what} is encrypted`);
  const start = localHeaderOf(zip, entry).dataStart;
  let data: Buffer;
  if (entry.method === STORED) {
    data = zip.subarray(start, start + entry.compressedSize);
  } else if (entry.method === DEFLATED) {
    if (entry.size > MAX_COMPRESSION_RATIO * Math.max(1, entry.compressedSize)) {
      throw new StylePackageError(`${what} declares ${entry.size} bytes compressed into ${entry.compressedSize}, more than ${MAX_COMPRESSION_RATIO} to 1`);
    }
    const raw = zip.subarray(start, isStreamed(entry) ? directoryStart : start + entry.compressedSize);
    let consumed: number;
    try {
      // One byte over what it declares is enough to tell that it lies.
      const result = inflateRawSync(raw, { maxOutputLength: entry.size + 1, info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
      [data, consumed] = [result.buffer, result.engine.bytesWritten];
    } catch (error) {
      const over = error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
      throw new StylePackageError(over ? `${what} inflates to more than the ${entry.size} bytes it declares` : `${what} does not inflate (${(error as Error).message})`);
    }
    if (consumed !== entry.compressedSize) {
      throw new StylePackageError(
        `${what}: its deflate stream is ${consumed} bytes long, not the ${entry.compressedSize} its central directory declares (the master's zip reader would take what follows the stream's end for the rest of the package)`,
      );
    }
  } else {
    throw new StylePackageError(`${what} is compressed with method ${entry.method} (GeoServer reads stored and deflated entries only)`);
  }
  if (data.length !== entry.size) throw new StylePackageError(`${what} is ${data.length} bytes, not the ${entry.size} it declares`);
  if (crc32(data) !== entry.crc) throw new StylePackageError(`${what} does not match its CRC`);
  return data;
}

/** Where a zipped style package's SLD declares a DOCTYPE (doctype.ts), or undefined when none does. */
export function packagedDoctypeIn(zip: Buffer): string | undefined {
  for (const document of sldDocumentsOf(zip)) {
    const prolog = xmlPrologProblem(document.data, 'application/vnd.ogc.sld+xml');
    if (prolog !== undefined && 'unscannable' in prolog) throw new XmlEncodingError(`the package's ${JSON.stringify(document.name)}, ${prolog.unscannable}`);
    if (prolog !== undefined) return `in the package's ${JSON.stringify(document.name)}, ${prolog.doctype}`;
  }
  return undefined;
}
