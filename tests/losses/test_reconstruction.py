"""L1 / L2 reconstruction losses against hand numbers."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.errors import ConfigError
from gan_lightning.losses import RECONSTRUCTION_LOSSES, get_reconstruction_loss, l1_loss, l2_loss

X = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
TARGET = torch.tensor([[0.0, 1.0], [0.5, 1.0]])  # differences 1, -3, 0, 2


def test_l1_hand_numbers() -> None:
    assert l1_loss(X, TARGET).item() == pytest.approx((1 + 3 + 0 + 2) / 4)


def test_l2_hand_numbers() -> None:
    assert l2_loss(X, TARGET).item() == pytest.approx((1 + 9 + 0 + 4) / 4)


def test_image_shaped_inputs_average_over_every_element() -> None:
    x = torch.zeros(2, 3, 4, 4)
    target = torch.ones(2, 3, 4, 4)
    target[0] = 3.0  # half the elements differ by 3, half by 1
    assert l1_loss(x, target).item() == pytest.approx(2.0)
    assert l2_loss(x, target).item() == pytest.approx(5.0)


def test_zero_for_identical_inputs_and_gradients() -> None:
    x = X.clone().requires_grad_(True)
    assert l1_loss(x, x.detach()).item() == 0.0
    l2_loss(x, TARGET).backward()
    torch.testing.assert_close(x.grad, 2 * (X - TARGET) / 4)


def test_registry() -> None:
    assert {"l1": l1_loss, "l2": l2_loss} == RECONSTRUCTION_LOSSES
    assert get_reconstruction_loss("l1") is l1_loss
    assert get_reconstruction_loss("l2") is l2_loss


def test_unknown_name_lists_choices() -> None:
    with pytest.raises(ConfigError) as info:
        get_reconstruction_loss("l3")
    message = str(info.value)
    assert "l3" in message and "l1" in message and "l2" in message
