import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { envName, isLoopback, loadConfig } from '../../src/config.js';

describe('config', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ data: './data', listen: '127.0.0.1:50051', durable: true, maxBatch: 1024 });
    expect(c).toMatchObject({ tileCacheSize: 4096, leveldbMaxOpenFiles: 1000, dedupFilterBits: 10 });
    expect(c.key).toBe(join('./data', 'log.key'));
  });

  it('flags override environment, which overrides the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vellum-config-'));
    const file = join(dir, 'vellum.yaml');
    writeFileSync(file, 'origin: file.example/log\nmaxBatch: 10\nmaxDelayMs: 7\n');
    const c = loadConfig({
      file,
      env: { [envName('maxBatch')]: '20', VELLUM_DURABLE: 'false', VELLUM_LEVELDB_MAX_OPEN_FILES: '80' },
      flags: { maxDelayMs: '9', listen: undefined },
    });
    expect(c).toMatchObject({ origin: 'file.example/log', maxBatch: 20, maxDelayMs: 9, durable: false });
    expect(c.leveldbMaxOpenFiles).toBe(80);
    expect(loadConfig({ env: { VELLUM_DEDUP_FILTER_BITS: '0' } }).dedupFilterBits).toBe(0);
    expect(() => loadConfig({ flags: { dedupFilterBits: '65' } })).toThrow(
      expect.objectContaining({ code: 'CONFIG' }),
    );
    expect(() => loadConfig({ flags: { leveldbMaxOpenFiles: '10' } })).toThrow(
      expect.objectContaining({ code: 'CONFIG' }),
    );
    expect(envName('metricsListen')).toBe('VELLUM_METRICS_LISTEN');
  });

  it('reports every invalid setting by name', () => {
    expect(() => loadConfig({ flags: { maxBatch: 'lots', listen: 'nowhere', origin: 'has space' } })).toThrow(
      expect.objectContaining({
        code: 'CONFIG',
        message: expect.stringMatching(/maxBatch[\s\S]*listen|listen[\s\S]*maxBatch/),
      }),
    );
    expect(() => loadConfig({ flags: { unknownSetting: 1 } })).toThrow(/unknownSetting/);
    expect(() => loadConfig({ flags: { tlsCert: 'a.pem' } })).toThrow(/tlsCert and tlsKey/);
    expect(() => loadConfig({ file: '/nonexistent/vellum.yaml' })).toThrow(/config file/);
  });

  it('arbitrary settings only ever fail with CONFIG', () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.double(),
      fc.array(fc.string(), { maxLength: 2 }),
    );
    const key = fc.oneof(
      fc.constantFrom(
        'data',
        'listen',
        'origin',
        'maxBatch',
        'maxDelayMs',
        'durable',
        'tileCacheSize',
        'leveldbMaxOpenFiles',
        'dedupFilterBits',
        'metricsListen',
        'logLevel',
        'tlsCert',
      ),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), (flags) => {
        try {
          loadConfig({ flags });
        } catch (e) {
          expect(e).toMatchObject({ code: 'CONFIG' });
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('knows loopback addresses', () => {
    expect(isLoopback('127.0.0.1:1')).toBe(true);
    expect(isLoopback('[::1]:1')).toBe(true);
    expect(isLoopback('localhost:1')).toBe(true);
    expect(isLoopback('0.0.0.0:1')).toBe(false);
    expect(isLoopback('10.0.0.1:1')).toBe(false);
  });
});
