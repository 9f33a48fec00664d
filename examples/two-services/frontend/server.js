// The frontend asks the backend (its devspace dependency) and wraps the answer.
import { createServer, get } from 'node:http';
import { hostname } from 'node:os';

const port = Number(process.env.PORT ?? 3000);
const backend = process.env.BACKEND_URL ?? 'http://backend:8080/api.json';

function fetchBackend() {
  return new Promise((resolve) => {
    const req = get(backend, { timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve({ error: `backend answered ${res.statusCode} with non-JSON` });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: err.message }));
  });
}

const server = createServer(async (_req, res) => {
  const body = JSON.stringify({ frontend: hostname(), backend: await fetchBackend() });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`${body}\n`);
});
server.listen(port, () => console.log(`frontend on :${port}, backend ${backend}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
