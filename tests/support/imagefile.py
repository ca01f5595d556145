"""Unmounted-image sessions (dism.Session.open_image_file): the WIMs they are
tested on, every read call of a Session made the same way on any session so
that two sessions can be compared, and running a reader as `nobody`."""
from __future__ import annotations

import dataclasses
import enum
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import dism
from dism.testing import WindowsImageSpec, build_wim, build_windows_tree, sample_servicing_spec

from . import SHARED_REAL
from .imaging import wimlib

REAL_SYSTEM_HIVE = SHARED_REAL / "regipy__SYSTEM_WIN_10_1709"
REAL_DRIVER_COUNT = 238
NOBODY_UID = NOBODY_GID = 65534
AREA_PREFIX = "dism-session-"


def real_hive_tree(root: Path) -> Path:
    """The sample servicing tree with the real Windows 10 1709 SYSTEM hive in
    place of the generated one.  The generated DRIVERS hive goes: Windows 10
    keeps its driver database there when it has one, and this SYSTEM hive
    holds the image's own (238 packages)."""
    build_windows_tree(root, sample_servicing_spec())
    config = root / "Windows" / "System32" / "config"
    (config / "DRIVERS").unlink()
    shutil.copyfile(REAL_SYSTEM_HIVE, config / "SYSTEM")
    return root


def capture(tree: Path, wim: Path, *extra: str) -> Path:
    wimlib("capture", tree, wim, "Real", *extra)
    return wim


def export_solid(wim: Path, esd: Path) -> Path:
    """`wim` as a solid (LZMS) ESD, as Microsoft ships install.esd."""
    wimlib("export", wim, "all", esd, "--solid")
    return esd


def split_wim(parts: Path) -> Path:
    """A WIM of one image split into several parts in the empty folder
    `parts`; returns the first part (part.swm)."""
    # Two payload files larger than a part, so that there are several
    # parts (wimlib never splits a file, and a small WIM stays one part).
    whole = build_wim(parts / "whole.wim", [WindowsImageSpec(name="Split",
                                                             payload_bytes=64 * 1024)])
    wimlib("split", whole, parts / "part.swm", "0.01")
    assert (parts / "part2.swm").exists(), "the split made a single part"
    return parts / "part.swm"


def areas(parent: Path) -> List[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(AREA_PREFIX))


# ---------------------------------------------------------------------------
# Every read of a session, comparable between sessions
# ---------------------------------------------------------------------------

