"""One LightningDataModule per dataset; batches are ``(x, y)`` (see :mod:`gan_lightning.data.base`)."""

from gan_lightning.data.base import GANDataModule
from gan_lightning.data.cifar10 import CIFAR10DataModule
from gan_lightning.data.gaussian_mixture import GaussianMixtureDataModule
from gan_lightning.data.image_folder import ImageFolderDataModule
from gan_lightning.data.paired import PairedDataModule
from gan_lightning.data.torchvision_datasets import FashionMNISTDataModule, MNISTDataModule
from gan_lightning.data.unpaired import UnpairedDataModule

__all__ = [
    "GANDataModule",
    "MNISTDataModule",
    "FashionMNISTDataModule",
    "CIFAR10DataModule",
    "ImageFolderDataModule",
    "GaussianMixtureDataModule",
    "UnpairedDataModule",
    "PairedDataModule",
]
