// Pieces of the fuzzer's mutations (scripts/fuzz/mutate.ts) that aim at hostile ONNX files and links: the
// protobuf field walker that finds tags (to change wire types and cut files inside fields), and symbolic links
// among a case's files.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyOps, protobufFields, writeFiles, type Files } from '../../../scripts/fuzz/mutate';
import { tmpDir } from '../helpers';

describe('fuzz mutations', () => {
  it('finds every protobuf field, nested messages included, with its wire type and payload', () => {
    // field 1 varint 150; field 2 length-delimited holding {field 1 varint 1}; field 3 fixed32 (1.0f);
    // field 4 length-delimited holding bytes that are not a message (0x07 has wire type 7).
    const b = Uint8Array.from([0x08, 0x96, 0x01, 0x12, 0x02, 0x08, 0x01, 0x1d, 0x00, 0x00, 0x80, 0x3f, 0x22, 0x01, 0x07]);
    const fields = protobufFields(b).map((f) => [f.tag, f.wire, f.len, f.start, f.end]);
    assert.deepEqual(fields, [
      [0, 0, undefined, undefined, undefined],
      [3, 2, 4, 5, 7],
      [5, 0, undefined, undefined, undefined],
      [7, 5, undefined, undefined, undefined],
      [12, 2, 13, 14, 15],
    ]);
    // A cut-off file yields the fields before the cut; a nested payload cut inside is not taken for a message.
    assert.deepEqual(protobufFields(b.subarray(0, 10)).map((f) => f.tag), [0, 3, 5]);
    assert.deepEqual(protobufFields(Uint8Array.from([0x12, 0x03, 0x08, 0x96, 0x01, 0x12, 0x02, 0x08, 0x96])).map((f) => f.tag), [0, 2, 5]);
  });

  it('writes symbolic links that ops made, and a link that byte ops damaged as a plain file', () => {
    const dir = tmpDir('cnn-lens-fuzz-links-');
    try {
      const seed: Files = new Map([['w.bin', Uint8Array.from([1, 2, 3])]]);
      const linked = applyOps(seed, [{ t: 'symlink', file: 'w.bin', to: '../outside/w.bin' }, { t: 'symlink', file: 'labels.txt', to: '/etc/passwd' }]);
      writeFiles(dir, linked);
      assert.equal(fs.readlinkSync(path.join(dir, 'w.bin')), '../outside/w.bin');
      assert.equal(fs.readlinkSync(path.join(dir, 'labels.txt')), '/etc/passwd');
      const damaged = applyOps(linked, [{ t: 'setByte', file: 'w.bin', pos: 0, value: 0x41 }]);
      const dir2 = path.join(dir, 'second');
      fs.mkdirSync(dir2);
      writeFiles(dir2, damaged);
      assert.ok(fs.lstatSync(path.join(dir2, 'w.bin')).isFile());
      assert.ok(fs.lstatSync(path.join(dir2, 'labels.txt')).isSymbolicLink());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
