// The Docker Engine API's progress stream (build and push answer with JSON objects, one per line):
// `{"stream": "Step 1/3 …"}`, `{"status": "Pushing", "id": …}`, `{"aux": {"ID"|"Digest": …}}` and, on
// failure, `{"error": …, "errorDetail": {…}}` (the HTTP status stays 200). Bounded: a line longer than
// MAX_LINE is cut (the daemon is another process; its output must not grow our memory without limit).
// Pure.

export const MAX_LINE = 256 * 1024;

export interface ProgressMessage {
  stream?: string;
  status?: string;
  id?: string;
  error?: string;
  aux?: { ID?: string; Digest?: string; Tag?: string };
}

export class ProgressReader {
  private buf = '';
  private dropping = false;

  /** Complete messages in `chunk` (after what came before); a line that is not JSON becomes a `stream` message. */
  feed(chunk: Buffer | string): ProgressMessage[] {
    const out: ProgressMessage[] = [];
    let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl < 0) break;
      const line = this.buf + text.slice(0, nl);
      text = text.slice(nl + 1);
      this.buf = '';
      if (this.dropping) {
        this.dropping = false;
        continue;
      }
      const m = parseLine(line);
      if (m) out.push(m);
    }
    if (this.dropping) return out;
    this.buf += text;
    if (this.buf.length > MAX_LINE) {
      out.push({ stream: `${this.buf.slice(0, 200)}… (line longer than ${MAX_LINE} bytes cut)\n` });
      this.buf = '';
      this.dropping = true;
    }
    return out;
  }

  /** Whatever is left when the stream ends. */
  end(): ProgressMessage[] {
    const line = this.buf;
    this.buf = '';
    const m = this.dropping ? undefined : parseLine(line);
    return m ? [m] : [];
  }
}

function parseLine(line: string): ProgressMessage | undefined {
  const t = line.trim();
  if (t === '') return undefined;
  try {
    const v = JSON.parse(t) as Record<string, unknown>;
    const m: ProgressMessage = {};
    if (typeof v.stream === 'string') m.stream = v.stream;
    if (typeof v.status === 'string') m.status = v.status;
    if (typeof v.id === 'string') m.id = v.id;
    const detail = v.errorDetail as { message?: unknown } | undefined;
    if (typeof v.error === 'string') m.error = v.error;
    else if (detail && typeof detail.message === 'string') m.error = detail.message;
    if (typeof v.aux === 'object' && v.aux !== null) m.aux = v.aux as ProgressMessage['aux'];
    return m;
  } catch {
    return { stream: `${t}\n` };
  }
}

/** Keeps the last `n` output lines, for the message of a failed build. */
export class TailBuffer {
  private readonly lines: string[] = [];
  constructor(private readonly n = 20) {}
  push(text: string): void {
    for (const l of text.split('\n')) {
      const line = l.replace(/\r$/, '');
      if (line.trim() === '') continue;
      this.lines.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
      if (this.lines.length > this.n) this.lines.shift();
    }
  }
  get(): string[] {
    return [...this.lines];
  }
}

/** A hint for push/pull errors whose fix is in the daemon's configuration. */
export function registryHint(error: string, registry: string): string | undefined {
  if (/server gave HTTP response to HTTPS client|http: server gave HTTP/i.test(error)) {
    return `the registry ${registry} speaks plain HTTP: add it to the Docker daemon's insecure-registries (daemon.json, or dockerd --insecure-registry ${registry})`;
  }
  if (/x509|certificate/i.test(error)) return `the registry ${registry} has a certificate the Docker daemon does not trust: add its CA to /etc/docker/certs.d/${registry}/ca.crt, or list it in insecure-registries`;
  if (/unauthorized|authentication required|denied/i.test(error)) return `log in to ${registry} (docker login ${registry}); dsa reads the credentials from ~/.docker/config.json`;
  return undefined;
}
