"""The per-image folder layout of CIFAR-10: ``<path>/{train,test}/<class name>/*.jpg`` (or .png).

Folder names map to torchvision's label order (airplane 0 ... truck 9); files are taken class by class
in that order, sorted by path within a class, so the order never depends on the file system.
"""

from __future__ import annotations

from pathlib import Path

from gan_lightning.data.image_files import find_images
from gan_lightning.errors import ConfigError, DatasetNotFoundError

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def scan_split(
    path: Path, split: str, class_names: list[str] = CIFAR10_CLASSES
) -> tuple[list[Path], list[int]]:
    """Image files of ``path/split`` and their label ids (index in ``class_names``).

    Raises:
        DatasetNotFoundError: ``path`` or ``path/split`` is not a folder.
        ConfigError: a class folder is missing or empty, or a sub-folder is not a class name.
    """
    layout = f"{path}/{{train,test}}/<class>/*.jpg with <class> one of {', '.join(class_names)}"
    if not path.is_dir():
        raise DatasetNotFoundError(
            f"data.path='{path}' does not exist. Point it at a folder copy of CIFAR-10 laid out as {layout}, "
            "or leave data.path=null to use torchvision's files under data.root."
        )
    folder = path / split
    if not folder.is_dir():
        raise DatasetNotFoundError(f"No '{split}' folder in data.path='{path}'. Expected {layout}.")
    found = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    unknown = [name for name in found if name not in class_names]
    missing = [name for name in class_names if name not in found]
    if unknown or missing:
        problems = ([f"missing class folders: {', '.join(missing)}"] if missing else []) + (
            [f"unknown folders: {', '.join(unknown)}"] if unknown else []
        )
        raise ConfigError(
            f"'{folder}' is not a CIFAR-10 split ({'; '.join(problems)}). It needs exactly one folder per "
            f"class, named as torchvision's classes: {', '.join(class_names)}."
        )
    paths: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(class_names):
        files = find_images(folder / name)
        if not files:
            raise ConfigError(f"The class folder '{folder / name}' holds no images. Expected {layout}.")
        paths += files
        labels += [label] * len(files)
    return paths, labels
