// Types of client-node-facade.mjs for its unit test.
export function clientNodeUses(text: string): { used: Set<string>; unknown: number[] };
export function scanClientNodeNames(dirs: string[], root: string): Promise<string[]>;
export function facadeSource(names: string[], entryPath: string): string;
