// `cnn-lens audit` on a folder built here, with a model whose predictions are known in closed form:
// 1×1 identity convolution → global average pooling → Dense(4·I) → softmax, so on a solid-colour image
// the logits are 4·(mean R, G, B)/255. The test recounts accuracy, the confusion matrix and the per-class
// numbers from the pixels it wrote, and checks the report folder (links, no network, nothing half-written).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../../src/cli/main';
import { cliScript } from '../../../src/cli/jobs';
import { initBackend } from '../../../src/engine/backend';
import { captureIO, listFiles, saveLayersModel, tmpDir, writePng } from '../helpers';
import { colourModel, LABELS, S, SCALE } from './colourModel';

/** What the model must say about a solid colour, computed here: softmax(4·rgb/255). */
function expected(rgb: number[]): { probs: number[]; predicted: number } {
  const logits = rgb.map((v) => (SCALE * v) / 255);
  const mx = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - mx));
  const sum = e.reduce((a, b) => a + b, 0);
  const probs = e.map((v) => v / sum);
  return { probs, predicted: probs.indexOf(Math.max(...probs)) };
}

interface Truth {
  image: string;
  truth: number;
  rgb: number[];
}

async function run(args: string[]) {
  const c = captureIO();
  const code = await main(args, c.io);
  return { code, out: c.out.join('\n'), err: c.err };
}

function stripVolatile(s: any) {
  const { elapsedMs, out, ...rest } = s;
  void elapsedMs;
  void out;
  return rest;
}

