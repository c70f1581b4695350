import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy } from '../../../src/engine/image/npy';

describe('image/npy', () => {
  it('writes the NumPy format 1.0 header byte for byte', () => {
    const buf = encodeNpy(Float32Array.from([1.5, -2, 3, 4, 5, 6.25]), [2, 3]);
    // magic string \x93NUMPY, then major 1, minor 0
    assert.deepEqual(Array.from(buf.subarray(0, 8)), [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLen = buf[8] | (buf[9] << 8); // little-endian unsigned short
    assert.equal((10 + headerLen) % 64, 0, 'data aligned to 64 bytes');
    const header = buf.subarray(10, 10 + headerLen).toString('latin1');
    assert.ok(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header);
    assert.match(header, /^\{[^\n]*\} *\n$/, 'padded with spaces, terminated by a newline');
    assert.equal(buf.length, 10 + headerLen + 6 * 4);
    const values = [0, 1, 2, 3, 4, 5].map((i) => buf.readFloatLE(10 + headerLen + i * 4));
    assert.deepEqual(values, [1.5, -2, 3, 4, 5, 6.25]);
  });

  it('writes 1-D and 0-D shapes as Python tuples', () => {
    const h = (b: Buffer) => b.subarray(10, 10 + (b[8] | (b[9] << 8))).toString('latin1');
    assert.match(h(encodeNpy(new Float32Array(5), [5])), /'shape': \(5,\), \}/);
    assert.match(h(encodeNpy(Float32Array.from([7]), [])), /'shape': \(\), \}/);
    assert.match(h(encodeNpy(new Float32Array(0), [0, 3])), /'shape': \(0, 3\), \}/);
  });

  it('reads back what it writes, and refuses bad input', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
    const back = decodeNpy(encodeNpy(data, [2, 3, 4]));
    assert.deepEqual(back.shape, [2, 3, 4]);
    assert.deepEqual(Array.from(back.data), Array.from(data));
    assert.throws(() => encodeNpy(data, [5, 5]), /holds 25 values, got 24/);
    assert.throws(() => decodeNpy(Buffer.from('hello there, not numpy'), 'x.npy'), /^Error: x\.npy: not a NumPy \.npy file$/);
    const good = encodeNpy(data, [2, 3, 4]);
    assert.throws(() => decodeNpy(good.subarray(0, good.length - 1), 'x.npy'), /x\.npy: truncated \.npy data/);
    const fortran = Buffer.from(good);
    fortran.write("{'descr': '<f4', 'fortran_order': True , ", 10, 'latin1');
    assert.throws(() => decodeNpy(fortran, 'f.npy'), /Fortran-order/);
  });

  it('agrees with NumPy itself when python3 and numpy are installed', function () {
    const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.log('      (skipped: python3 with numpy is not installed)');
      this.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), 'cnn-lens-npy-'));
    try {
      const ours = join(dir, 'ours.npy');
      writeFileSync(ours, encodeNpy(Float32Array.from([1, -2.5, 3.25, 1e-7, 65504, -0]), [3, 2]));
      const theirs = join(dir, 'theirs.npy');
      const py = spawnSync('python3', ['-c', [
        'import numpy as np, sys, json',
        'a = np.load(sys.argv[1])',
        'print(json.dumps({"dtype": str(a.dtype), "shape": list(a.shape), "c": bool(a.flags.c_contiguous), "values": [float(v) for v in a.ravel()]}))',
        'np.save(sys.argv[2], np.arange(12, dtype=np.float32).reshape(2, 2, 3) / 4)',
      ].join('\n'), ours, theirs], { encoding: 'utf8' });
      assert.equal(py.status, 0, py.stderr);
      const got = JSON.parse(py.stdout);
      assert.equal(got.dtype, 'float32');
      assert.deepEqual(got.shape, [3, 2]);
      assert.equal(got.c, true);
      assert.deepEqual(got.values, [1, -2.5, 3.25, Math.fround(1e-7), 65504, -0]);
      const back = decodeNpy(readFileSync(theirs), 'theirs.npy');
      assert.deepEqual(back.shape, [2, 2, 3]);
      assert.deepEqual(Array.from(back.data), Array.from({ length: 12 }, (_, i) => i / 4));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
