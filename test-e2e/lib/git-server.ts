// A smart-HTTP git server for tests (git's own `git http-backend` behind node:http), so an operator in the
// cluster can clone a repository from this machine's node address — no external git host needed.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from './exec.js';

export interface GitServer {
  /** Base URL, e.g. http://10.0.0.5:41234 ; a repo is `${url}/<name>.git`. */
  url: string;
  /** Requests served so far (path + status), to assert the operator really cloned from here. */
  requests: Array<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

/** Serve every bare repository under `root` (read-only: upload-pack only) on host:0. */
export async function startGitServer(root: string, host: string): Promise<GitServer> {
  const requests: GitServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry = { method: req.method ?? 'GET', path: url.pathname, status: 0 };
    requests.push(entry);
    if (url.pathname.endsWith('/git-receive-pack') || url.searchParams.get('service') === 'git-receive-pack') {
      entry.status = 403;
      res.writeHead(403).end('read-only');
      return;
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        CONTENT_LENGTH: req.headers['content-length'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        HTTP_GIT_PROTOCOL: (req.headers['git-protocol'] as string | undefined) ?? '',
        REMOTE_ADDR: req.socket.remoteAddress ?? '',
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    req.pipe(cgi.stdin);
    // CGI output: headers, blank line, body.
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let sep = head.indexOf('\r\n\r\n');
      let sepLen = 4;
      if (sep === -1) {
        sep = head.indexOf('\n\n');
        sepLen = 2;
      }
      if (sep === -1) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, sep).toString().split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i === -1) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = parseInt(v, 10);
        else headers[k] = v;
      }
      entry.status = status;
      res.writeHead(status, headers);
      res.write(head.subarray(sep + sepLen));
    });
    cgi.on('close', () => {
      if (!headersDone) {
        entry.status = 502;
        res.writeHead(502);
      }
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Create a bare repository `<root>/<name>.git` whose branch `branch` has one commit with `files`.
 * Returns the commit sha.
 */
export async function createBareRepo(root: string, name: string, files: Record<string, string>, branch = 'main'): Promise<string> {
  const work = join(root, `${name}.work`);
  const bare = join(root, `${name}.git`);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(work, rel)), { recursive: true });
    await writeFile(join(work, rel), content);
  }
  const git = (args: string[], cwd = work) =>
    run('git', args, {
      cwd,
      env: { GIT_AUTHOR_NAME: 'dsa e2e', GIT_AUTHOR_EMAIL: 'e2e@dsa.dev', GIT_COMMITTER_NAME: 'dsa e2e', GIT_COMMITTER_EMAIL: 'e2e@dsa.dev', GIT_CONFIG_NOSYSTEM: '1', HOME: root },
    });
  await git(['init', '-q', '-b', branch]);
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'e2e fixture']);
  await git(['clone', '-q', '--bare', work, bare], root);
  return (await git(['rev-parse', 'HEAD'])).stdout.trim();
}