def plain(value: Any, roots: Tuple[str, ...]) -> Any:
    """`value` as plain data, with each session's image root written "<root>"
    (a mounted image's paths name its mount, an unmounted one's its area)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), roots) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v, roots) for v in value]
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, str):
        for root in roots:
            value = value.replace(root, "<root>")
        return value
    return value


def outcome(call: Callable[[], Any], roots: Tuple[str, ...]) -> Any:
    """What a call gives, or the class and code of what it raises."""
    try:
        return plain(call(), roots)
    except dism.DismError as error:
        return ("raised", type(error).__name__, error.hresult)


def session_root(session: dism.Session) -> str:
    """The image root a session reads, from where it says SYSTEM lies."""
    system = session.get_registry_mount_point(dism.RegistryHive.SYSTEM)
    return system[: -len("/Windows/System32/config/SYSTEM")]


def read_everything(session: dism.Session) -> Dict[str, Any]:
    """Every read function of Session, on everything the image lists."""
    roots = (session_root(session),)
    out: Dict[str, Any] = {}

    def record(key: str, call: Callable[[], Any]) -> None:
        out[key] = outcome(call, roots)

    record("features", session.get_features)
    for f in session.get_features():
        record(f"feature {f.name}", lambda n=f.name: session.get_feature_info(n))
        record(f"parents {f.name}", lambda n=f.name: session.get_feature_parents(n))
    record("packages", session.get_packages)
    for p in session.get_packages():
        record(f"package {p.name}", lambda n=p.name: session.get_package_info(n))
    record("drivers", lambda: session.get_drivers())
    record("all drivers", lambda: session.get_drivers(all_drivers=True))
    for d in session.get_drivers(all_drivers=True):
        record(f"driver {d.published_name}", lambda n=d.published_name: session.get_driver_info(n))
    record("capabilities", session.get_capabilities)
    for c in session.get_capabilities():
        record(f"capability {c.name}", lambda n=c.name: session.get_capability_info(n))
    record("appx", session.get_provisioned_appx_packages)
    record("edition", session.get_current_edition)
    record("target editions", session.get_target_editions)
    record("reserved storage", session.get_reserved_storage_state)
    record("health", session.check_health)
    record("image info", session.get_image_info)
    for hive in dism.RegistryHive:
        record(f"hive {hive.name}", lambda h=hive: session.get_registry_mount_point(h))
    record("product key", lambda: session.get_product_key_info("NPPR9-FWDCX-D2C8J-H872K-2YT43"))
    return out


def write_outcomes(session: dism.Session, work: Path) -> Dict[str, Any]:
    """Every write of Session, each expected to be refused, and how."""
    inf = work / "driver.inf"
    inf.write_text("[Version]\nSignature=\"$WINDOWS NT$\"\n")
    writes: Dict[str, Callable[[], Any]] = {
        "enable feature": lambda: session.enable_features("TelnetClient"),
        "disable feature": lambda: session.disable_features("SMB1Protocol"),
        "add package": lambda: session.add_package(work),
        "remove package": lambda: session.remove_package(session.get_packages()[0].name),
        "add driver": lambda: session.add_driver(inf),
        "remove driver": lambda: session.remove_driver("oem0.inf"),
        "add capability": lambda: session.add_capability("OpenSSH.Server~~~~0.0.1.0"),
        "remove capability": lambda: session.remove_capability("OpenSSH.Client~~~~0.0.1.0"),
        "remove appx": lambda: session.remove_provisioned_appx_package(
            session.get_provisioned_appx_packages()[0].package_name),
        "restore health": lambda: session.restore_health(),
        "reserved storage": lambda: session.set_reserved_storage_state(False),
        "set edition": lambda: session.set_edition("Enterprise"),
        "product key": lambda: session.set_product_key("NPPR9-FWDCX-D2C8J-H872K-2YT43"),
        "commit": lambda: session.commit(),
    }
    return {name: outcome(call, ()) for name, call in writes.items()}


# ---------------------------------------------------------------------------
# A reader that is not root
# ---------------------------------------------------------------------------

# Run by a root interpreter that imports dism, then drops to nobody for good
# before DISM is initialized: the interpreter under test may live where
# nobody cannot read it (root's home), which `setpriv python` could not start.
_AS_NOBODY = """
import json, os, sys
import dism
os.setgroups([])
os.setgid({gid})
os.setuid({uid})
assert os.geteuid() == {uid} and os.getegid() == {gid}
out = {{"euid": os.geteuid()}}
try:
    dism.mount(sys.argv[1], sys.argv[2], index=1, read_only=True)
    out["mount"] = "mounted"
except dism.DismError as error:
    out["mount"] = type(error).__name__
with dism.Session.open_image_file(sys.argv[1], index=1) as session:
    drivers = session.get_drivers(all_drivers=True)
    out["drivers"] = sorted(d.published_name for d in drivers)
    out["edition"] = session.get_current_edition()
    out["area_uid"] = os.stat(session.get_registry_mount_point(dism.RegistryHive.SYSTEM)).st_uid
print(json.dumps(out))
"""


def public_directory() -> Path:
    """A directory nobody can reach (pytest's own are root's alone); the
    caller removes it."""
    public = Path(tempfile.mkdtemp(prefix="dism-public-", dir="/tmp"))
    os.chmod(public, 0o755)
    return public


def read_as_nobody(wim: Path, public: Path) -> Tuple[Dict[str, Any], Path]:
    """Lists the drivers of `wim` as nobody (uid 65534) in a child process,
    with the WIM and a temporary directory of its own in `public`; returns
    what it saw and that temporary directory."""
    shared = public / "image.wim"
    shutil.copyfile(wim, shared)
    os.chmod(shared, 0o644)
    tmp = public / "tmp"
    tmp.mkdir()
    os.chown(tmp, NOBODY_UID, NOBODY_GID)
    mount_dir = public / "mnt"
    mount_dir.mkdir()
    os.chown(mount_dir, NOBODY_UID, NOBODY_GID)
    env = {k: v for k, v in os.environ.items() if k not in ("DISM_STATE_DIR", "XDG_STATE_HOME")}
    env.update(HOME="/nonexistent", TMPDIR=str(tmp))
    code = _AS_NOBODY.format(uid=NOBODY_UID, gid=NOBODY_GID)
    r = subprocess.run([sys.executable, "-c", code, str(shared), str(mount_dir)],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1]), tmp
