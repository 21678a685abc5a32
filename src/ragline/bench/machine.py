"""What a benchmark ran on: cores, CPU model, the CPU features that decide which embedder
backend is fastest, and library versions, recorded in its JSON."""

from __future__ import annotations

import os
import platform
import threading
import time
from importlib import metadata
from typing import Any

from ragline.embed.cpu_features import cpu_flags

PACKAGES = (
    "ragline",
    "numpy",
    "faiss-cpu",
    "bm25s",
    "torch",
    "sentence-transformers",
    "openvino",
    "nncf",
)


def machine_info() -> dict[str, Any]:
    """Cores, CPU model and speed flags, Python, platform and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "cpu_flags": cpu_flags(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


class PeakMemory:
    """Samples this process's resident memory in a thread; ``peak`` is the highest seen (bytes).

    Used as a context manager around the work to measure.
    """

    def __init__(self, interval: float = 0.05) -> None:
        import psutil

        self._process = psutil.Process()
        self.interval = interval
        self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)
