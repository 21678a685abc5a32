"""The CPU features that decide which embedder runtime and precision is fastest here.

Native bf16 (AVX-512 BF16, AMX) makes OpenVINO's bf16 hint fast and near-lossless; without
it bf16 is emulated and slower than float32. Int8 dot products (VNNI, AMX) speed up int8
graphs most; plain AVX2 still runs them, with a smaller gain.
"""

from __future__ import annotations

SPEED_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> dict[str, bool]:
    """Which of ``SPEED_FLAGS`` this CPU has (all False where ``cpuinfo`` cannot be read)."""
    try:
        with open(cpuinfo, encoding="utf-8") as f:
            line = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        line = ""
    flags = set(line.partition(":")[2].split())
    return {flag: flag in flags for flag in SPEED_FLAGS}


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively."""
    flags = cpu_flags()
    return flags["avx512_bf16"] or flags["amx_bf16"]
