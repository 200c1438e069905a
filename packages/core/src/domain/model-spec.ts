/** @module Model specs: what names a model, an ONNX folder (`onnx:PATH`) or a built-in one (`builtin:NAME`). */

export type ModelSpec =
  { readonly kind: 'onnx'; readonly path: string } | { readonly kind: 'builtin'; readonly name: string };
