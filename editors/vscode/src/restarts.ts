// When a crashed server is started again: at most `limit` times within `windowMs`.

export class RestartBudget {
  private readonly crashes: number[] = [];

  constructor(
    readonly limit = 4,
    readonly windowMs = 3 * 60 * 1000,
  ) {}

  /** Record a crash at `now`; true when the server may be restarted. */
  crashed(now: number): boolean {
    this.crashes.push(now);
    while (this.crashes.length > 0 && now - this.crashes[0]! > this.windowMs) {
      this.crashes.shift();
    }
    return this.crashes.length <= this.limit;
  }

  reset(): void {
    this.crashes.length = 0;
  }
}
