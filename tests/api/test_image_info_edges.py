"""get_image_info at its edges: what is not a regular file (issue 9 item 6),
WIMs whose XML lists very many languages (item 8), and the extension itself
run under AddressSanitizer and UBSan (packed result structures)."""
from __future__ import annotations

import os
import sys
import subprocess
import textwrap
from pathlib import Path

import pytest

import dism
from dism.testing import sample_specs

from support.sanitizer import (SanitizerUnavailable, build_sanitized_package, run_sanitized,
                               sanitizer_reports)

LANGUAGE_COUNT = 20000
DEFAULT_POSITION = 7777


def test_a_missing_file_is_path_not_found_naming_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "install.wim"
    with pytest.raises(dism.PathNotFoundError) as caught:
        dism.get_image_info(missing)
    assert isinstance(caught.value, FileNotFoundError)
    assert str(missing) in caught.value.message


def test_a_directory_is_refused_as_a_directory(tmp_path):
    with pytest.raises(dism.InvalidArgumentError) as caught:
        dism.get_image_info(tmp_path)
    assert "is a directory" in caught.value.message
    assert str(tmp_path) in caught.value.message
    assert "Could not read" not in caught.value.message


def test_a_device_is_refused_as_not_a_regular_file():
    with pytest.raises(dism.InvalidArgumentError) as caught:
        dism.get_image_info("/dev/null")
    assert "not a regular file" in caught.value.message


def test_a_fifo_is_refused_without_blocking(tmp_path):
    # Without a writer, a blocking open of a FIFO never returns: the call runs
    # in a child so that the old behaviour fails the test instead of hanging it.
    fifo = tmp_path / "image.wim"
    os.mkfifo(fifo)
    code = textwrap.dedent(f"""
        import dism
        try:
            dism.get_image_info({str(fifo)!r})
        except dism.InvalidArgumentError as e:
            print("refused:", e.message)
    """)
    try:
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("get_image_info blocked on a FIFO")
    assert run.returncode == 0, run.stderr
    assert "refused:" in run.stdout and "not a regular file" in run.stdout
    assert str(fifo) in run.stdout


def test_a_symlink_to_a_wim_is_still_read(sample_wim, tmp_path):
    link = tmp_path / "link.wim"
    link.symlink_to(sample_wim)
    assert [i.name for i in dism.get_image_info(link)] == \
        [i.name for i in dism.get_image_info(sample_wim)]


def set_languages(wim: Path, image: int, languages: list[str], default: str) -> None:
    """Replaces an image's WINDOWS/LANGUAGES with wimlib-imagex itself (one
    call, every property on the command line)."""
    props = [f"--image-property=WINDOWS/LANGUAGES/LANGUAGE[{n}]={lang}"
             for n, lang in enumerate(languages, start=1)]
    props.append(f"--image-property=WINDOWS/LANGUAGES/DEFAULT={default}")
    run = subprocess.run(["wimlib-imagex", "info", str(wim), str(image), *props],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_every_language_of_a_huge_list_with_the_right_default(sample_wim):
    # Image 2 gets the long list; images 1 and 3 keep their own, so each
    # image's languages must come from its own XML element.
    languages = [f"qa-{n:05d}" for n in range(LANGUAGE_COUNT)]
    set_languages(sample_wim, 2, languages, languages[DEFAULT_POSITION])
    infos = dism.get_image_info(sample_wim)
    specs = sample_specs()
    assert list(infos[1].languages) == languages
    assert infos[1].default_language == languages[DEFAULT_POSITION]
    for info, spec in ((infos[0], specs[0]), (infos[2], specs[2])):
        assert list(info.languages) == list(spec.languages)
        assert info.default_language == spec.default_language


def test_a_default_that_is_not_listed_gives_no_default(sample_wim):
    set_languages(sample_wim, 1, ["de-DE", "fr-FR"], "it-IT")
    info = dism.get_image_info(sample_wim)[0]
    assert list(info.languages) == ["de-DE", "fr-FR"]
    # DefaultLanguageIndex stays 0, the first language, as the engine always did.
    assert info.default_language == "de-DE"


@pytest.fixture(scope="module")
def sanitized_dism(tmp_path_factory) -> Path:
    try:
        return build_sanitized_package(tmp_path_factory.mktemp("sanitized"))
    except SanitizerUnavailable as why:
        if os.environ.get("CI"):
            pytest.fail(f"the sanitized build is required in CI: {why}")
        pytest.skip(str(why))


def test_image_info_runs_clean_under_asan_and_ubsan(sanitized_dism, sample_wim, tmp_path):
    # The packed DismImageInfo array puts pointer members at misaligned
    # addresses: UBSan stops the run at any store through a member pointer.
    set_languages(sample_wim, 2, ["de-DE", "fr-FR", "it-IT"], "fr-FR")
    fifo = tmp_path / "fifo.wim"
    os.mkfifo(fifo)
    code = textwrap.dedent(f"""
        import dism
        assert dism._dism.__file__.startswith({str(sanitized_dism)!r}), dism._dism.__file__
        for _ in range(3):
            infos = dism.get_image_info({str(sample_wim)!r})
            assert [i.index for i in infos] == [1, 2, 3]
            assert infos[1].languages == ("de-DE", "fr-FR", "it-IT")
            assert infos[1].default_language == "fr-FR"
            assert infos[0].created.year > 2000
        for bad in ({str(fifo)!r}, {str(tmp_path)!r}, {str(tmp_path / 'missing.wim')!r}):
            try:
                dism.get_image_info(bad)
            except dism.DismError:
                pass
            else:
                raise AssertionError(bad)
        print("clean")
    """)
    run = run_sanitized(sanitized_dism, code, cwd=tmp_path, timeout=300,
                        DISM_STATE_DIR=str(tmp_path / "state"))
    assert not sanitizer_reports(run.stderr), run.stderr[-6000:]
    assert run.returncode == 0 and "clean" in run.stdout, run.stderr[-6000:]
