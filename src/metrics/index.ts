export { DaemonMetrics, type MetricsSource } from './registry.js';
export { MetricsFile, METRICS_FILE_PERIOD_MS } from './file-exporter.js';
export { startMetricsServer, type MetricsServer } from './http-exporter.js';
export { isLoopback, parseListenAddress, type ListenAddress } from './listen-address.js';
