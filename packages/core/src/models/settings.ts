/** @module Where downloaded models are kept and how the hub is reached: options passed in, the environment as defaults. */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubOptions {
  /** Where downloaded models are kept. Default: $AUTOLABEL_CACHE_DIR, else $XDG_CACHE_HOME/autolabel, else ~/.cache/autolabel. */
  readonly cacheDir?: string;
  /** The hub (or a mirror) to download from. Default: $HF_ENDPOINT, else https://huggingface.co. */
  readonly endpoint?: string;
  /** Use only what is cached, never the network. Default: $HF_HUB_OFFLINE is 1. */
  readonly offline?: boolean;
  /** Access token for gated or private repositories, sent to the endpoint only. Default: $HF_TOKEN. */
  readonly token?: string;
  /** Milliseconds a connection may take to open, or a transfer may stall, before it fails. Default 30 000. */
  readonly timeoutMs?: number;
  /** Failed transfers resumed (HTTP Range) before a download gives up. Default 3. */
  readonly retries?: number;
}

export interface HubSettings {
  readonly cacheDir: string;
  readonly endpoint: string;
  readonly offline: boolean;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly retries: number;
}

/** Options filled in from the environment (the process's unless another is passed). */
export function hubSettings(options: HubOptions = {}, env: NodeJS.ProcessEnv = process.env): HubSettings {
  const flag = (value: string | undefined): boolean => value !== undefined && /^(1|true|yes|on)$/i.test(value);
  return {
    cacheDir: resolve(options.cacheDir ?? defaultCacheDir(env)),
    endpoint: (options.endpoint ?? (env.HF_ENDPOINT || DEFAULT_ENDPOINT)).replace(/\/+$/, ''),
    offline: options.offline ?? flag(env.HF_HUB_OFFLINE),
    token: options.token ?? (env.HF_TOKEN || undefined),
    timeoutMs: options.timeoutMs ?? 30_000,
    retries: options.retries ?? 3,
  };
}

/** The user's cache folder for Autolabel (XDG Base Directory specification), or AUTOLABEL_CACHE_DIR. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AUTOLABEL_CACHE_DIR) return env.AUTOLABEL_CACHE_DIR;
  const xdg = env.XDG_CACHE_HOME;
  // XDG: a relative value is invalid and ignored.
  if (xdg && isAbsolute(xdg)) return join(xdg, 'autolabel');
  return join(homedir(), '.cache', 'autolabel');
}
