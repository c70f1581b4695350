// cnn-lens: the command line over the CNN Lens engine (runs the engine in-process).
import { CancelledError, errorMessage, LensError } from '../engine/errors';
import { formatOptions, parseArgs, UsageError, type OptionSpecs, type ParsedArgs } from './args';
import { AUDIT_OPTIONS, runAuditCommand } from './commands/audit';
import { EVALUATE_OPTIONS, runEvaluate } from './commands/evaluate';
import { EXPLAIN_OPTIONS, methodsHelp, runExplain } from './commands/explain';
import { INFO_OPTIONS, runInfo } from './commands/info';
import { PREDICT_OPTIONS, runPredict } from './commands/predict';
import { runSanity, SANITY_OPTIONS } from './commands/sanity';
import { VIS_COMMANDS, runVisCommand } from './commands/vis';
import { processIO, type CliIO } from './io';

interface Command {
  usage: string;
  summary: string;
  options: OptionSpecs;
  /** Printed after the options by --help. */
  more?: string;
  run: (args: ParsedArgs, io: CliIO) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  info: { usage: 'cnn-lens info MODEL [--json]', summary: 'layers, shapes, parameters, labels, preprocessing, default target layer', options: INFO_OPTIONS, run: runInfo },
  predict: { usage: 'cnn-lens predict MODEL IMAGE|FOLDER... [--top K] [--json]', summary: 'top classes for each image', options: PREDICT_OPTIONS, run: runPredict },
  explain: {
    usage: 'cnn-lens explain MODEL IMAGE|FOLDER... [--method M] [--class C] [--layer L] [--out heat.png | --out-dir DIR] [--raw map.npy] [--json]',
    summary: 'where the evidence for a class lies (Grad-CAM and 17 other methods)',
    options: EXPLAIN_OPTIONS,
    more: methodsHelp(),
    run: runExplain,
  },
  evaluate: {
    usage: 'cnn-lens evaluate MODEL IMAGE [--method M[,M…] | --method all] [--class C] [--layer L] [--steps N] [--baseline black|blur|mean] [--raw map.npy] [--plot curves.png] [--json]',
    summary: 'faithfulness of the maps: deletion and insertion curves and AUCs, beside a random map',
    options: EVALUATE_OPTIONS,
    run: runEvaluate,
  },
  sanity: {
    usage: 'cnn-lens sanity MODEL IMAGE [--method M] [--class C] [--layer L] [--seed S] [--out strip.png] [--json]',
    summary: "whether a method's map depends on the model: cascading weight randomization, Spearman and SSIM per stage",
    options: SANITY_OPTIONS,
    run: runSanity,
  },
  audit: {
    usage: 'cnn-lens audit MODEL FOLDER [--truth FILE.csv] [--method M] [--layer L] [--top K] [--out DIR] [--jobs N] [--limit N] [--json]',
    summary: 'accuracy, confusion matrix and the mistakes with their heatmaps, for a labelled folder (report in --out)',
    options: AUDIT_OPTIONS,
    run: runAuditCommand,
  },
  ...Object.fromEntries(Object.entries(VIS_COMMANDS).map(([name, c]) => [name, { ...c, run: (a: ParsedArgs, io: CliIO) => runVisCommand(name, a, io) }])),
};

const VERSION = '0.1.0';

function mainHelp(): string {
  const names = Object.keys(COMMANDS);
  const w = Math.max(...names.map((n) => n.length)) + 2;
  return [
    'cnn-lens — see what a convolutional network learned',
    '',
    'Usage: cnn-lens COMMAND MODEL [IMAGE...] [options]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(w)}${COMMANDS[n].summary}`),
    '',
    "Run 'cnn-lens COMMAND --help' for a command's options.",
    'MODEL is a TensorFlow.js model.json, a Keras .h5 or .keras file, a Keras architecture .json with --weights,',
    'or an ONNX .onnx file (torch.onnx.export, tf2onnx; image classifiers: see the README for the operators).',
  ].join('\n');
}

export async function main(argv: string[], io?: CliIO): Promise<number> {
  const verbose = argv.includes('--verbose');
  io ??= processIO(verbose);
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    io.out(VERSION);
    return 0;
  }
  const cmd = COMMANDS[name];
  try {
    if (!cmd) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    const args = parseArgs(rest, cmd.options);
    if (args.options.help) {
      io.out(`Usage: ${cmd.usage}\n\n${cmd.summary}\n\nOptions:\n${formatOptions(cmd.options)}${cmd.more ? `\n\n${cmd.more}` : ''}`);
      return 0;
    }
    return await cmd.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`cnn-lens: ${e.message}`);
      io.err(cmd ? `usage: ${cmd.usage}  (cnn-lens ${name} --help for options)` : "run 'cnn-lens --help' for the commands");
      return 2;
    }
    if (e instanceof CancelledError) {
      io.err('cnn-lens: cancelled');
      return 130;
    }
    io.err(`cnn-lens: ${errorMessage(e)}`);
    if (verbose && e instanceof Error && e.stack) io.err(e.stack);
    else if (!(e instanceof LensError)) io.err('(an internal error; run again with --verbose for details)');
    return 1;
  }
}

if (require.main === module) {
  let settled = false;
  // A library promise that never settles would let Node exit with status 0 and no output: say so instead.
  process.on('beforeExit', () => {
    if (!settled) {
      process.stderr.write('cnn-lens: internal error: the operation stopped without finishing (please report it with the model file)\n');
      process.exit(1);
    }
  });
  main(process.argv.slice(2)).then(
    (code) => {
      settled = true;
      process.exit(code);
    },
    (e) => {
      process.stderr.write(`cnn-lens: ${errorMessage(e)}\n`);
      process.exit(1);
    },
  );
}
