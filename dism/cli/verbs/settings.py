"""The verbs changing settings of a Windows installation as a whole: its
edition, its product key and reserved storage (DISM.exe: /Set-Edition,
/Set-ProductKey, /Get-ReservedStorageState, /Set-ReservedStorageState).
Reading the edition is get-currentedition and get-targeteditions, in
.servicing.
"""
from __future__ import annotations

import argparse
from typing import Optional

import dism

from ..console import Console
from ..results import ActionResult, ServicingResult
from .servicing import change, changed, check_target, read, servicing_verb
from .verb import flag, options, value

new_edition = options(
    value("--edition", "EDITION", "the edition to change to, as get-targeteditions lists it "
          "(DISM.exe: /Set-Edition:EDITION)", required=True),
    value("--product-key", "KEY", "a product key to install with it "
          "(DISM.exe: /ProductKey)"),
    flag("--accept-eula", "accept the license terms of the new edition; required with "
         "--online (DISM.exe: /AcceptEula)"))
product_key = options(value(
    "--product-key", "KEY", "the product key, XXXXX-XXXXX-XXXXX-XXXXX-XXXXX "
    "(DISM.exe: /Set-ProductKey:KEY)", required=True))
reserved_storage_state = options(value(
    "--state", None, "turn reserved storage on or off (DISM.exe: /State)", type=str.lower,
    choices=("enabled", "disabled"), required=True))


def check_edition_change(args: argparse.Namespace) -> Optional[str]:
    problem = check_target(args)
    if problem:
        return problem
    if args.online and not args.accept_eula:
        return ("changing the edition of the running Windows needs --accept-eula, as "
                "DISM.exe's /Set-Edition needs /AcceptEula with /Online")
    return None


def check_running_windows_only(args: argparse.Namespace) -> Optional[str]:
    """DISM.exe changes reserved storage only on the running Windows: an
    offline image has no disk space reserved yet."""
    problem = check_target(args)
    if problem:
        return problem
    if not args.online:
        return ("set-reservedstoragestate changes the running Windows only (--online), as "
                "DISM.exe's /Set-ReservedStorageState does; it has no --image or --image-file")
    return None


def set_edition(args: argparse.Namespace, console: Console) -> ActionResult:
    restart = change(args, console, f"Changing the edition to {args.edition}",
                     lambda session, progress: session.set_edition(
                         args.edition, product_key=args.product_key, progress=progress))
    # The product key stays out of the result: it is a secret a log should not keep.
    return changed(args, "set-edition", restart, {"edition": args.edition})


def set_productkey(args: argparse.Namespace, console: Console) -> ActionResult:
    restart = change(args, console, None,
                     lambda session, progress: session.set_product_key(args.product_key))
    return changed(args, "set-productkey", restart, {})


def get_reservedstoragestate(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "reserved_storage_state",
                lambda session: session.get_reserved_storage_state())


def set_reservedstoragestate(args: argparse.Namespace, console: Console) -> ActionResult:
    enabled = args.state == "enabled"
    restart = change(args, console, None,
                     lambda session, progress: session.set_reserved_storage_state(enabled))
    return changed(args, "set-reservedstoragestate", restart,
                   {"state": (dism.ReservedStorageState.ENABLED if enabled
                              else dism.ReservedStorageState.DISABLED)})


VERBS = (
    servicing_verb("Set-Edition", "change the image to a higher edition",
                   (new_edition,), set_edition, check_edition_change,
                   value_option="--edition", dism_usage="/Set-Edition:EDITION", writes=True),
    servicing_verb("Set-ProductKey", "install a product key in the image",
                   (product_key,), set_productkey, value_option="--product-key",
                   dism_usage="/Set-ProductKey:KEY", writes=True),
    # DISM.exe reads it from the running Windows only; the portable engine
    # also reads an offline image's setting from its registry.
    servicing_verb("Get-ReservedStorageState", "show whether reserved storage is on",
                   (), get_reservedstoragestate),
    servicing_verb("Set-ReservedStorageState", "turn reserved storage on or off",
                   (reserved_storage_state,), set_reservedstoragestate,
                   check_running_windows_only),
)
