"""4. get_drivers on a real Windows 10 SYSTEM hive vs the same facts read with regipy.

Image: an offline root whose Windows/System32/config/SYSTEM is a copy of a
real Windows 10 SYSTEM hive (regipy's SYSTEM_WIN_10_1709 test file, 15 MB;
238 driver packages, 5 third-party, its DriverDatabase at the hive root).  Sides:
  dism      Session(root).get_drivers(all_drivers=...): the public API, typed
            DriverPackage objects; the session is opened outside the timing
  dism raw  _dism.get_drivers(handle, ...): the C layer's tuples (informational)
  regipy    regipy_drivers(hive, ...) below: what a Linux user writes to get the
            same fields with regipy.registry.RegistryHive - open the hive,
            walk DriverDatabase\\DriverPackages, decode the Version blob, look up
            class names and service start types in the current control set
  regipy patched  the same code with regipy's over-read of inline values
            patched out (informational; see regipy_without_inline_overread)
Each listing opens the hive once, as each DismGetDrivers call does.  A dism
sample is the mean of `inner` calls, a regipy sample one listing (it takes
seconds), a patched-regipy sample the mean of inner/2 listings.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import shutil
import uuid
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import dism
from dism import _dism

from _timing import Row, Stats, Target, collect, log, time_call

SECTION = "4. get_drivers (real Windows 10 SYSTEM hive)"
SOURCE_HIVE = Path("/work/shared/testdata/real/regipy__SYSTEM_WIN_10_1709")

DRIVER_PACKAGES = "\\DriverDatabase\\DriverPackages"
DEFAULT_VALUE = "(default)"      # regipy's name for a key's unnamed value
INLINE_DATA = 0x80000000         # VK data size flag: the data sits in the offset field
FILETIME_EPOCH = _dt.datetime(1601, 1, 1, tzinfo=_dt.timezone.utc)

Quad = Tuple[int, int, int, int]


@dataclasses.dataclass(frozen=True)
class DriverFacts:
    """The fields of one driver package that both sides must agree on."""

    published_name: str
    provider: Optional[str]
    catalog: Optional[str]
    class_guid: Optional[str]
    class_name: Optional[str]
    date: Optional[_dt.datetime]
    version: Quad
    boot_critical: bool


# --- the regipy side --------------------------------------------------------

def _values(key) -> Dict[str, object]:
    """All of a key's values in one pass.  regipy's get_value scans every value
    per call, and its value iterator reads the shared hive stream as it goes,
    so it must be drained before anything else touches the hive."""
    return {value.name: value.value for value in key.iter_values(trim_values=False)}


def _subkeys_by_name(key) -> Dict[str, object]:
    """Registry names are case-insensitive; NKRecord.get_subkey is a linear
    scan, so a key looked up many times is indexed once."""
    return {subkey.name.upper(): subkey for subkey in key.iter_subkeys() or ()}


def _optional_subkey(key, name: str):
    return key.get_subkey(name, raise_on_missing=False) if key.subkey_count else None


def _current_control_set(hive):
    """Select\\Current names the control set Windows boots with; like the
    engine, fall back to ControlSet001 when it is missing or out of range."""
    select = _optional_subkey(hive.root, "Select")
    current = _values(select).get("Current") if select is not None else None
    if not isinstance(current, int) or not 0 < current <= 999:
        current = 1
    return _optional_subkey(hive.root, f"ControlSet{current:03d}")


class _ControlSetLookups:
    """Class names by GUID and boot-start services, each key indexed once per
    listing and each answer cached: many packages share a class or a service."""

    def __init__(self, control_set) -> None:
        control = _optional_subkey(control_set, "Control") if control_set is not None else None
        classes = _optional_subkey(control, "Class") if control is not None else None
        services = (_optional_subkey(control_set, "Services")
                    if control_set is not None else None)
        self._classes = _subkeys_by_name(classes) if classes is not None else {}
        self._services = _subkeys_by_name(services) if services is not None else {}
        self._class_names: Dict[str, Optional[str]] = {}
        self._boot_start: Dict[str, bool] = {}

    def class_name(self, guid: str) -> Optional[str]:
        key = guid.upper()
        if key not in self._class_names:
            class_key = self._classes.get(key)
            name = _values(class_key).get("Class") if class_key is not None else None
            self._class_names[key] = name if isinstance(name, str) else None
        return self._class_names[key]

    def starts_at_boot(self, service: str) -> bool:
        key = service.upper()
        if key not in self._boot_start:
            service_key = self._services.get(key)
            start = _values(service_key).get("Start") if service_key is not None else None
            self._boot_start[key] = start == 0
        return self._boot_start[key]


def _decode_version_blob(blob: object) -> Tuple[Optional[str], Optional[_dt.datetime], Quad]:
    """DriverPackages\\<pkg>\\Version: class GUID (Windows binary layout) at
    8..23, the driver date as a FILETIME at 24..31, the version as a u64 LE
    (16 bits each: major, minor, build, revision) at 32..39."""
    if not isinstance(blob, bytes) or len(blob) < 40:
        return None, None, (0, 0, 0, 0)
    guid = "{" + str(uuid.UUID(bytes_le=blob[8:24])) + "}"
    filetime = int.from_bytes(blob[24:32], "little")
    # SYSTEMTIME, which DISM reports, stops at milliseconds.
    date = FILETIME_EPOCH + _dt.timedelta(milliseconds=filetime // 10_000)
    packed = int.from_bytes(blob[32:40], "little")
    version = (packed >> 48 & 0xFFFF, packed >> 32 & 0xFFFF, packed >> 16 & 0xFFFF,
               packed & 0xFFFF)
    return guid, date, version


def _published_name(folder: str, values: Dict[str, object]) -> str:
    """The default value; in-box entries without one go by their INF name,
    which the folder name (<inf>_<arch>_<hash>) starts with."""
    for candidate in (values.get(DEFAULT_VALUE), values.get("InfName")):
        if isinstance(candidate, str) and candidate:
            return candidate
    dot = folder.lower().find(".inf_")
    return folder[:dot + 4] if dot >= 0 else folder


def _is_third_party(values: Dict[str, object]) -> bool:
    published = values.get(DEFAULT_VALUE)
    return isinstance(published, str) and published.lower().startswith("oem")


def _boot_critical(package, lookups: _ControlSetLookups) -> bool:
    """Boot-critical: a service one of the package's configurations installs
    has Start = 0 (boot)."""
    configurations = _optional_subkey(package, "Configurations")
    if configurations is None:
        return False
    for configuration in list(configurations.iter_subkeys() or ()):
        service = _values(configuration).get("Service")
        if isinstance(service, str) and service and lookups.starts_at_boot(service):
            return True
    return False


def _string(values: Dict[str, object], name: str) -> Optional[str]:
    value = values.get(name)
    return value if isinstance(value, str) else None


def regipy_drivers(hive_path: str, all_drivers: bool) -> List[DriverFacts]:
    """The driver packages of an offline SYSTEM hive, read with regipy."""
    from regipy.exceptions import RegistryKeyNotFoundException
    from regipy.registry import RegistryHive

    hive = RegistryHive(hive_path)
    try:
        packages = hive.get_key(DRIVER_PACKAGES)
    except RegistryKeyNotFoundException:
        return []
    lookups = _ControlSetLookups(_current_control_set(hive))
    found = []
    for package in list(packages.iter_subkeys() or ()):
        values = _values(package)
        if not all_drivers and not _is_third_party(values):
            continue
        guid, date, version = _decode_version_blob(values.get("Version"))
        found.append(DriverFacts(
            published_name=_published_name(package.name, values),
            provider=_string(values, "Provider"),
            catalog=_string(values, "Catalog"),
            class_guid=guid,
            class_name=lookups.class_name(guid) if guid else None,
            date=date,
            version=version,
            boot_critical=_boot_critical(package, lookups),
        ))
    return found


def _regipy_read_value() -> Optional[staticmethod]:
    from regipy import registry

    original = registry.NKRecord.__dict__.get("read_value")
    return original if isinstance(original, staticmethod) else None


@contextlib.contextmanager
def regipy_without_inline_overread() -> Iterator[None]:
    """regipy (6.5.0 at least) reads vk.data_size bytes for every value, even
    inline ones whose size has bit 31 set: each DWORD copies the rest of the
    hive (~13 MB here), which iter_values then ignores, as it takes inline
    data from the offset field.  Patching that read out shows what regipy's
    own parsing costs; the stock regipy stays the baseline that counts."""
    from regipy import registry

    original = _regipy_read_value()
    if original is None:
        raise RuntimeError("regipy.registry.NKRecord.read_value changed; cannot patch it")

    def read_value(vk, stream):
        if vk.data_size < INLINE_DATA:
            return original.__func__(vk, stream)
        return registry.VKRecord(value_type=vk.data_type, value_type_str=str(vk.data_type),
                                 value=b"", size=vk.data_size)

    registry.NKRecord.read_value = staticmethod(read_value)
    try:
        yield
    finally:
        registry.NKRecord.read_value = original


def patched_regipy_drivers(hive_path: str, all_drivers: bool) -> List[DriverFacts]:
    with regipy_without_inline_overread():
        return regipy_drivers(hive_path, all_drivers)


# --- the dism side, in the same shape --------------------------------------

def dism_facts(packages: Iterable[dism.DriverPackage]) -> List[DriverFacts]:
    return [DriverFacts(
        published_name=p.published_name or "",
        provider=p.provider_name,
        catalog=p.catalog_file,
        class_guid=p.class_guid,
        class_name=p.class_name,
        date=p.date,
        version=(p.version.major, p.version.minor, p.version.build, p.version.revision),
        boot_critical=p.boot_critical,
    ) for p in packages]


def _by_published_name(facts: List[DriverFacts], side: str) -> Dict[str, DriverFacts]:
    indexed = {f.published_name.lower(): f for f in facts}
    if len(indexed) != len(facts):
        raise RuntimeError(f"{side}: published names are not unique")
    return indexed


def _normalized(facts: DriverFacts) -> DriverFacts:
    """GUID letter case is spelling, not a fact."""
    if not facts.class_guid:
        return facts
    return dataclasses.replace(facts, class_guid=facts.class_guid.lower())


def check_same_data(ours: List[DriverFacts], theirs: List[DriverFacts], label: str) -> None:
    """Both sides must read the same facts, or the comparison is void."""
    mine = _by_published_name(ours, f"dism {label}")
    other = _by_published_name(theirs, f"regipy {label}")
    if mine.keys() != other.keys():
        raise RuntimeError(f"{label}: only dism lists {sorted(mine.keys() - other.keys())}, "
                           f"only regipy lists {sorted(other.keys() - mine.keys())}")
    for name in sorted(mine):
        a, b = _normalized(mine[name]), _normalized(other[name])
        for field in ("provider", "catalog", "class_guid", "class_name", "date", "version",
                      "boot_critical"):
            if getattr(a, field) != getattr(b, field):
                raise RuntimeError(f"{label} {name}: {field} is {getattr(a, field)!r} "
                                   f"through dism, {getattr(b, field)!r} through regipy")


# --- the benchmark ----------------------------------------------------------

def make_image_root(work: Path) -> Path:
    """An offline image root holding just the SYSTEM hive."""
    root = work / "drivers-image"
    config = root / "Windows" / "System32" / "config"
    config.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE_HIVE, config / "SYSTEM")
    return root


def _require_regipy() -> str:
    try:
        import regipy
    except ImportError as error:
        raise RuntimeError("the drivers section compares with regipy: "
                           "pip install 'dismapi[bench]' (or regipy>=4)") from error
    return getattr(regipy, "__version__", "?")


def run(work: Path, *, repeats: int, warmup: int, inner: int) -> Tuple[List[Row], dict]:
    """Rows of the section, and facts about the run for results.json.  Without
    the test hive (it lives in /work/shared) the section is skipped."""
    if not SOURCE_HIVE.is_file():
        log(f"[4] get_drivers: SKIPPED, the test hive {SOURCE_HIVE} is not on this machine")
        return [], {"skipped": f"{SOURCE_HIVE} not found"}
    regipy_version = _require_regipy()
    root = make_image_root(work)
    hive = str(root / "Windows" / "System32" / "config" / "SYSTEM")
    log(f"[4] get_drivers: {repeats} repeats x {inner} dism calls (1 regipy listing per "
        f"sample), regipy {regipy_version}")
    with dism.Session(root) as session:
        raw_session = _dism.open_session(str(root))
        try:
            return _measure(session, raw_session, hive, repeats=repeats, warmup=warmup,
                            inner=inner, regipy_version=regipy_version)
        finally:
            raw_session.close()


def _speedup(dism_stats: Stats, baseline: Stats) -> str:
    """The table rounds ratios to 0.01; this many times faster is readable."""
    return f"dism {baseline.median / dism_stats.median:.0f}x faster"


def _measure(session: dism.Session, raw_session, hive: str, *, repeats: int, warmup: int,
             inner: int, regipy_version: str) -> Tuple[List[Row], dict]:
    everything = dism_facts(session.get_drivers(all_drivers=True))
    third_party = dism_facts(session.get_drivers(all_drivers=False))
    check_same_data(everything, regipy_drivers(hive, all_drivers=True), "all drivers")
    check_same_data(third_party, regipy_drivers(hive, all_drivers=False), "third-party")
    patchable = _regipy_read_value() is not None
    if patchable:
        check_same_data(everything, patched_regipy_drivers(hive, all_drivers=True),
                        "all drivers, patched regipy")
    else:
        log("  regipy's read_value changed: no row for the patched regipy")
    if len(_dism.get_drivers(raw_session, True)) != len(everything):
        raise RuntimeError("the C layer and the public API list different numbers of drivers")
    log(f"  same facts on both sides: {len(everything)} packages, "
        f"{len(third_party)} third-party")

    trials = {
        "dism": lambda: time_call(lambda: session.get_drivers(all_drivers=True), inner),
        "raw": lambda: time_call(lambda: _dism.get_drivers(raw_session, True), inner),
        "regipy": lambda: time_call(lambda: regipy_drivers(hive, all_drivers=True)),
    }
    if patchable:
        trials["patched"] = lambda: time_call(
            lambda: patched_regipy_drivers(hive, all_drivers=True), max(1, inner // 2))
    every = collect(trials, repeats=repeats, warmup=warmup, label="get_drivers all")
    oem = collect({
        "dism": lambda: time_call(lambda: session.get_drivers(all_drivers=False), inner),
        "regipy": lambda: time_call(lambda: regipy_drivers(hive, all_drivers=False)),
    }, repeats=repeats, warmup=warmup, label="get_drivers third-party")

    rows = [
        Row(SECTION, f"get_drivers all ({len(everything)} pkgs, real Win10 SYSTEM)",
            every["dism"], every["regipy"], "regipy", "s", Target("ratio_max", 0.05),
            note="goal: at least 20x faster than regipy reading the same fields; "
                 + _speedup(every["dism"], every["regipy"])),
        Row(SECTION, f"get_drivers third-party only ({len(third_party)} pkgs)",
            oem["dism"], oem["regipy"], "regipy", "s",
            note="both sides read every package's values to find the oemN.inf ones; "
                 + _speedup(oem["dism"], oem["regipy"])),
        Row(SECTION, "  C layer only: _dism.get_drivers (tuples)", every["raw"],
            every["regipy"], "regipy", "s",
            note="engine + extension without the DriverPackage dataclasses; "
                 + _speedup(every["raw"], every["regipy"])),
    ]
    if patchable:
        rows.append(Row(
            SECTION, "  vs regipy without its inline-value over-read", every["dism"],
            every["patched"], "regipy patched", "s",
            note="regipy copies the rest of the hive for every inline (DWORD) value; "
                 "with that read patched out: " + _speedup(every["dism"], every["patched"])))
    facts = {"hive": str(SOURCE_HIVE), "regipy_version": regipy_version,
             "packages": len(everything), "third_party": len(third_party)}
    return rows, facts
