"""Prometheus metrics, served on their own loopback port when enabled.

Each server gets its own registry so several can live in one process (tests, benchmarks).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from service.credentials import CredentialStats

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls = Counter(
            "cloudfront_facade_calls",
            "gRPC calls handled, by method and status code.",
            ["method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cloudfront_facade_call_duration_seconds",
            "gRPC call latency, by method.",
            ["method"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "cloudfront_facade_in_flight_calls",
            "gRPC calls being handled now.",
            registry=self.registry,
        )
        self.upstream_calls = Counter(
            "cloudfront_facade_upstream_calls",
            "CloudFront API calls, by operation.",
            ["operation"],
            registry=self.registry,
        )
        self.upstream_retries = Counter(
            "cloudfront_facade_upstream_retries",
            "Retries the AWS SDK made, by operation.",
            ["operation"],
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "cloudfront_facade_upstream_errors",
            "CloudFront calls that failed, by operation and AWS error code.",
            ["operation", "aws_code"],
            registry=self.registry,
        )

    def watch_credentials(self, stats: CredentialStats) -> None:
        """Export the AWS credentials' refreshes and expiry, read from `stats` at each scrape
        (refreshes before metrics started, the one at start-up included, are counted too)."""
        self.registry.register(_CredentialCollector(stats))

    def serve(self, listen: str) -> int:
        """Start the HTTP exporter on a daemon thread; returns the bound port."""
        host, _, port = listen.rpartition(":")
        server, _thread = start_http_server(
            int(port), addr=host.strip("[]"), registry=self.registry
        )
        self._server = server
        return int(server.server_address[1])

    def close(self) -> None:
        server = getattr(self, "_server", None)
        if server is not None:
            server.shutdown()
            server.server_close()

    def observe_call(self, method: str, code: str, seconds: float) -> None:
        self.calls.labels(method, code).inc()
        self.latency.labels(method).observe(seconds)

    def observe_upstream(self, operation: str, retries: int, aws_code: str | None) -> None:
        self.upstream_calls.labels(operation).inc()
        if retries:
            self.upstream_retries.labels(operation).inc(retries)
        if aws_code is not None:
            self.upstream_errors.labels(operation, aws_code).inc()


class _CredentialCollector(Collector):
    def __init__(self, stats: CredentialStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        refreshes = CounterMetricFamily(
            "aws_credential_refreshes",
            "AWS credential fetches (at start and each refresh), by source and result.",
            labels=["source", "result"],
        )
        for (source, result), count in sorted(self._stats.refreshes.items()):
            refreshes.add_metric([source, result], count)
        yield refreshes
        expiry = GaugeMetricFamily(
            "aws_credential_seconds_to_expiry",
            "Seconds until the AWS credentials held expire (temporary credentials only).",
            labels=["source"],
        )
        for source, seconds in sorted(self._stats.seconds_to_expiry().items()):
            expiry.add_metric([source], seconds)
        yield expiry
