/** @module Ids of the things Autolabel keeps; branded so an image id is not mixed up with a row count or a fit id. */

export type ImageId = number & { readonly __brand: 'ImageId' };
