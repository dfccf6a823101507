"""What a CUDA GPU changes: the defaults that pay off only there, and CUDA's process-wide math switches.

Options left ``null`` in the configs are decided here, so that one command is fast on either kind of
machine and nothing changes on the CPU (where every choice below keeps what the CPU always did):

- data loading (:func:`loader_workers`, :func:`pin_memory`, :func:`decode_cache`): on CUDA, the
  decode cache of image folders (the step never waits for JPEG decoding), pinned host memory for the
  copy to the GPU, and persistent loader workers where batches do not already come from memory; on
  the CPU, none of them;
- the optimizer (:func:`fused_optimizer`): PyTorch's fused Adam / AdamW / SGD kernel on CUDA;
- CUDA's math (:func:`configure_cuda`): TF32 matrix products and convolutions (``cuda.tf32=false``
  asks for full fp32), cuDNN's autotuner (``cuda.cudnn_benchmark``).
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import torch

#: loader workers on CUDA when ``data.num_workers`` is null (at most the machine's cores)
CUDA_LOADER_WORKERS = 4


def cuda_available() -> bool:
    return torch.cuda.is_available()


def loader_workers(requested: int | None, in_memory: bool = False) -> int:
    """``data.num_workers``: as given; null = 4 persistent workers on CUDA, unless the batches come from
    memory (``data.on_device``, the decode cache: workers would only add copying), 0 on the CPU."""
    if requested is not None:
        return requested
    if in_memory or not cuda_available():
        return 0
    return min(CUDA_LOADER_WORKERS, os.cpu_count() or 1)


def pin_memory(requested: bool | None) -> bool:
    """``data.pin_memory``: as given; null = on CUDA only."""
    return cuda_available() if requested is None else requested


def decode_cache(requested: bool | None) -> bool:
    """``data.cache`` of image folders: as given; null = on CUDA only (decoding every image at every
    epoch would starve the GPU)."""
    return cuda_available() if requested is None else requested


def fused_optimizer(options: dict[str, Any], optimizer_class: type, device: torch.device) -> dict[str, Any]:
    """The optimizer's options with ``fused=True`` when ``fused`` is null, the parameters live on a CUDA
    device and the class has a fused kernel (Adam, AdamW, SGD); otherwise unchanged."""
    if options.get("fused") is not None or device.type != "cuda":
        return options
    if "fused" not in inspect.signature(optimizer_class).parameters:
        return options
    return {**options, "fused": True}


def configure_cuda(tf32: bool = True, cudnn_benchmark: bool = True) -> None:
    """Set CUDA's process-wide math: TF32 for float32 matrix products and cuDNN convolutions (about 10
    bits of mantissa in the products, fp32 accumulation; ``tf32=False``: full fp32), and cuDNN's
    autotuner, which times the convolution algorithms once per shape. Nothing happens without CUDA."""
    if not cuda_available():
        return
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = cudnn_benchmark
