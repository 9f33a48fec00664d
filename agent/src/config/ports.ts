// Port numbers and DevSpace v6 port strings ("8080", "8080:80").

export function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

function parsePortNumber(s: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return isPort(n) ? n : undefined;
}

/** "local[:remote]" → ports, or undefined when malformed. Numbers (YAML `port: 8080`) are accepted. */
export function parsePortSpec(v: string | number): { local: number; remote: number } | undefined {
  if (typeof v === 'number') return isPort(v) ? { local: v, remote: v } : undefined;
  const parts = v.trim().split(':');
  if (parts.length > 2) return undefined;
  const local = parsePortNumber(parts[0] ?? '');
  const remote = parts.length === 2 ? parsePortNumber(parts[1] ?? '') : local;
  return local === undefined || remote === undefined ? undefined : { local, remote };
}

/** Schema check for a v2beta1 port string. */
export function checkPortSpec(v: string): string | undefined {
  return parsePortSpec(v) ? undefined : `${JSON.stringify(v)} is not a port (want "local[:remote]")`;
}