describe('cnn-lens audit', function () {
  this.timeout(180000);
  let dir: string;
  let folder: string;
  let modelFile: string;
  const images: Truth[] = [];

  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
    dir = tmpDir('cnn-lens-audit-');
    modelFile = await saveLayersModel(colourModel(), path.join(dir, 'model'), { metadata: { labels: LABELS } });
    folder = path.join(dir, 'val');
    const add = (rel: string, truth: number, rgb: number[]) => {
      const file = path.join(folder, ...rel.split('/'));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writePng(file, S, S, () => rgb);
      images.push({ image: rel, truth, rgb });
    };
    add('red/r1.png', 0, [200, 10, 10]);
    add('red/r2.png', 0, [150, 60, 20]);
    add('red/nested/deep/r3.png', 0, [120, 100, 30]); // nested: still red, barely
    add('Green/g1.png', 1, [10, 220, 10]); // 'Green' matches 'green' case-insensitively
    add('Green/g2.png', 1, [20, 30, 240]); // mislabeled: a blue image in green
    add('Green/g3.png', 1, [130, 120, 10]); // a green-ish yellow the model calls red
    add('blue/b1.png', 2, [0, 0, 255]);
    add('blue/b2.png', 2, [90, 20, 100]);
    fs.writeFileSync(path.join(folder, 'blue', 'broken.png'), 'this is not a png');
    fs.writeFileSync(path.join(folder, 'blue', 'notes.txt'), 'not an image name: ignored');
    fs.mkdirSync(path.join(folder, 'cats'));
    writePng(path.join(folder, 'cats', 'c1.png'), S, S, () => [1, 2, 3]);
    writePng(path.join(folder, 'loose.png'), S, S, () => [9, 9, 9]);
  });

  it('counts what a plain recount of the pixels gives, and reports the broken file and the unmatched folders', async () => {
    const out = path.join(dir, 'report');
    const r = await run(['audit', modelFile, folder, '--out', out, '--top', '2', '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const j = JSON.parse(r.out);
    assert.deepEqual(Object.keys(j), ['model', 'folder', 'images', 'accuracy', 'topK', 'classes', 'confusion', 'perClass', 'misclassified', 'failed', 'out']);

    // The recount.
    const confusion = LABELS.map(() => LABELS.map(() => 0));
    let correct = 0;
    let top2 = 0;
    const mistakes: { image: string; label: string; predicted: string; probability: number }[] = [];
    for (const im of images) {
      const { probs, predicted } = expected(im.rgb);
      confusion[im.truth][predicted]++;
      if (predicted === im.truth) correct++;
      else mistakes.push({ image: im.image, label: LABELS[im.truth], predicted: LABELS[predicted], probability: probs[predicted] });
      if (probs.filter((p) => p > probs[im.truth]).length < 2) top2++;
    }
    mistakes.sort((a, b) => b.probability - a.probability);
    assert.ok(mistakes.length >= 2 && correct >= 4, 'the folder has both mistakes and correct images');
    assert.equal(j.images, images.length);
    assert.equal(j.accuracy, correct / images.length);
    assert.equal(j.topK, top2 / images.length);
    assert.deepEqual(j.classes, LABELS);
    assert.deepEqual(j.confusion, confusion);
    for (let c = 0; c < 3; c++) {
      const tp = confusion[c][c];
      const support = confusion[c].reduce((a, b) => a + b, 0);
      const predicted = confusion.reduce((a, row) => a + row[c], 0);
      assert.equal(j.perClass[c].label, LABELS[c]);
      assert.equal(j.perClass[c].support, support);
      assert.equal(j.perClass[c].precision, predicted ? tp / predicted : null);
      assert.equal(j.perClass[c].recall, support ? tp / support : null);
    }
    assert.deepEqual(j.misclassified.map((m: any) => [m.image, m.label, m.predicted]), mistakes.map((m) => [m.image, m.label, m.predicted]));
    for (let i = 0; i < mistakes.length; i++) assert.ok(Math.abs(j.misclassified[i].probability - mistakes[i].probability) < 1e-4, `${mistakes[i].image}: ${j.misclassified[i].probability} vs ${mistakes[i].probability}`);
    assert.equal(j.failed.length, 1);
    assert.equal(j.failed[0].image, 'blue/broken.png');
    assert.match(j.failed[0].error, /broken\.png/);
    assert.equal(j.out, out);

    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    for (const key of Object.keys(j)) assert.deepEqual(summary[key], j[key], key);
    assert.equal(summary.partial, false);
    assert.deepEqual(summary.skipped.map((s: any) => s.path).sort(), ['./', 'cats/']);
    assert.match(summary.skipped.find((s: any) => s.path === 'cats/').reason, /matches no label/);
    // Every mistake is in the gallery with a heatmap for the predicted and for the true class.
    assert.deepEqual(summary.gallery.map((g: any) => g.image), mistakes.map((m) => m.image));
    for (const g of summary.gallery) for (const f of ['thumb', 'predicted', 'truth']) assert.ok(g.files[f] && fs.existsSync(path.join(out, g.files[f])), `${g.image} ${f}`);
    // The least-confident correct images: the lowest probabilities among the correct ones, lowest first.
    const correctProbs = images.map((im) => ({ im, e: expected(im.rgb) })).filter((x) => x.e.predicted === x.im.truth).sort((a, b) => a.e.probs[a.e.predicted] - b.e.probs[b.e.predicted]);
    assert.deepEqual(summary.leastConfident.map((g: any) => g.image), correctProbs.map((x) => x.im.image));
  });

  it('writes an index.html with no network reference whose every linked file exists', async () => {
    const out = path.join(dir, 'report-html');
    const r = await run(['audit', modelFile, folder, '--out', out]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out, /report: .*index\.html/);
    const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
    assert.ok(!/http/i.test(html), 'no http reference');
    assert.ok(!/<script/i.test(html), 'no script');
    const links = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    const files = links.filter((l) => !l.startsWith('#'));
    assert.ok(files.length >= 3 * 3, `images linked: ${files.length}`);
    for (const f of files) assert.ok(fs.existsSync(path.join(out, decodeURIComponent(f))), `${f} exists`);
    // Every matrix cell links to a section that lists its images.
    for (const l of links.filter((x) => x.startsWith('#cell-'))) assert.ok(html.includes(`id="${l.slice(1)}"`), l);
    assert.ok(html.includes('g2.png'));
    // Probabilities are percentages, as explain and predict write them, in the text and the page alike:
    // each mistake's, from the plain recount of its pixels.
    for (const im of images) {
      const { probs, predicted } = expected(im.rgb);
      if (predicted === im.truth) continue;
      const p = `${(100 * probs[predicted]).toFixed(1)}%`;
      assert.ok(r.out.includes(`${im.image}: ${LABELS[im.truth]} → ${LABELS[predicted]} (${p})`), `${im.image} (${p}) in:\n${r.out}`);
      assert.ok(html.includes(`predicted <b>${LABELS[predicted]}</b> (${p})`), `${im.image}: ${p} in the page`);
    }
    assert.doesNotMatch(r.out, /p=/);
    assert.doesNotMatch(html, /p=\d/);
    // Only the report and its pictures were written; nothing temporary is left beside it.
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes('.partial-')), []);
  });

  it('never writes inside FOLDER nor over a report without --force', async () => {
    const before = listFiles(folder);
    const inside = await run(['audit', modelFile, folder, '--out', path.join(folder, 'report')]);
    assert.equal(inside.code, 1);
    assert.match(inside.err[0], /inside the audited folder/);
    assert.deepEqual(listFiles(folder), before);

    const out = path.join(dir, 'report-force');
    assert.equal((await run(['audit', modelFile, folder, '--out', out])).code, 0);
    const stamp = fs.statSync(path.join(out, 'summary.json')).mtimeMs;
    const again = await run(['audit', modelFile, folder, '--out', out]);
    assert.equal(again.code, 1);
    assert.match(again.err[0], /already there; give --force/);
    assert.equal(fs.statSync(path.join(out, 'summary.json')).mtimeMs, stamp);
    assert.equal((await run(['audit', modelFile, folder, '--out', out, '--force'])).code, 0);

    const mine = path.join(dir, 'my-stuff');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'thesis.tex'), 'precious');
    const notReport = await run(['audit', modelFile, folder, '--out', mine, '--force']);
    assert.equal(notReport.code, 1);
    assert.match(notReport.err[0], /not a CNN Lens report/);
    assert.equal(fs.readFileSync(path.join(mine, 'thesis.tex'), 'utf8'), 'precious');

    // The default: cnn-lens-audit/ in the folder's parent.
    const d = await run(['audit', modelFile, folder, '--json']);
    assert.equal(d.code, 0, d.err.join('\n'));
    assert.equal(JSON.parse(d.out).out, path.join(dir, 'cnn-lens-audit'));
  });

  it('takes the true classes from --truth CSV rows instead of subfolders', async () => {
    const csv = path.join(dir, 'truth.csv');
    // g2.png is blue: labelled blue here, so it is correct; one row names an unknown label.
    fs.writeFileSync(csv, 'path,label\nred/r1.png,RED\nGreen/g2.png,blue\n"blue/b1.png",blue\ncats/c1.png,cat\n');
    const r = await run(['audit', modelFile, folder, '--truth', csv, '--out', path.join(dir, 'report-csv'), '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const j = JSON.parse(r.out);
    assert.equal(j.images, 3);
    assert.equal(j.accuracy, 1);
    assert.deepEqual(j.confusion, [
      [1, 0],
      [0, 2],
    ]);
    assert.deepEqual(j.classes, ['red', 'blue']);
  });

  it('--jobs 2 gives the same summary as --jobs 1', async function () {
    if (!cliScript()) return this.skip();
    const a = await run(['audit', modelFile, folder, '--out', path.join(dir, 'j1')]);
    const b = await run(['audit', modelFile, folder, '--out', path.join(dir, 'j2'), '--jobs', '2']);
    assert.equal(a.code, 0, a.err.join('\n'));
    assert.equal(b.code, 0, b.err.join('\n'));
    const sa = JSON.parse(fs.readFileSync(path.join(dir, 'j1', 'summary.json'), 'utf8'));
    const sb = JSON.parse(fs.readFileSync(path.join(dir, 'j2', 'summary.json'), 'utf8'));
    assert.deepEqual(stripVolatile(sb), stripVolatile(sa));
  });

  it('Ctrl-C leaves a consistent partial report and nothing half-written', async function () {
    const script = cliScript();
    if (!script) return this.skip();
    const big = path.join(dir, 'big');
    for (let i = 0; i < 400; i++) {
      const c = i % 3;
      fs.mkdirSync(path.join(big, LABELS[c]), { recursive: true });
      writePng(path.join(big, LABELS[c], `i${String(i).padStart(3, '0')}.png`), 64, 64, (x, y) => [(x * 4 + i) % 256, (y * 4) % 256, ((x + y) * 2 + c * 80) % 256]);
    }
    const out = path.join(dir, 'big-report');
    const child = spawn(process.execPath, [script, 'audit', modelFile, big, '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        // Interrupt once some images are done (the progress lines say how many).
        if (/audit \[#*-*\] [1-9]\d*\/400/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c));
    });
    assert.equal(code, 130, stderr);
    const j = JSON.parse(stdout);
    const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.equal(s.partial, true);
    assert.ok(s.images > 0 && s.images < 400, `images ${s.images}`);
    assert.equal(j.images, s.images);
    assert.equal(s.confusion.flat().reduce((a: number, b: number) => a + b, 0), s.images);
    assert.match(fs.readFileSync(path.join(out, 'index.html'), 'utf8'), /Partial report: stopped after/);
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes('.partial-') || n.includes('.old-')), []);
  });

  it('says what is wrong in one line', async () => {
    const none = await run(['audit', modelFile, path.join(dir, 'nope')]);
    assert.equal(none.code, 1);
    assert.match(none.err[0], /nope: no such folder/);
    assert.equal((await run(['audit', modelFile])).code, 2);
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    const e = await run(['audit', modelFile, empty, '--out', path.join(dir, 'report-empty')]);
    assert.equal(e.code, 0, e.err.join('\n'));
    assert.match(e.out, /no image to audit: FOLDER needs one subfolder per class/);
  });
});
