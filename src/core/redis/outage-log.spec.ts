import { Logger } from '@nestjs/common';
import { OutageLog } from './outage-log';

function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
}

describe('OutageLog', () => {
  const lines: string[] = [];
  const logger = {
    warn: (line: string) => void lines.push(`warn ${line}`),
    log: (line: string) => void lines.push(`log ${line}`),
  } as unknown as Logger;
  beforeEach(() => (lines.length = 0));

  it('reports an outage once, however many reconnect attempts fail, and its end once', () => {
    const outage = new OutageLog(logger, 'queue photo-analysis');
    outage.recovered(); // a first 'ready' is not a recovery
    for (let i = 0; i < 50; i++) outage.error(refused());
    outage.recovered();
    outage.recovered();
    outage.error(refused());
    expect(lines).toEqual([
      'warn queue photo-analysis unavailable: connect ECONNREFUSED 127.0.0.1:6379',
      'log queue photo-analysis reconnected (after 49 failed attempts)',
      'warn queue photo-analysis unavailable: connect ECONNREFUSED 127.0.0.1:6379',
    ]);
  });

  it('always reports an error that is not about the connection, even during an outage', () => {
    const outage = new OutageLog(logger, 'worker');
    outage.error(refused());
    outage.error(new Error('Missing lock for job 42. moveToFinished'));
    outage.error(new Error('Missing lock for job 42. moveToFinished'));
    expect(lines).toEqual([
      'warn worker unavailable: connect ECONNREFUSED 127.0.0.1:6379',
      'warn worker: Missing lock for job 42. moveToFinished',
      'warn worker: Missing lock for job 42. moveToFinished',
    ]);
  });
});
