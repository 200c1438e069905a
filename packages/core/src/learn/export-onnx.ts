/**
 * @module Exports a trained classifier as one self-contained ONNX model: pixels -> the backbone's
 * preprocessing -> backbone -> the embedder's pooling -> feature transform -> linear head -> softmax,
 * so that it runs anywhere onnxruntime does and gives the probabilities Autolabel computes.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { onnx as OnnxSchema } from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import {
  inputSpecOf,
  normalisationOf,
  type PreprocessorConfig,
  preprocessorConfigSchema,
} from '../embed/preprocessor.js';
import type { ImageInputSpec } from '../domain/index.js';
import { AutolabelError, messageOf } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { readJsonFile } from '../util/json.js';
import { loadOnnxRuntime } from '../util/onnxruntime.js';
import { featureDim, type FeatureTransform } from './features.js';
import type { LinearHead } from './logistic.js';
import {
  FLOAT,
  type NodeProto,
  type TensorProto,
  floatInitializer,
  int64Initializer,
  int64Value,
  intAttr,
  intsAttr,
  onnxSchema,
  valueInfo,
} from './onnx-graph.js';

type ModelProto = OnnxSchema.ModelProto;
type GraphProto = OnnxSchema.IGraphProto;

/** Name of the exported model's input: float32 [N, H, W, 3], RGB values 0..255. */
export const PIXELS_INPUT = 'pixels';
/** Name of the exported model's output: float32 [N, classes], softmax probabilities. */
export const PROBABILITIES_OUTPUT = 'probabilities';
/** Metadata keys the exporter writes; callers cannot override them. */
export const METADATA_CLASSES = 'autolabel.classes';
export const METADATA_INPUT = 'autolabel.input';
export const METADATA_OUTPUT = 'autolabel.output';

/** Sign (used by the signed power) exists from opset 9. */
const MIN_OPSET = 9;
/** From opset 18, ReduceMean and ReduceL2 take their axes as an input instead of an attribute. */
const AXES_AS_INPUT_OPSET = 18;
/** Guards the L2 divisions: zero rows stay zero, as normalizeRows leaves them. */
const NORM_EPSILON = 1e-30;

export interface ExportClassifierOptions {
  /** Folder with the backbone's model.onnx and preprocessor_config.json (what `onnx:DIR` embeds with). */
  readonly backboneDir: string;
  readonly transform: FeatureTransform;
  readonly head: LinearHead;
  /** Class names, in the order of the head's columns. */
  readonly classes: readonly string[];
  /** Path of the .onnx file to write; written atomically, parent folders created. */
  readonly out: string;
  /** Extra metadata_props entries (e.g. the workspace or fit it came from). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What the exported model expects as input, as recorded in the `autolabel.input` metadata. */
export interface ExportedPixelInput {
  readonly name: string;
  readonly dtype: 'float32';
  readonly shape: readonly [string, number, number, 3];
  readonly layout: 'NHWC';
  readonly channels: 'RGB';
  readonly range: readonly [0, 255];
  readonly width: number;
  readonly height: number;
  /** How images must be resized to width x height before they are fed (sharp semantics). */
  readonly resize: { readonly fit: ImageInputSpec['fit']; readonly kernel: ImageInputSpec['kernel'] };
}

/**
 * Writes `options.out`: the backbone of `backboneDir` with a new input `pixels` (float32 [N,H,W,3],
 * RGB 0..255, already resized to the model size) and a new output `probabilities` (float32
 * [N, classes]); the backbone's own inputs and outputs are no longer exposed. Throws MODEL_NOT_FOUND,
 * MODEL_INVALID, INVALID_ARGUMENT or IO_FAILED, naming the file or argument at fault.
 */
export async function exportClassifierOnnx(options: ExportClassifierOptions): Promise<void> {
  checkArguments(options);
  const folder = resolve(options.backboneDir);
  const modelPath = join(folder, 'model.onnx');
  const configPath = join(folder, 'preprocessor_config.json');
  const out = resolve(options.out);
  if (out === modelPath)
    throw new AutolabelError('INVALID_ARGUMENT', `refusing to overwrite the backbone ${modelPath}`);

  const bytes = await readModelFile(modelPath);
  const config = await readJsonFile(configPath, preprocessorConfigSchema, 'MODEL_INVALID');
  const input = inputSpecOf(config, configPath);
  const model = decodeModel(bytes, modelPath);
  const backbone = await probeBackbone(bytes, modelPath, input);
  const width = options.transform.mean.length;
  if (backbone.dim !== width) {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `the head was fitted on ${width}-d embeddings but ${modelPath} gives ${backbone.dim} per image: was it trained on another model?`,
    );
  }

