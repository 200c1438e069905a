/** @module @autolabel/server: the HTTP API and the web review app over one workspace. */
export { createApp, type AppOptions } from './app.js';
export { LiveModel, type LiveModelOptions } from './live-model.js';
export { mapClassesAnswer } from './map.js';
export { isLoopback, startServer, type RunningServer, type ServeOptions } from './serve.js';
