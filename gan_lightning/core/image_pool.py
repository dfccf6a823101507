"""A pool of past generated images (Shrivastava et al., 2017), as CycleGAN feeds its discriminators.

The discriminator is shown a mix of the newest fakes and older ones, so it does not forget what the
generator used to produce and the two do not oscillate. :meth:`ImagePool.query` takes a batch of
fakes; each image, while the pool holds fewer than ``size``, is stored and returned unchanged; once
the pool is full it is, with probability 1/2, swapped for a uniformly chosen stored image (which is
returned, the new image taking its place) and otherwise returned itself.

The stored images are a buffer, so they are saved with the module's ``state_dict`` (in Lightning
checkpoints); with the state of the ``torch.Generator`` that draws the swaps, a resumed run gets
exactly the batches an uninterrupted one would. Under DDP each rank queries its own pool (with
DDP's default ``broadcast_buffers`` the pools are overwritten by rank 0's before every forward, which
keeps them identical; every rank queries as many images, so their sizes always agree).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_lightning.errors import ConfigError


class ImagePool(nn.Module):
    """Up to ``size`` past images, in the buffer ``images`` shaped (k, C, H, W) (``(0,)`` while empty).

    Args:
        size: how many images the pool holds (CycleGAN: 50); 0 turns it off (:meth:`query` is the
            identity).
    """

    images: Tensor

    def __init__(self, size: int = 50) -> None:
        super().__init__()
        if size < 0:
            raise ConfigError(f"The image pool size must be at least 0 (0 turns it off), got {size}.")
        self.size = size
        self.register_buffer("images", torch.empty(0))

    def __len__(self) -> int:
        return self.images.shape[0]

    def extra_repr(self) -> str:
        return f"size={self.size}, stored={len(self)}"

    @torch.no_grad()
    def query(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Return a batch shaped like ``images`` (detached) mixing them with stored ones, as above.

        The coin flips and the indices are drawn from ``generator`` (on its device: pass a CPU
        generator so results do not depend on where the images live), or from PyTorch's global CPU
        generator when it is ``None``. Nothing is drawn when ``size`` is 0.
        """
        images = images.detach()
        if self.size == 0:
            return images
        if len(self) and self.images.shape[1:] != images.shape[1:]:
            raise ValueError(
                f"The image pool holds images shaped {tuple(self.images.shape[1:])}, "
                f"got a batch shaped {tuple(images.shape)}."
            )
        n = images.shape[0]
        device = generator.device if generator is not None else torch.device("cpu")
        swap = (torch.rand(n, generator=generator, device=device) < 0.5).tolist()
        picks = torch.randint(self.size, (n,), generator=generator, device=device).tolist()
        out = images.clone()
        for i in range(n):
            if len(self) < self.size:
                self._store(images[i])
            elif swap[i]:
                j = picks[i]
                out[i] = self.images[j].to(out)
                self.images[j] = images[i].to(self.images)
        return out

    def _store(self, image: Tensor) -> None:
        image = image.unsqueeze(0)
        if len(self):
            self.images = torch.cat([self.images, image.to(self.images)])
        else:
            self.images = image.clone()

    def _load_from_state_dict(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        """Give the buffer the saved shape (a pool of any fill) before the tensors are copied."""
        saved = state_dict.get(prefix + "images")
        if isinstance(saved, Tensor):
            self.images = torch.empty(saved.shape, dtype=saved.dtype, device=self.images.device)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        if len(self) > self.size:  # the pool was made smaller since the checkpoint
            self.images = self.images[: self.size].clone() if self.size else torch.empty(0).to(self.images)
