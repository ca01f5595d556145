"""The command line run in-process, as its tests drive it: dism.cli.main()
with pytest's capsys capturing what it prints."""
from __future__ import annotations

import json

from dism import cli


def run(capsys, *argv):
    """main() in-process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    """main() with --json: (exit status, the parsed output, stderr)."""
    code, out, err = run(capsys, *argv, "--json")
    return code, json.loads(out), err
