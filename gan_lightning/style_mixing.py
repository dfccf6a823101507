"""StyleGAN's style-mixing figure (Karras et al. 2019, Figure 3).

Two sets of latents: ``rows`` sources A (the left column) and ``columns`` sources B (the top row).
Every other cell is A's image with one group of B's styles copied in: the coarse styles (the lowest
resolutions: pose, shape), the middle ones or the fine ones (colours, texture), one block of rows per
group, so the figure has ``1 + 3 * rows`` rows of ``1 + columns`` images.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gan_lightning.errors import ConfigError

STYLE_RANGES = ("coarse", "middle", "fine")  # the layer ranges of a style-mixing figure


@torch.no_grad()
def style_mixing_figure(
    model,
    rows: int,
    columns: int,
    labels: Tensor | None = None,
    seed: int = 0,
    ema: bool | None = None,
    truncation: float | None = None,
) -> Tensor:
    """Images ((1 + 3 rows) * (1 + columns), C, S, S) in [-1, 1], row-major (the top-left cell blank).

    ``labels``: for a conditional model, the class of every image (its first entry is used).
    ``truncation``: psi of the truncation trick in W for both sets of latents.
    """
    if not getattr(model, "has_latent_w", False):
        raise ConfigError(
            "style_mixing=true mixes the styles of two latents: it needs a StyleGAN checkpoint "
            "(model=stylegan or model=stylegan2)."
        )
    if rows < 1 or columns < 1:
        raise ConfigError(f"rows and columns must be positive, got rows={rows}, columns={columns}.")
    model.eval()
    generator = model.sampling_network("generator", ema)
    rng = torch.Generator().manual_seed(seed)
    label = labels[:1].repeat(rows + columns) if labels is not None else None
    inputs = model.sample_inputs(rows + columns, rng, label, truncation)
    w = model.latents_w(inputs, ema)
    w_rows, w_columns = w[:rows], w[rows:]
    ranges = generator.style_ranges()

    def render(ws: Tensor) -> Tensor:
        return generator.synthesis(ws, noise_mode="const").float().cpu()

    row_images, column_images = render(w_rows), render(w_columns)
    blank = torch.ones_like(row_images[:1])
    cells = [blank, *column_images.split(1)]
    for group in STYLE_RANGES:
        chosen = list(ranges[group])
        for r in range(rows):
            ws = w_rows[r : r + 1, None].repeat(columns, generator.num_ws, 1)
            ws[:, chosen] = w_columns[:, None]
            cells += [row_images[r : r + 1], render(ws)]
    return torch.cat(cells)
