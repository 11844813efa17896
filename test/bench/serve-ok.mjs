// Baseline server for figure 5: a bare node:http server that reads each request body and
// answers 200, nothing else. Prints `port <n>` on stdout when ready.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(bytes > 0 ? 'ok\n' : 'empty\n');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
