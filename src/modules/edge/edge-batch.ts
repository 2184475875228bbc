/** One call waiting in a round: its input, and how to answer it. */
export interface BatchItem<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

interface Round<I, O> {
  group: string;
  items: Map<string, BatchItem<I, O>>;
}

/**
 * Gathers calls made at about the same time into rounds, each run as one statement: the calls
 * made in one turn of the event loop, or while the previous rounds were running (then the next
 * rounds hold everything that queued up meanwhile). A lone call waits one `setImmediate`, no more.
 *
 * A round holds calls of one group (e.g. one claim mode), each key at most once (an agent, a
 * command): a second call with a key already queued goes into a later round. Rounds run one at
 * a time, in order; `run` answers every item (an item it leaves unanswered is rejected).
 */
export class Coalescer<I, O> {
  private queued: Round<I, O>[] = [];
  private running = false;

  constructor(
    private readonly run: (group: string, items: Map<string, BatchItem<I, O>>) => Promise<void>,
  ) {}

  submit(group: string, key: string, item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      let round = this.queued.find((r) => r.group === group && !r.items.has(key));
      if (!round) this.queued.push((round = { group, items: new Map() }));
      round.items.set(key, { item, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.length) {
        const rounds = this.queued;
        this.queued = [];
        // One after the other: two calls with one key run in the order they were made.
        for (const round of rounds) await this.runRound(round);
      }
    } finally {
      this.running = false;
    }
  }

  private async runRound({ group, items }: Round<I, O>): Promise<void> {
    let failure: unknown = new Error('not processed by its batch');
    try {
      await this.run(group, items);
    } catch (err) {
      failure = err;
    }
    // Settling a promise twice is a no-op: this only reaches the items `run` left unanswered.
    for (const { reject } of items.values()) reject(failure);
  }
}
