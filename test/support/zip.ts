/**
 * Builds zip archives for tests (style packages sent through the gateway), byte by byte after
 * the zip format (PKWARE APPNOTE): local entries one after the other, then the central
 * directory and its end record. An entry may declare what it is not (`declaredSize`,
 * `localSize`, `descriptorSizes`), be left out of the directory (`hidden`), carry bytes after its
 * compressed data (`padding`), or be written as a streaming zipper writes it (`descriptor`), to
 * build the archives a reader must refuse and those it must read.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer | string;
  /** Stored as is instead of deflated. */
  readonly stored?: boolean;
  /** The uncompressed size the headers declare, when it is not the data's. */
  readonly declaredSize?: number;
  /** Present in the local entries, absent from the central directory. */
  readonly hidden?: boolean;
  /**
   * Written as a streaming zipper writes it (general purpose flag bit 3): the local header
   * declares no CRC or sizes, and a data descriptor after the data does. `zip32`: 4-byte sizes
   * (Java's ZipOutputStream); `zip64`: 8-byte sizes, the local header's sizes 0xFFFFFFFF and a
   * ZIP64 extra field (Info-ZIP's `zip - -` reading stdin).
   */
  readonly descriptor?: 'zip32' | 'zip64';
  /** The data descriptor opens with its optional signature (PK\x07\x08); true unless false. */
  readonly descriptorSignature?: boolean;
  /** Sizes the data descriptor declares, when they are not the entry's. */
  readonly descriptorSizes?: { readonly compressedSize?: number; readonly size?: number };
  /** The ZIP64 extra field's data size (8 or 16 in a well-formed one; 16 unless given). */
  readonly zip64ExtraBytes?: number;
  /** The uncompressed size the local header declares, when it is not the central directory's. */
  readonly localSize?: number;
  /** The local header's extra field, when the entry has no data descriptor (none in the central directory). */
  readonly localExtra?: Buffer;
  /** Bytes after the compressed data, counted in its compressed size. */
  readonly padding?: Buffer;
}

const MAGIC = 0xffffffff;

export function zipOf(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = Buffer.from(entry.data);
    const method = entry.stored ? 0 : 8;
    const packed = Buffer.concat([entry.stored ? data : deflateRawSync(data), entry.padding ?? Buffer.alloc(0)]);
    const name = Buffer.from(entry.name, 'utf8');
    const size = entry.declaredSize ?? data.length;
    const crc = crc32(data);
    const flags = 0x800 | (entry.descriptor ? 0x8 : 0);
    const zip64 = entry.descriptor === 'zip64';
    const extra = zip64 ? Buffer.alloc(4 + (entry.zip64ExtraBytes ?? 16)) : (entry.localExtra ?? Buffer.alloc(0));
    if (zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(entry.zip64ExtraBytes ?? 16, 2);
    }
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    if (!entry.descriptor) {
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(packed.length, 18);
      local.writeUInt32LE(entry.localSize ?? size, 22);
    } else if (zip64) {
      local.writeUInt32LE(MAGIC, 18);
      local.writeUInt32LE(MAGIC, 22);
    }
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const descriptor = entry.descriptor ? descriptorOf(entry, crc, entry.descriptorSizes?.compressedSize ?? packed.length, entry.descriptorSizes?.size ?? size) : Buffer.alloc(0);
    locals.push(local, name, extra, packed, descriptor);
    if (!entry.hidden) {
      const central = Buffer.alloc(46);
      central.writeUInt32LE(0x02014b50, 0);
      central.writeUInt16LE(zip64 ? 45 : 20, 4);
      central.writeUInt16LE(zip64 ? 45 : 20, 6);
      central.writeUInt16LE(flags, 8);
      central.writeUInt16LE(method, 10);
      central.writeUInt32LE(crc, 16);
      central.writeUInt32LE(packed.length, 20);
      central.writeUInt32LE(size, 24);
      central.writeUInt16LE(name.length, 28);
      central.writeUInt32LE(offset, 42);
      directory.push(central, name);
    }
    offset += local.length + name.length + extra.length + packed.length + descriptor.length;
  }
  const directoryBytes = Buffer.concat(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const listed = entries.filter((entry) => !entry.hidden).length;
  end.writeUInt16LE(listed, 8);
  end.writeUInt16LE(listed, 10);
  end.writeUInt32LE(directoryBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directoryBytes, end]);
}

/** A data descriptor: [signature] CRC, compressed size, size (4 bytes each, or 8 for the sizes in ZIP64). */
export function descriptorOf(entry: Pick<ZipEntry, 'descriptor' | 'descriptorSignature'>, crc: number, compressedSize: number, size: number): Buffer {
  const signature = entry.descriptorSignature !== false;
  const sizeBytes = entry.descriptor === 'zip64' ? 8 : 4;
  const descriptor = Buffer.alloc((signature ? 4 : 0) + 4 + 2 * sizeBytes);
  let at = 0;
  if (signature) at = descriptor.writeUInt32LE(0x08074b50, at);
  at = descriptor.writeUInt32LE(crc, at);
  for (const value of [compressedSize, size]) {
    at = sizeBytes === 8 ? descriptor.writeBigUInt64LE(BigInt(value), at) : descriptor.writeUInt32LE(value, at);
  }
  return descriptor;
}
