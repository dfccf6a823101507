"""Image transforms shared by the datasets: tensors scaled from [0, 1] to [-1, 1]."""

from __future__ import annotations

from torchvision import transforms as T


def to_unit_range(channels: int) -> T.Compose:
    """PIL image -> float tensor (C, H, W) in [-1, 1]."""
    return T.Compose([T.ToTensor(), T.Normalize([0.5] * channels, [0.5] * channels)])


def resize_crop_to_unit_range(image_size: int) -> T.Compose:
    """Any PIL image -> RGB float tensor (3, image_size, image_size) in [-1, 1]."""
    return T.Compose(
        [
            T.Lambda(lambda img: img.convert("RGB")),
            T.Resize(image_size),
            T.CenterCrop(image_size),
            to_unit_range(3),
        ]
    )
