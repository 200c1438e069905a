/** @module Why a file under the images root was not embedded: stable codes, each with what it means. */

export const SKIP_REASONS = {
  'empty-file': 'the file is empty (0 bytes)',
  'not-an-image': 'not an image sharp can read',
  corrupt: 'the image data is corrupt or truncated',
  'too-large': 'the image has more pixels than the configured limit',
  unreadable: 'the file could not be read',
  'symlink-loop': 'a symbolic link that points back to itself',
  'outside-root': 'a symbolic link to a file or folder outside the images folder (never followed)',
  'not-a-file': 'a named pipe, socket or device, not a regular file',
} as const;

export type SkipReason = keyof typeof SKIP_REASONS;
