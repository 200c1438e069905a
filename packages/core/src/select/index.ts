export { NEXT_STRATEGIES, pickNext, resolveStrategy, type NextInput, type NextStrategy, type Pick } from './next.js';
