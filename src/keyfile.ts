// The log's signing key on disk: created on first start (mode 0600) with its verifier key
// written beside it; on later starts, read and checked against the configured origin.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { VellumError } from './error.js';
import { nodeEd25519 } from './node-ed25519.js';
import { formatVerifierKey, generateKey, parseSignerKey, type Signer, verifierOf } from './note/keys.js';

export interface LoadedKey {
  signer: Signer;
  verifierKey: string;
  created: boolean;
}

export function loadOrCreateKey(keyPath: string, vkeyPath: string, origin: string): LoadedKey {
  let created = false;
  if (!existsSync(keyPath)) {
    const { signerKey } = generateKey(origin);
    mkdirSync(dirname(keyPath), { recursive: true });
    // 'wx': never overwrite a key that appeared meanwhile.
    writeFileSync(keyPath, `${signerKey}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  }
  let signer: Signer;
  try {
    signer = parseSignerKey(readFileSync(keyPath, 'utf8').trim(), { ed25519: nodeEd25519 });
  } catch (e) {
    throw new VellumError('CONFIG', `signing key ${keyPath}: ${(e as Error).message}`);
  }
  if (signer.name !== origin) {
    throw new VellumError(
      'CONFIG',
      `signing key ${keyPath} is for ${JSON.stringify(signer.name)}, but the origin is ${JSON.stringify(origin)}`,
    );
  }
  const verifierKey = formatVerifierKey(verifierOf(signer));
  writeFileSync(vkeyPath, `${verifierKey}\n`, { mode: 0o644 });
  return { signer, verifierKey, created };
}
