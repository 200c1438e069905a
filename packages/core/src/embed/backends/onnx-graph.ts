/** @module ONNX graph edits with onnx-proto: moves pixel normalisation into the model so onnxruntime does it on all cores. */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const PREFIX = 'autolabel_preprocess/';
export const PIXEL_INPUT = `${PREFIX}pixels`;

export interface PixelInputOptions {
  readonly height: number;
  readonly width: number;
  /** Per channel: model input = pixel * scale + offset. */
  readonly scale: readonly number[];
  readonly offset: readonly number[];
}

/**
 * Returns the model with a new first input `PIXEL_INPUT`, uint8 [N,H,W,3] (packed RGB as decoded),
 * feeding Cast -> Mul -> Add -> Transpose into the original float NCHW input; undefined when the
 * model is not of that shape (the caller then normalises in JavaScript).
 */
export function withPixelInput(modelBytes: Uint8Array, options: PixelInputOptions): Uint8Array | undefined {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  const original = graph?.input?.[0];
  const tensorType = original?.type?.tensorType;
  const dims = tensorType?.shape?.dim;
  if (!graph || !original?.name || !tensorType || tensorType.elemType !== onnx.TensorProto.DataType.FLOAT)
    return undefined;
  if (!dims || dims.length !== 4 || Number(dims[1]?.dimValue ?? 0) !== 3) return undefined;
  // Old models list inputs that are really weights among the initializers; leave those alone.
  if ((graph.initializer ?? []).some((init) => init.name === original.name)) return undefined;

  const name = (suffix: string): string => `${PREFIX}${suffix}`;
  const batch = dims[0] ?? { dimParam: 'batch' };
  const floatVector = (suffix: string, values: readonly number[]): onnxProto.onnx.ITensorProto => ({
    name: name(suffix),
    dataType: onnx.TensorProto.DataType.FLOAT,
    dims: [3],
    floatData: [...values],
  });
  const pixelInput: onnxProto.onnx.IValueInfoProto = {
    name: PIXEL_INPUT,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.UINT8,
        shape: { dim: [batch, { dimValue: options.height }, { dimValue: options.width }, { dimValue: 3 }] },
      },
    },
  };
  const nodes: onnxProto.onnx.INodeProto[] = [
    {
      opType: 'Cast',
      name: name('cast'),
      input: [PIXEL_INPUT],
      output: [name('float')],
      attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnx.TensorProto.DataType.FLOAT }],
    },
    { opType: 'Mul', name: name('scale'), input: [name('float'), name('scale_value')], output: [name('scaled')] },
    {
      opType: 'Add',
      name: name('offset'),
      input: [name('scaled'), name('offset_value')],
      output: [name('normalised')],
    },
    {
      opType: 'Transpose',
      name: name('to_nchw'),
      input: [name('normalised')],
      output: [original.name],
      attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 3, 1, 2] }],
    },
  ];
  graph.node = [...nodes, ...(graph.node ?? [])];
  graph.initializer = [
    floatVector('scale_value', options.scale),
    floatVector('offset_value', options.offset),
    ...(graph.initializer ?? []),
  ];
  graph.input = [pixelInput, ...graph.input!.slice(1)];
  return onnx.ModelProto.encode(model).finish();
}
