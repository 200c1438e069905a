export * from './bounds.js';
export * from './certify.js';
export * from './design.js';
export * from './estimate.js';
