// What the deploy pipeline needs from git: a checkout of url@ref in a temp folder. operator/src/git
// implements it with isomorphic-git; tests can pass a fake.
export interface GitCheckout {
  /** Root of the working tree. */
  dir: string;
  /** Resolved commit (for messages). */
  commit?: string;
  /** Removes the checkout. */
  cleanup(): Promise<void>;
}

export interface GitFetcher {
  checkout(url: string, ref: string | undefined, signal?: AbortSignal): Promise<GitCheckout>;
}
