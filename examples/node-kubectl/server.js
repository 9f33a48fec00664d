// A tiny HTTP service for the dsa examples: only node:http, no dependencies to install.
import { createServer } from 'node:http';
import { hostname } from 'node:os';

const port = Number(process.env.PORT ?? 3000);
const greeting = process.env.GREETING ?? 'Hello from dsa';

const server = createServer((req, res) => {
  const body = JSON.stringify({ greeting, hostname: hostname(), path: req.url });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`${body}\n`);
});

server.listen(port, () => console.log(`listening on :${port}`));
// Exit promptly on `kubectl delete` / Ctrl-C instead of waiting for the grace period.
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
