/** @module Small helpers for writing ONNX graphs with onnx-proto: attributes, typed value infos, float initializers, model bytes. */
import { createRequire } from 'node:module';
import type { onnx as OnnxSchema } from 'onnx-proto';

export type NodeProto = OnnxSchema.INodeProto;
export type ValueInfoProto = OnnxSchema.IValueInfoProto;
export type TensorProto = OnnxSchema.ITensorProto;
export type AttributeProto = OnnxSchema.IAttributeProto;

let schema: typeof OnnxSchema | undefined;

/**
 * The ONNX schema (onnx-proto over protobufjs), loaded on first use rather than when core is imported:
 * most commands never write a graph. Required synchronously, so the helpers here stay plain functions;
 * the package is CommonJS (module.exports = { onnx }).
 */
export function onnxSchema(): typeof OnnxSchema {
  schema ??= (createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxSchema }).onnx;
  return schema;
}

// TensorProto.DataType values, fixed by onnx.proto; named here so that naming one loads nothing.
export const FLOAT = 1;
export const INT64 = 7;

/** Default opset and IR version of graphs built here (ONNX 1.8: every op the project uses, ReduceX axes as attributes). */
export const DEFAULT_OPSET = 13;
export const DEFAULT_IR_VERSION = 7;

export function intAttr(name: string, value: number): AttributeProto {
  return { name, type: onnxSchema().AttributeProto.AttributeType.INT, i: value };
}

export function intsAttr(name: string, values: readonly number[]): AttributeProto {
  return { name, type: onnxSchema().AttributeProto.AttributeType.INTS, ints: [...values] };
}

export function floatAttr(name: string, value: number): AttributeProto {
  return { name, type: onnxSchema().AttributeProto.AttributeType.FLOAT, f: value };
}

/** A tensor value info; string dims are symbolic (dynamic), numbers fixed. */
export function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** A float32 initializer stored as little-endian raw bytes (compact and fast to encode, unlike repeated float_data). */
export function floatInitializer(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length)
    throw new RangeError(`initializer ${name}: shape [${dims.join(',')}] needs ${size} values, got ${data.length}`);
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return { name, dataType: FLOAT, dims: [...dims], rawData: bytes };
}

/** An int64 initializer (shapes, axes inputs). */
export function int64Initializer(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  return { name, dataType: INT64, dims: [...dims], int64Data: [...values] };
}

/** A protobuf int64 field (a number, or a Long when the value came from decoding) as a JS number. */
export function int64Value(value: number | { toNumber(): number } | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'number' ? value : value.toNumber();
}

export interface ModelSpec {
  readonly name: string;
  readonly nodes: readonly NodeProto[];
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
  readonly initializers?: readonly TensorProto[];
  /** Default-domain opset; DEFAULT_OPSET when omitted. */
  readonly opset?: number;
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** The serialised ModelProto of a single graph in the default domain. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const onnx = onnxSchema();
  const model = onnx.ModelProto.create({
    irVersion: spec.irVersion ?? DEFAULT_IR_VERSION,
    opsetImport: [{ domain: '', version: spec.opset ?? DEFAULT_OPSET }],
    producerName: spec.producerName ?? '@autolabel/core',
    docString: spec.docString ?? '',
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: spec.name,
      node: [...spec.nodes],
      initializer: [...(spec.initializers ?? [])],
      input: [...spec.inputs],
      output: [...spec.outputs],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