  const pixelInput: ExportedPixelInput = {
    name: PIXELS_INPUT,
    dtype: 'float32',
    shape: ['N', input.height, input.width, 3],
    layout: 'NHWC',
    channels: 'RGB',
    range: [0, 255],
    width: input.width,
    height: input.height,
    resize: { fit: input.fit, kernel: input.kernel },
  };
  appendClassifier(model, { ...backbone, modelPath, config, input, options, pixelInput });
  const encoded = onnxSchema().ModelProto.encode(model).finish();
  await checkExported(encoded, input, options.classes.length, modelPath);

  try {
    await mkdir(dirname(out), { recursive: true });
  } catch (error) {
    throw new AutolabelError('IO_FAILED', `cannot create the folder of ${out}: ${messageOf(error)}`, { cause: error });
  }
  await writeFileAtomic(out, [encoded]);
}

function checkArguments(options: ExportClassifierOptions): void {
  const { head, transform, classes } = options;
  const problems: string[] = [];
  if (classes.length !== head.classes)
    problems.push(`${classes.length} class names for a head of ${head.classes} classes`);
  if (new Set(classes).size !== classes.length) problems.push('class names are not unique');
  if (head.weights.length !== head.dim * head.classes) {
    problems.push(`head weights hold ${head.weights.length} values, expected ${head.dim} x ${head.classes}`);
  }
  if (head.bias.length !== head.classes)
    problems.push(`head bias holds ${head.bias.length} values, expected ${head.classes}`);
  if (featureDim(transform) !== head.dim) {
    problems.push(`feature transform gives ${featureDim(transform)} values, the head takes ${head.dim}`);
  }
  const p = transform.projection;
  if (p && p.components.length !== transform.mean.length * p.dim) {
    problems.push(
      `feature projection holds ${p.components.length} values, expected ${transform.mean.length} x ${p.dim}`,
    );
  }
  if (!(transform.power > 0)) problems.push(`feature transform power ${transform.power} is not positive`);
  for (const key of Object.keys(options.metadata ?? {})) {
    if (key === METADATA_CLASSES || key === METADATA_INPUT || key === METADATA_OUTPUT) {
      problems.push(`metadata key ${key} is written by the exporter`);
    }
  }
  if (problems.length > 0) throw new AutolabelError('INVALID_ARGUMENT', `cannot export: ${problems.join('; ')}`);
}

async function readModelFile(modelPath: string): Promise<Uint8Array> {
  try {
    return await readFile(modelPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new AutolabelError('MODEL_NOT_FOUND', `no backbone model at ${modelPath}`, { cause: error });
    }
    throw new AutolabelError('IO_FAILED', `cannot read ${modelPath}: ${messageOf(error)}`, { cause: error });
  }
}

