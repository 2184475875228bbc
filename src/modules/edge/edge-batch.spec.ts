import { BatchItem, Coalescer } from './edge-batch';

describe('Coalescer', () => {
  it('runs the calls of one turn as one round per group, a repeated key in a later round', async () => {
    const rounds: string[][] = [];
    const batcher = new Coalescer<number, number>(
      async (group: string, items: Map<string, BatchItem<number, number>>) => {
        rounds.push([group, ...items.keys()]);
        await Promise.resolve();
        for (const { item, resolve } of items.values()) resolve(item * 10);
      },
    );
    const results = await Promise.all([
      batcher.submit('a', 'x', 1),
      batcher.submit('a', 'y', 2),
      batcher.submit('b', 'x', 3),
      batcher.submit('a', 'x', 4),
    ]);
    expect(results).toEqual([10, 20, 30, 40]);
    expect(rounds).toEqual([
      ['a', 'x', 'y'],
      ['b', 'x'],
      ['a', 'x'],
    ]);
  });

  it('gathers what is submitted while a round runs into the next one', async () => {
    const rounds: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new Coalescer<string, string>(async (_, items) => {
      rounds.push([...items.keys()]);
      if (rounds.length === 1) await gate;
      for (const { item, resolve } of items.values()) resolve(item);
    });
    const first = batcher.submit('', 'a', 'a');
    await new Promise((r) => setImmediate(r));
    const later = ['b', 'c', 'd'].map((k) => batcher.submit('', k, k));
    release();
    expect(await Promise.all([first, ...later])).toEqual(['a', 'b', 'c', 'd']);
    expect(rounds).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('rejects every unanswered item of a failed round, and keeps working', async () => {
    let fail = true;
    const batcher = new Coalescer<number, number>(async (_, items) => {
      const [firstKey] = items.keys();
      items.get(firstKey)!.resolve(0);
      if (fail) throw new Error('boom');
      for (const { item, resolve } of items.values()) resolve(item);
    });
    const settled = await Promise.allSettled([
      batcher.submit('', 'a', 1),
      batcher.submit('', 'b', 2),
    ]);
    expect(settled).toEqual([
      { status: 'fulfilled', value: 0 },
      { status: 'rejected', reason: new Error('boom') },
    ]);
    fail = false;
    expect(await batcher.submit('', 'c', 3)).toBe(0);
  });
});
