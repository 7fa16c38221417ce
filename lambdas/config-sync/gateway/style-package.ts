/**
 * The SLD documents inside a zipped style package (styles.yaml: a POST or PUT of
 * `application/zip` to a style path), read so that the DOCTYPE check (doctype.ts) sees what the
 * master's GeoServer would parse: it unzips the package and parses its file whose name ends in
 * `sld` (StyleController, `getSldFileFromDirectory`). The icons and other files are not read.
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
 * - an SLD entry is stored or deflated (all a `ZipInputStream` reads), not encrypted, declares
 *   at most MAX_PACKAGE_SLD_BYTES in all (the most the cluster carries of a style's document)
 *   and at most MAX_COMPRESSION_RATIO times its compressed size, and inflates to exactly what it
 *   declares (inflation stops at the declared size: a zip bomb costs at most that much memory)
 *   with the CRC it declares.
 * A package that breaks any of these is refused (400 STYLE_PACKAGE) before it reaches the master.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { AppError } from '../../shared/errors';
import { MAX_REPLICATED_WRITE_BYTES } from './limits';
import { doctypeIn } from './doctype';

/** The most entries a package may list (an SLD and its icons: a few in practice). */
export const MAX_PACKAGE_ENTRIES = 1000;
/** The most the SLD documents of one package may inflate to, together. */
export const MAX_PACKAGE_SLD_BYTES = MAX_REPLICATED_WRITE_BYTES;
/** The most an SLD entry may inflate to per compressed byte (an SLD's text compresses 5 to 20 times). */
export const MAX_COMPRESSION_RATIO = 100;

/** 400: a zipped style package the gateway cannot read within its bounds, refused before anything is forwarded. */
export class StylePackageError extends AppError {
  constructor(problem: string) {
    super(
      400,
      'STYLE_PACKAGE',
      `The zipped style package cannot be checked: ${problem}. The gateway reads a package's SLD before forwarding it (to refuse a DOCTYPE in it, ` +
        `as in any XML body); nothing was sent to the master. Send a plain zip (stored or deflated entries, no encryption, no ZIP64) of at most ` +
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

interface DirectoryEntry {
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly offset: number;
}

/** Whether GeoServer could take the entry for the package's SLD (its name ends in `sld`, in any case and folder). */
export function isSldEntry(name: string): boolean {
  return !name.endsWith('/') && name.toLowerCase().endsWith('sld');
}

/** The package's SLD documents, inflated; throws StylePackageError when the package cannot be read within the bounds. */
export function sldDocumentsOf(zip: Buffer): PackagedDocument[] {
  const entries = directoryOf(zip);
  checkLayout(zip, entries);
  const slds = entries.filter((entry) => isSldEntry(entry.name));
  const declared = slds.reduce((sum, entry) => sum + entry.size, 0);
  if (declared > MAX_PACKAGE_SLD_BYTES) throw new StylePackageError(`its SLD entries declare ${declared} bytes, over ${MAX_PACKAGE_SLD_BYTES}`);
  return slds.map((entry) => ({ name: entry.name, data: inflated(zip, entry) }));
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

/**
 * The entries, in the order a reader from the first byte meets them, fill the archive up to its
 * directory with nothing between them, each under the name the directory gives it.
 */
function checkLayout(zip: Buffer, entries: readonly DirectoryEntry[]): void {
  const directoryStart = zip.readUInt32LE(endRecordAt(zip) + 16);
  let expected = 0;
  for (const entry of [...entries].sort((a, b) => a.offset - b.offset)) {
    if (entry.offset !== expected) throw new StylePackageError(`its entry ${JSON.stringify(entry.name)} is not where the previous one ends`);
    const dataStart = dataStartOf(zip, entry);
    let after = dataStart + entry.compressedSize;
    if (after > directoryStart) throw new StylePackageError(`its entry ${JSON.stringify(entry.name)} runs into the central directory`);
    if ((entry.flags & DESCRIPTOR_FLAG) !== 0) after += descriptorBytes(zip, after, entry);
    expected = after;
  }
  if (expected !== directoryStart) throw new StylePackageError('it holds bytes between its last entry and its central directory');
}

/** Where an entry's data starts, after its local header, which must name it as the directory does. */
function dataStartOf(zip: Buffer, entry: DirectoryEntry): number {
  const at = entry.offset;
  if (at + LOCAL_ENTRY_BYTES > zip.length || zip.readUInt32LE(at) !== LOCAL_ENTRY) throw new StylePackageError(`its entry ${JSON.stringify(entry.name)} has no local header`);
  const [nameLength, extraLength] = [zip.readUInt16LE(at + 26), zip.readUInt16LE(at + 28)];
  const name = zip.toString('utf8', at + LOCAL_ENTRY_BYTES, at + LOCAL_ENTRY_BYTES + nameLength);
  if (name !== entry.name) throw new StylePackageError(`its entry ${JSON.stringify(name)} is listed in its central directory as ${JSON.stringify(entry.name)}`);
  if (zip.readUInt16LE(at + 8) !== entry.method) throw new StylePackageError(`its entry ${JSON.stringify(entry.name)} declares two compression methods`);
  return at + LOCAL_ENTRY_BYTES + nameLength + extraLength;
}

/** The length of the data descriptor after an entry's data (12 bytes, or 16 with its optional signature). */
function descriptorBytes(zip: Buffer, at: number, entry: DirectoryEntry): number {
  if (at + 16 <= zip.length && zip.readUInt32LE(at) === DATA_DESCRIPTOR && zip.readUInt32LE(at + 4) === entry.crc) return 16;
  if (at + 12 <= zip.length && zip.readUInt32LE(at) === entry.crc) return 12;
  throw new StylePackageError(`its entry ${JSON.stringify(entry.name)} has no data descriptor matching its central directory`);
}

/** An SLD entry's bytes, inflated to at most what it declares. */
function inflated(zip: Buffer, entry: DirectoryEntry): Buffer {
  const what = `its entry ${JSON.stringify(entry.name)}`;
  if ((entry.flags & ENCRYPTED_FLAG) !== 0) throw new StylePackageError(`${what} is encrypted`);
  const start = dataStartOf(zip, entry);
  const raw = zip.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === STORED) {
    data = raw;
  } else if (entry.method === DEFLATED) {
    if (entry.size > MAX_COMPRESSION_RATIO * Math.max(1, entry.compressedSize)) {
      throw new StylePackageError(`${what} declares ${entry.size} bytes compressed into ${entry.compressedSize}, more than ${MAX_COMPRESSION_RATIO} to 1`);
    }
    try {
      // One byte over what it declares is enough to tell that it lies.
      data = inflateRawSync(raw, { maxOutputLength: entry.size + 1 });
    } catch (error) {
      const over = error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
      throw new StylePackageError(over ? `${what} inflates to more than the ${entry.size} bytes it declares` : `${what} does not inflate (${(error as Error).message})`);
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
    const where = doctypeIn(document.data, 'application/vnd.ogc.sld+xml');
    if (where !== undefined) return `in the package's ${JSON.stringify(document.name)}, ${where}`;
  }
  return undefined;
}