function decodeModel(bytes: Uint8Array, modelPath: string): ModelProto {
  const onnx = onnxSchema();
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new AutolabelError('MODEL_INVALID', `${modelPath} is not an ONNX model: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (!model.graph) throw new AutolabelError('MODEL_INVALID', `${modelPath} has no graph`);
  const external = (model.graph.initializer ?? []).find(
    (tensor) => tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL,
  );
  if (external) {
    throw new AutolabelError(
      'MODEL_INVALID',
      `${modelPath} keeps weights in an external data file (${external.name}); export needs them inside model.onnx`,
    );
  }
  return model;
}

interface Backbone {
  readonly inputName: string;
  readonly outputName: string;
  readonly channelsLast: boolean;
  /** Rank of the first output: 2 [N,D], 3 [N,T,D] or 4 [N,C,H,W]. */
  readonly outputRank: 2 | 3 | 4;
  readonly dim: number;
}

/**
 * Loads the backbone the way the onnx embedder's worker does and runs one blank image: the input
 * it feeds, its layout and the rank of the first output decide the preprocessing and pooling.
 */
async function probeBackbone(bytes: Uint8Array, modelPath: string, input: ImageInputSpec): Promise<Backbone> {
  const ort = await loadOnnxRuntime();
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (error) {
    throw new AutolabelError('MODEL_INVALID', `${modelPath} is not a valid ONNX model: ${messageOf(error)}`, {
      cause: error,
    });
  }
  try {
    const inputName = session.inputNames[0];
    const outputName = session.outputNames[0];
    if (inputName === undefined || outputName === undefined || session.inputNames.length !== 1) {
      throw new AutolabelError(
        'MODEL_INVALID',
        `${modelPath} must have exactly one input (pixel values) and an output; it has inputs [${session.inputNames.join(', ')}]`,
      );
    }
    const meta = session.inputMetadata[0];
    if (meta?.isTensor && meta.type !== 'float32') {
      throw new AutolabelError('MODEL_INVALID', `${modelPath}: input ${inputName} is ${meta.type}, expected float32`);
    }
    const shape = meta?.isTensor ? meta.shape : [];
    // The same test as the embedder's worker.
    const channelsLast = shape.length === 4 && shape[3] === 3 && shape[1] !== 3;
    const dims = channelsLast ? [1, input.height, input.width, 3] : [1, 3, input.height, input.width];
    let output: Ort.Tensor | undefined;
    try {
      const result = await session.run({
        [inputName]: new ort.Tensor('float32', new Float32Array(dims[1]! * dims[2]! * dims[3]!), dims),
      });
      output = result[outputName];
    } catch (error) {
      throw new AutolabelError(
        'MODEL_INVALID',
        `${modelPath} fails on a ${input.width}x${input.height} image: ${messageOf(error)}`,
        { cause: error },
      );
    }
    if (output?.type !== 'float32') {
      throw new AutolabelError(
        'MODEL_INVALID',
        `${modelPath}: first output ${outputName} is ${output?.type}, expected float32`,
      );
    }
    const rank = output.dims.length;
    if (output.dims[0] !== 1 || (rank !== 2 && rank !== 3 && rank !== 4)) {
      throw new AutolabelError(
        'MODEL_INVALID',
        `${modelPath}: first output has shape [${output.dims.join(',')}] for one image; expected [1,D], [1,T,D] or [1,C,H,W]`,
      );
    }
    return {
      inputName,
      outputName,
      channelsLast,
      outputRank: rank,
      dim: rank === 3 ? output.dims[2]! : output.dims[1]!,
    };
  } finally {
    await session.release();
  }
}

interface AppendContext extends Backbone {
  readonly modelPath: string;
  readonly config: PreprocessorConfig;
  readonly input: ImageInputSpec;
  readonly options: ExportClassifierOptions;
  readonly pixelInput: ExportedPixelInput;
}

/** Rewrites `model` in place into the classifier. */
function appendClassifier(model: ModelProto, context: AppendContext): void {
  const graph = model.graph!;
  const { options, modelPath } = context;
  const opset = defaultOpset(model, modelPath);
  const irVersion = int64Value(model.irVersion) ?? 0;

  // The two public names must be free in the backbone; rename its tensors that use them.
  const taken = valueNames(graph);
  const renames = new Map<string, string>();
  for (const name of [PIXELS_INPUT, PROBABILITIES_OUTPUT]) {
    if (!taken.has(name)) continue;
    let fresh = `${name}_backbone`;
    for (let i = 1; taken.has(fresh); i++) fresh = `${name}_backbone${i}`;
    renames.set(name, fresh);
    taken.add(fresh);
  }
  if (renames.size > 0) renameValues(graph, renames);
  const backboneInput = renames.get(context.inputName) ?? context.inputName;
  const backboneOutput = renames.get(context.outputName) ?? context.outputName;

  // Every added tensor and node lives under one prefix no backbone name starts with.
  for (const node of graph.node ?? []) if (node.name) taken.add(node.name);
  let prefix = 'autolabel/';
  for (let i = 1; [...taken].some((name) => name.startsWith(prefix)); i++) prefix = `autolabel${i}/`;
  const at = (name: string): string => prefix + name;

  const initializers: TensorProto[] = [];
  const constant = (name: string, dims: number[], values: ArrayLike<number>): string => {
    initializers.push(floatInitializer(at(name), dims, Float32Array.from(values)));
    return at(name);
  };
  let nodeCount = 0;
  const node = (
    opType: string,
    inputs: string[],
    output: string,
    attribute: NodeProto['attribute'] = [],
  ): NodeProto => ({
    opType,
    name: at(`${opType.toLowerCase()}_${nodeCount++}`),
    input: inputs,
    output: [output],
    attribute,
  });
  /** ReduceMean / ReduceL2 over `axes`, in the form the backbone's opset expects. */
  const reduce = (opType: string, input: string, output: string, axes: number[], keepdims: boolean): NodeProto => {
    if (opset < AXES_AS_INPUT_OPSET)
      return node(opType, [input], output, [intsAttr('axes', axes), intAttr('keepdims', +keepdims)]);
    const axesName = at(`axes_${axes.join('_')}`);
    if (!initializers.some((t) => t.name === axesName))
      initializers.push(int64Initializer(axesName, [axes.length], axes));
    return node(opType, [input, axesName], output, [intAttr('keepdims', +keepdims)]);
  };

  // Preprocessing: value = pixel * rescale / std - mean / std per channel (as the embedder's lookup table),
  // then NHWC -> the backbone's layout.
  const { scale, offset } = normalisationOf(context.config);
  const before: NodeProto[] = [
    node('Mul', [PIXELS_INPUT, constant('pixel_scale', [3], scale)], at('scaled')),
    node(
      'Add',
      [at('scaled'), constant('pixel_offset', [3], offset)],
      context.channelsLast ? backboneInput : at('normalised'),
    ),
  ];
  if (!context.channelsLast)
    before.push(node('Transpose', [at('normalised')], backboneInput, [intsAttr('perm', [0, 3, 1, 2])]));

  // Pooling as the embedder's poolFeatures: [N,T,D] mean over T, [N,C,H,W] mean over H and W.
  const after: NodeProto[] = [];
  let features = backboneOutput;
  if (context.outputRank !== 2) {
    after.push(reduce('ReduceMean', backboneOutput, at('pooled'), context.outputRank === 3 ? [1] : [2, 3], false));
    features = at('pooled');
  }

  // Feature transform (features.ts): signed power, L2, subtract the mean, L2; reduced: times the PCA
  // projection, L2.
  const { transform, head } = options;
  after.push(
    node('Abs', [features], at('abs')),
    node('Pow', [at('abs'), constant('power', [], [transform.power])], at('abs_pow')),
    node('Sign', [features], at('sign')),
    node('Mul', [at('sign'), at('abs_pow')], at('powered')),
  );
  const epsilon = constant('epsilon', [], [NORM_EPSILON]);
  const l2Normalise = (input: string, output: string): void => {
    after.push(
      reduce('ReduceL2', input, `${output}_norm`, [1], true),
      node('Max', [`${output}_norm`, epsilon], `${output}_safe_norm`),
      node('Div', [input, `${output}_safe_norm`], output),
    );
  };
  l2Normalise(at('powered'), at('unit'));
  const width = transform.mean.length;
  after.push(node('Sub', [at('unit'), constant('mean', [width], transform.mean)], at('centred')));
  const { projection } = transform;
  if (projection) {
    l2Normalise(at('centred'), at('centred_unit'));
    after.push(
      node(
        'MatMul',
        [at('centred_unit'), constant('projection', [width, projection.dim], projection.components)],
        at('projected'),
      ),
    );
    l2Normalise(at('projected'), at('features'));
  } else {
    l2Normalise(at('centred'), at('features'));
  }

  // Linear head and softmax (logistic.ts): softmax(x W + b).
  after.push(
    node(
      'Gemm',
      [
        at('features'),
        constant('head_weights', [head.dim, head.classes], head.weights),
        constant('head_bias', [head.classes], head.bias),
      ],
      at('logits'),
    ),
    node('Softmax', [at('logits')], PROBABILITIES_OUTPUT, [intAttr('axis', 1)]),
  );

  graph.node = [...before, ...(graph.node ?? []), ...after];
  graph.initializer = [...(graph.initializer ?? []), ...initializers];
  const pixelsInfo = valueInfo(PIXELS_INPUT, FLOAT, context.pixelInput.shape);
  pixelsInfo.docString = describeInput(context.pixelInput);
  const probabilitiesInfo = valueInfo(PROBABILITIES_OUTPUT, FLOAT, ['N', head.classes]);
  probabilitiesInfo.docString = `Softmax probabilities of the classes ${JSON.stringify(options.classes)}, in that order.`;
  const keptInputs = (graph.input ?? []).filter((info) => info.name !== backboneInput);
  // IR < 4 requires every initializer to be declared as a graph input too.
  const initializerInputs =
    irVersion < 4 ? initializers.map((t) => valueInfo(t.name!, t.dataType!, (t.dims ?? []).map(Number))) : [];
  graph.input = [pixelsInfo, ...keptInputs, ...initializerInputs];
  graph.output = [probabilitiesInfo];

  const ours: Record<string, string> = {
    ...options.metadata,
    [METADATA_CLASSES]: JSON.stringify(options.classes),
    [METADATA_INPUT]: JSON.stringify(context.pixelInput),
    [METADATA_OUTPUT]: JSON.stringify({ name: PROBABILITIES_OUTPUT, dtype: 'float32', shape: ['N', head.classes] }),
  };
  model.metadataProps = [
    ...(model.metadataProps ?? []).filter((entry) => !(entry.key! in ours)),
    ...Object.entries(ours).map(([key, value]) => ({ key, value })),
  ];
  const backboneName = model.producerName ? ` (backbone from ${model.producerName})` : '';
  model.producerName = '@autolabel/core';
  model.docString =
    `Image classifier exported by Autolabel${backboneName}. ${describeInput(context.pixelInput)} ` +
    `Output "${PROBABILITIES_OUTPUT}": float32 [N, ${head.classes}], softmax probabilities of the classes in ` +
    `metadata "${METADATA_CLASSES}".`;
}

function describeInput(input: ExportedPixelInput): string {
  const resize =
    input.resize.fit === 'fill'
      ? `stretched to exactly ${input.width}x${input.height} (aspect ratio not kept)`
      : input.resize.fit === 'cover'
        ? `scaled to cover ${input.width}x${input.height} and centre-cropped`
        : `scaled to fit inside ${input.width}x${input.height} and padded with black`;
  return (
    `Input "${input.name}": float32 [N, ${input.height}, ${input.width}, 3] (NHWC), RGB values 0..255, ` +
    `decoded as 8-bit sRGB with EXIF orientation applied and alpha flattened onto white, ${resize} with a ` +
    `${input.resize.kernel} kernel before it is fed; rescaling and normalisation happen inside the model.`
  );
}

function defaultOpset(model: ModelProto, modelPath: string): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const version = int64Value(entry?.version);
  if (version === undefined) throw new AutolabelError('MODEL_INVALID', `${modelPath} imports no default ONNX opset`);
  if (version < MIN_OPSET) {
    throw new AutolabelError(
      'MODEL_INVALID',
      `${modelPath} uses ONNX opset ${version}; export needs opset ${MIN_OPSET} or later`,
    );
  }
  return version;
}

/** Every tensor and node-output name in the graph and its subgraphs. */
function valueNames(graph: GraphProto, names = new Set<string>()): Set<string> {
  const add = (name: string | null | undefined): void => {
    if (name) names.add(name);
  };
  for (const info of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) add(info.name);
  for (const tensor of graph.initializer ?? []) add(tensor.name);
  for (const sparse of graph.sparseInitializer ?? []) add(sparse.values?.name);
  for (const node of graph.node ?? []) {
    for (const name of [...(node.input ?? []), ...(node.output ?? [])]) add(name);
    for (const sub of subgraphs(node)) valueNames(sub, names);
  }
  return names;
}

function renameValues(graph: GraphProto, renames: ReadonlyMap<string, string>): void {
  const rename = (name: string): string => renames.get(name) ?? name;
  for (const info of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
    if (info.name) info.name = rename(info.name);
  }
  for (const tensor of graph.initializer ?? []) if (tensor.name) tensor.name = rename(tensor.name);
  for (const sparse of graph.sparseInitializer ?? [])
    if (sparse.values?.name) sparse.values.name = rename(sparse.values.name);
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map(rename);
    node.output = (node.output ?? []).map(rename);
    // Subgraphs (If, Loop, Scan) may read outer-scope values by name.
    for (const sub of subgraphs(node)) renameValues(sub, renames);
  }
}

function subgraphs(node: NodeProto): GraphProto[] {
  return (node.attribute ?? []).flatMap((a) => [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]);
}

/** Loads the exported bytes in onnxruntime and runs one blank image, so a broken file is never written. */
async function checkExported(
  bytes: Uint8Array,
  input: ImageInputSpec,
  classes: number,
  modelPath: string,
): Promise<void> {
  try {
    const ort = await loadOnnxRuntime();
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    try {
      const dims = [1, input.height, input.width, 3];
      const result = await session.run({
        [PIXELS_INPUT]: new ort.Tensor('float32', new Float32Array(input.height * input.width * 3), dims),
      });
      const probabilities = result[PROBABILITIES_OUTPUT];
      if (probabilities?.dims.length !== 2 || probabilities.dims[1] !== classes) {
        throw new Error(`output has shape [${probabilities?.dims.join(',')}], expected [1,${classes}]`);
      }
    } finally {
      await session.release();
    }
  } catch (error) {
    throw new AutolabelError(
      'MODEL_INVALID',
      `the classifier built on ${modelPath} does not run: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}
