// Two local HTTP services for the example configuration: service1 on
// 127.0.0.1:8081 and service2 on 127.0.0.1:8082, each answering
// "served by NAME". Run: npm run upstreams  (Ctrl-C stops them)
import { createServer, type Server } from "node:http";

const services = [
  { name: "service1", port: Number(process.env["SERVICE1_PORT"] ?? 8081) },
  { name: "service2", port: Number(process.env["SERVICE2_PORT"] ?? 8082) },
];

const servers: Server[] = services.map(({ name, port }) => {
  const server = createServer((req, res) => {
    res.setHeader("content-type", "text/plain");
    res.end(`served by ${name}\n`);
    console.log(`${name}: ${req.method} ${req.url} (host ${req.headers.host})`);
  });
  server.listen(port, "127.0.0.1", () => console.log(`${name} listening on 127.0.0.1:${port}`));
  return server;
});

const stop = (): void => {
  for (const s of servers) s.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
