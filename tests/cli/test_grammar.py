"""The DISM.exe grammar table agrees with the CLI it drives, the README and
--help; and the line checks DISM.exe makes, each naming the option."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from dism.cli import grammar, reference
from dism.cli.exit_codes import UsageError
from dism.cli.parser import build_parser
from dism.cli.syntax import translate_dism_syntax, uses_dism_exe_syntax
from dism.cli.verbs import VERBS, VERBS_BY_NAME

README = Path(__file__).resolve().parents[2] / "README.md"


def _subparsers() -> dict:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def _option_actions(sub: argparse.ArgumentParser) -> dict:
    return {string: action for action in sub._actions for string in action.option_strings}


RUNNABLE = [row for row in grammar.every_verb() if row.cli]


@pytest.mark.parametrize("row", RUNNABLE, ids=[row.name for row in RUNNABLE])
def test_every_runnable_row_has_its_cli_verb_and_options(row):
    assert row.cli in VERBS_BY_NAME, f"{row.spelling}: no CLI verb {row.cli}"
    actions = _option_actions(_subparsers()[row.cli])
    for name in row.option_names():
        option = grammar.OPTIONS[name.lower()]
        if option.argparse is None:
            continue
        assert option.argparse in actions, f"{row.spelling} /{name}: {option.argparse} missing"
        appends = isinstance(actions[option.argparse], argparse._AppendAction)
        if row.repeatable(name.lower()):
            assert appends, f"{row.spelling} /{name} repeats, but {option.argparse} keeps one"
    if row.value:
        assert VERBS_BY_NAME[row.cli].value_option in actions


def test_every_cli_verb_has_a_dism_exe_spelling():
    spelled = {row.cli for row in grammar.every_verb()}
    assert {verb.name for verb in VERBS} <= spelled


def test_each_name_is_one_verb_or_one_option():
    names = [name.lower() for row in grammar.VERB_TABLE for name in (row.name,) + row.aliases]
    assert len(names) == len(set(names))
    assert not set(names) & set(grammar.OPTIONS)
    for row in grammar.VERB_TABLE:
        for name, _ in row.options:
            assert name.lower() in grammar.OPTIONS, f"{row.spelling}: /{name} not in the table"


def test_the_readme_lists_every_verb_as_the_table_says():
    text = README.read_text(encoding="utf-8")
    assert reference.readme_table() in text, "the README's verb table should read:\n" + \
        reference.readme_table()
    for row in grammar.every_verb():
        assert f"`{row.spelling}" in reference.readme_table()


def test_help_lists_every_verb_and_alias():
    text = build_parser().format_help()
    for row in grammar.every_verb():
        assert row.spelling in text
        for alias in row.aliases:
            assert "/" + alias in text


@pytest.mark.parametrize("alias, verb", [
    ("/Get-WimInfo", "get-imageinfo"), ("/Mount-Wim", "mount-image"),
    ("/Unmount-Wim", "unmount-image"), ("/Commit-Wim", "commit-image"),
    ("/Remount-Wim", "remount-image"), ("/Cleanup-Wim", "cleanup-mountpoints"),
    ("/Get-MountedWimInfo", "get-mountedimageinfo"),
])
def test_wim_era_names_are_today_s_verbs(alias, verb):
    assert translate_dism_syntax([alias])[0] == verb
    assert translate_dism_syntax([alias.upper()])[0] == verb


def test_case_order_and_quoting():
    line = ["/MOUNTDIR:C:\\mnt dir", "/index:2", "/mount-wim", "/WIMFILE:D:\\a b.wim",
            "/readonly"]
    assert translate_dism_syntax(line) == [
        "mount-image", "--mount-dir=C:\\mnt dir", "--index=2", "--image-file=D:\\a b.wim",
        "--read-only"]


def test_repeatable_values_are_kept_in_order():
    assert translate_dism_syntax(["/Image:/m", "/Remove-Package", "/PackageName:A",
                                  "/packagename:B"]) == \
        ["remove-package", "--image=/m", "--package-name=A", "--package-name=B"]


@pytest.mark.parametrize("line, words", [
    (["/Get-ImageInfo", "/ImageFile:x", "/Foo"], "The /Foo option is unknown."),
    (["/Get-Packages", "/Image:/m", "/ReadOnly"],
     "The /ReadOnly option is not recognized in this context: /Get-Packages does not take"),
    (["/Mount-Image", "/Online", "/ImageFile:x"], "The /Online option is not recognized"),
    (["/Unmount-Image", "/MountDir:/m", "/Commit:yes"], "The /Commit option takes no value"),
    (["/Mount-Image", "/ImageFile:", "/Index:1", "/MountDir:/m"],
     "The /ImageFile option needs a value"),
    (["/Mount-Image", "/ImageFile:a", "/Index:1", "/Index:2", "/MountDir:/m"],
     "The /Index option was given twice (/Index and /Index); /Mount-Image takes one."),
    (["/Mount-Image", "/ImageFile:a", "/WimFile:b", "/Index:1", "/MountDir:/m"],
     "The /WimFile option was given twice (/ImageFile and /WimFile)"),
    (["/Image:/m"], "No DISM.exe verb was given, only /Image: add one"),
    (["/Image:/m", "/Get-Feature"], "The /Get-Feature option is unknown."),
    (["/Image:/m", "/Get-Packages", "/Get-Features"], "two verbs, /Get-Packages and "
                                                      "/Get-Features"),
    (["/Get-WimInfo", "/WimFile:x", "/Name:Windows", "10"], "'10' is not a DISM.exe option"),
    (["/Image:/m", "/Get-Features", "/Format:Wide"], "The /Format option takes Table or List"),
    (["/Image:/m", "/Set-Edition"], "/Set-Edition needs a value: /Set-Edition:EDITION."),
])
def test_a_line_dism_exe_rejects_names_the_option(line, words):
    with pytest.raises(UsageError) as caught:
        translate_dism_syntax(line)
    assert words in caught.value.message


def test_a_posix_line_is_left_alone():
    line = ["get-features", "--image", "/Online", "--package-path", "/Image:x/p.cab"]
    assert not uses_dism_exe_syntax(line)
    assert translate_dism_syntax(line) == line
    assert not uses_dism_exe_syntax(["/mnt/x.wim"])
    assert uses_dism_exe_syntax(["--json", "/Get-MountedImageInfo"])
    assert uses_dism_exe_syntax(["--log-path", "/tmp/l", "/Get-MountedImageInfo"])


def test_argparse_s_spelling_refuses_a_value_given_twice_too(capsys):
    from dism.cli import main
    code = main(["mount-image", "--image-file", "a.wim", "--image-file", "b.wim", "--index", "1",
                 "--mount-dir", "/m"])
    err = capsys.readouterr().err
    assert code == 2 and "--image-file was given twice; it takes one value" in err


def test_dism_exe_help_lists_a_verb_s_options(capsys):
    from dism.cli import main
    assert main(["/Mount-Wim", "/?"]) == 0
    assert "--mount-dir" in capsys.readouterr().out
