import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { HealthReport } from './health.js';

export interface OpsServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  health(): Promise<HealthReport>;
  metrics(): Promise<{ contentType: string; body: string }>;
  logger: Logger;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * GET /healthz (200 when healthy, else 503, JSON either way) and GET /metrics (Prometheus
 * text). Bound to HEALTH_HOST, 127.0.0.1 by default: metrics name servers by id, which is
 * for the operator's dashboard, not the internet.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const answer = async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, type: 'text/plain', body: 'method not allowed\n' };
      if (path === '/healthz') {
        const report = await options.health();
        return { status: report.status === 'ok' ? 200 : 503, type: 'application/json', body: `${JSON.stringify(report)}\n` };
      }
      if (path === '/metrics') {
        const { contentType, body } = await options.metrics();
        return { status: 200, type: contentType, body };
      }
      return { status: 404, type: 'text/plain', body: 'not found: try /healthz or /metrics\n' };
    };
    answer().then(
      ({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        options.logger.error({ err, path }, 'health or metrics request failed');
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ status: 'unhealthy', reasons: ['health check failed'] })}\n`);
      },
    );
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ host: options.host, port }, 'health and metrics listening');
  return {
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
