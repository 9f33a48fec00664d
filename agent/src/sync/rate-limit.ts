// bandwidthLimits (KB/s, DevSpace's unit: × 1024 bytes): a token bucket that transfers wait on.
// Downloads are limited by consuming slowly, which the protocol's credit turns into the sidecar
// sending slowly; uploads by sending slowly.

export class RateLimiter {
  private tokens: number;
  private last = performance.now();
  private readonly rate: number;
  private readonly burst: number;

  /** `kbPerSecond` ≤ 0 or undefined: no limit. */
  constructor(kbPerSecond: number | undefined) {
    this.rate = kbPerSecond && kbPerSecond > 0 ? kbPerSecond * 1024 : 0;
    // A quarter second of burst, at least one frame, so a limit never stalls a frame for good.
    this.burst = Math.max(this.rate / 4, 256 * 1024);
    this.tokens = this.burst;
  }

  get limited(): boolean {
    return this.rate > 0;
  }

  /** Wait until `bytes` may go. */
  async take(bytes: number): Promise<void> {
    if (!this.rate || bytes <= 0) return;
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= bytes;
    if (this.tokens < 0) await new Promise((r) => setTimeout(r, (-this.tokens / this.rate) * 1000));
  }
}
