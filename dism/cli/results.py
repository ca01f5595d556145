"""What the verbs return: the results of the actions, formatted by
dism.cli.render and never by the actions themselves."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Union

import dism


@dataclass
class ImageInfoResult:
    image_file: str
    images: List[dism.ImageInfo]
    detailed: bool = False


@dataclass
class WimInfoResult:
    """get-imageinfo --header: the WIM header view (dism.get_wim_info)."""
    image_file: str
    info: dism.WimInfo


@dataclass
class ImageFilesResult:
    """list-image: the files of one image."""
    image_file: str
    files: List[dism.ImageFile]


@dataclass
class MountedImagesResult:
    mounted_images: List[dism.MountedImageInfo]


@dataclass
class ActionResult:
    operation: str
    details: Dict[str, Any] = field(default_factory=dict)
    restart_required: bool = False


@dataclass
class ServicingResult:
    """What a servicing verb read from an image.  `kind` picks the human
    renderer and is the JSON key of `value`; `context` adds JSON keys (and
    says what the human heading names, such as the package listed)."""
    kind: str
    image: str
    value: Any
    table: bool = False
    context: Dict[str, Any] = field(default_factory=dict)


#: What any verb returns.
Result = Union[ImageInfoResult, MountedImagesResult, ActionResult, ServicingResult,
               WimInfoResult, ImageFilesResult]
