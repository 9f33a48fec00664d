/** Where a command writes. process.stdout/stderr satisfy it; tests pass string collectors. */
export interface Writer {
  write(chunk: string): unknown;
}

/** A Writer that keeps everything written, for tests and for buffering. */
export class StringWriter implements Writer {
  private readonly chunks: string[] = [];
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  toString(): string {
    return this.chunks.join('');
  }
}
