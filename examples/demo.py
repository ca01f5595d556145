"""The main job on a sample image: build a Windows-shaped WIM, read its image
info, mount an image read-write, open a servicing session, change it, commit
while staying mounted, unmount with commit, and read the info again.

Run it through scripts/demo.sh, which installs what it needs first.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import dism
from dism.cli import render_bar
from dism.testing import build_wim, sample_specs


def progress_bar(label: str):
    """A DISM-style bar, redrawn in place on a terminal; elsewhere only the
    end of each phase is printed (one operation may report several phases)."""
    interactive = sys.stderr.isatty()

    def show(current: int, total: int) -> None:
        done = total > 0 and current >= total
        if interactive:
            sys.stderr.write(f"\r  {label:<8} {render_bar(current, total)}" + ("\n" if done else ""))
        elif done:
            sys.stderr.write(f"  {label:<8} {render_bar(current, total)}\n")
        sys.stderr.flush()
    return show


def show_images(wim: Path) -> None:
    for image in dism.get_image_info(wim):
        arch = getattr(image.architecture, "name", image.architecture)
        print(f"  [{image.index}] {image.name!r}: {image.edition}, {arch}, "
              f"version {image.version}, languages {', '.join(image.languages)}, "
              f"{image.file_count} files")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="dism-demo-"))
    try:
        wim = build_wim(work / "install.wim", sample_specs())
        print(f"Built a sample image {wim}")
        show_images(wim)

        mount_dir = work / "mount"
        mount_dir.mkdir()
        print(f"Mounting image 1 read-write at {mount_dir}")
        with dism.mount(wim, mount_dir, index=1, progress=progress_bar("mount")) as mounted:
            with mounted.session() as session:
                print(f"  session {session.handle} open on {session.image_root}")
            (mount_dir / "Windows" / "Setup").mkdir(exist_ok=True)
            (mount_dir / "Windows" / "Setup" / "SetupComplete.cmd").write_text("echo done\r\n")
            print("Committing while staying mounted")
            mounted.commit(progress=progress_bar("commit"))
            print("  mounted images:", [(m.mount_path, m.index, m.status.name)
                                        for m in dism.get_mounted_images()])
            print("Unmounting with commit")
            mounted.unmount(commit=True, progress=progress_bar("unmount"))
        print("Image info after servicing:")
        show_images(wim)
        print("The operation completed successfully.")
        return 0
    except dism.DismError as e:
        print(f"Error: 0x{e.hresult:08X}\n{e.message}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
