import { describe, expect, it } from 'vitest';
import { formatLine } from '../../local/humanLogs.js';

describe('Function: formatLine()', () => {
  it('turns a Powertools record into one readable line with its keys, without the Lambda noise', () => {
    const record = {
      level: 'INFO',
      message: 'reconciled',
      timestamp: '2026-12-03T16:24:34.512Z',
      service: 'origin-sync',
      cold_start: false,
      function_name: 'deploy-events',
      function_request_id: 'abc',
      target: 'demo/wi-1',
      added: ['https://shop.example.com'],
    };

    const line = formatLine(JSON.stringify(record));

    expect(line).toBe('16:24:34 INFO  deploy-events reconciled  target=demo/wi-1 added=["https://shop.example.com"]');
  });

  it('shows an error by its message and a scan by its counts', () => {
    const error = formatLine(JSON.stringify({ level: 'ERROR', message: 'failed', error: { name: 'Error', message: 'boom', stack: 'at x' } }));
    const scan = formatLine(
      JSON.stringify({ level: 'INFO', message: 'drift scan finished', summary: { targetsScanned: 3, drifted: 1, repaired: 1, heldBack: 0, failed: 0, missingIntegrations: [] } }),
    );

    expect(error).toContain('error="boom"');
    expect(error).not.toContain('at x');
    expect(scan).toContain('scanned=3 drifted=1 repaired=1 heldBack=0 failed=0 missing=[]');
  });

  it('hides EMF metric records and passes everything else through unchanged', () => {
    expect(formatLine(JSON.stringify({ _aws: { Timestamp: 1 }, Reconciles: 1 }))).toBeUndefined();
    expect(formatLine('{"ready":true}')).toBe('{"ready":true}');
    expect(formatLine('plain text')).toBe('plain text');
    expect(formatLine('{not json')).toBe('{not json');
  });
});
