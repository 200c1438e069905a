/** @module How tests and benchmarks start headless Chromium: the Debian package, no downloads, no background traffic. */
import { existsSync } from 'node:fs';
import { AutolabelError } from '@autolabel/core';

export interface BrowserLaunchOptions {
  readonly executablePath: string;
  readonly args: string[];
}

/** Options for playwright-core's `chromium.launch`; `AUTOLABEL_CHROMIUM` overrides the path. */
export function chromiumLaunchOptions(
  path = process.env.AUTOLABEL_CHROMIUM ?? '/usr/bin/chromium',
): BrowserLaunchOptions {
  if (!existsSync(path)) {
    throw new AutolabelError(
      'INVALID_ARGUMENT',
      `no Chromium at ${path}: install the Debian package chromium, or set AUTOLABEL_CHROMIUM`,
    );
  }
  return {
    executablePath: path,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  };
}
