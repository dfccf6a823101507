"""Image transforms shared by the datasets: tensors scaled from [0, 1] (or uint8) to [-1, 1]."""

from __future__ import annotations

import torch
from torchvision import transforms as T


def to_unit_range(channels: int) -> T.Compose:
    """PIL image -> float tensor (C, H, W) in [-1, 1]."""
    return T.Compose([T.ToTensor(), T.Normalize([0.5] * channels, [0.5] * channels)])


def resize_crop_uint8(image_size: int) -> T.Compose:
    """Any PIL image -> RGB uint8 tensor (3, image_size, image_size): shorter side resized, centre crop."""
    return T.Compose(
        [
            T.Lambda(lambda img: img.convert("RGB")),
            T.Resize(image_size),
            T.CenterCrop(image_size),
            T.PILToTensor(),
        ]
    )


def uint8_to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (any shape) in [0, 255] -> float32 in [-1, 1] (0 -> -1, 255 -> 1)."""
    return images.float().div_(127.5).sub_(1.0)


def resize_crop_to_unit_range(image_size: int) -> T.Compose:
    """Any PIL image -> RGB float tensor (3, image_size, image_size) in [-1, 1]."""
    return T.Compose([resize_crop_uint8(image_size), T.Lambda(uint8_to_unit_range)])
