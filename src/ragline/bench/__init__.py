"""Benchmarks as commands: ingest throughput, query latency, ANN recall vs speed."""

from __future__ import annotations
