"""The verbs: one table (VERBS) drives the parser, DISM.exe's spelling, the
API names in messages and dispatch.  Each verb is declared, with its
options, check and action, in .images (WIM images and mounts),
.imaging (capture, apply, export, split... through WIMGAPI) or
.servicing (a session on an image), with .appx (provisioned apps) and
.settings (edition, product key, reserved storage) building on it; .verb
says what a verb is."""
from __future__ import annotations

from typing import Dict, Tuple

from . import appx, images, imaging, servicing, settings
from .verb import Verb

__all__ = ["VERBS", "VERBS_BY_NAME", "Verb"]

VERBS: Tuple[Verb, ...] = (images.VERBS + imaging.VERBS + servicing.VERBS + appx.VERBS
                           + settings.VERBS)

VERBS_BY_NAME: Dict[str, Verb] = {verb.name: verb for verb in VERBS}
