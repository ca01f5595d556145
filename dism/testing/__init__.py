"""Synthetic Windows images for tests: registry hives, Windows-shaped
directory trees and WIM files, described in a few lines of Python.

dism's own tests, examples and benchmarks are built on these, and a program
that reads, mounts or services Windows images can use them to test itself
without a Windows image::

    import dism
    from dism.testing import WindowsImageSpec, build_wim

    wim = build_wim("test.wim", [WindowsImageSpec(name="Pro", edition_id="Professional")])
    assert dism.get_image_info(wim)[0].edition == "Professional"

The builders, what each makes and what it needs:

Registry hives (pure Python, :mod:`dism.testing.hive`)
    ``write_hive(path, tree)`` writes, and ``hive_bytes(tree)`` returns, a
    registry hive file ("regf" 1.5, as Windows writes it) from a nested
    mapping: a mapping is a subkey, ``str`` a REG_SZ, ``int`` a REG_DWORD, a
    list of ``str`` a REG_MULTI_SZ, ``bytes`` a REG_BINARY.  ``expand_sz()``,
    ``qword()`` and ``multi_sz()`` make the other common types, and
    ``RegValue(type, data)`` any value at all, ``type`` being one of
    ``REG_NONE``, ``REG_SZ``, ``REG_EXPAND_SZ``, ``REG_BINARY``, ``REG_DWORD``,
    ``REG_MULTI_SZ``, ``REG_QWORD`` or another registry type code.  The same
    tree gives the same bytes.

Windows trees (pure Python, :mod:`dism.testing.images`)
    ``WindowsImageSpec`` says what one image is (name, edition, product name,
    version, architecture, languages, extra files, servicing content...);
    ``build_windows_tree(root, spec)`` writes the directory tree of that
    installed Windows: SOFTWARE, SYSTEM and DRIVERS hives, PE headers that
    name the architecture, manifests, INF files.  It is what offline tools
    read, ``dism.Session(root)`` included.  ``sample_specs()`` gives three
    small images (the third *named* "1", to catch name/index mix-ups) and
    ``sample_servicing_spec()`` one rich in servicing content.
    ``LANGUAGE_LCIDS`` maps the language tags a spec may use to their LCIDs.

Servicing content (pure Python, :mod:`dism.testing.servicing`)
    ``PackageSpec`` (a CBS package, with ``FeatureSpec`` optional features and
    an optional capability), ``DriverSpec`` (a driver package, with
    ``DeviceSpec`` devices) and ``AppxSpec`` (a provisioned appx package), given
    to ``WindowsImageSpec(packages=..., drivers=..., appx=...)``, become the
    registry keys and files DISM reads for them.

WIM files (need ``wimlib-imagex`` on PATH: Debian package wimtools)
    ``build_wim(path, specs)`` captures one tree per spec into a WIM (index 1
    first), choosing compression, integrity table and boot image;
    wimlib-imagex fills in each image's WINDOWS metadata from the hives, as
    for a real installation.  Without wimlib-imagex it raises RuntimeError.

Every spec checks its fields when it is made (ValueError or TypeError), so a
spec cannot write outside the tree it is built in.  The names in ``__all__``
are the API; the submodules' other names are the builders' internals.
"""

# Each builder module's __all__ is its share of the API; the package offers
# their union (the modules' other names are the builders' internals).
from . import hive, images, servicing
from .hive import *  # noqa: F401,F403
from .images import *  # noqa: F401,F403
from .servicing import *  # noqa: F401,F403

__all__ = hive.__all__ + images.__all__ + servicing.__all__
