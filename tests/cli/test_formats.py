"""--format table (DISM.exe: /Format:Table) on a real offline image: the
listings' columns as DISM.exe names and orders them, the info verbs'
records as a two-column table of property and value, every row cut at the
same column boundaries as its rule of dashes, in both spellings."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Sequence

import pytest

from support.cli import run, run_json

pytestmark = pytest.mark.usefixtures("engine_tmpdir")

FOUNDATION = "Microsoft-Windows-Foundation-Package~31bf3856ad364e35~amd64~~10.0.19041.1"
WITH_CUSTOM_PROPERTIES = "Package_for_KB5005565~31bf3856ad364e35~amd64~~19041.1237.1.6"

LISTING_COLUMNS = {
    "get-features": ["Feature Name", "State"],
    "get-packages": ["Package Identity", "State", "Release Type", "Install Time"],
    "get-drivers": ["Published Name", "Original File Name", "Inbox", "Class Name",
                    "Provider Name", "Date", "Version"],
    "get-capabilities": ["Capability Identity", "State"],
}
DISM_EXE_NAMES = {"get-features": "/Get-Features", "get-packages": "/Get-Packages",
                  "get-drivers": "/Get-Drivers", "get-capabilities": "/Get-Capabilities",
                  "get-featureinfo": "/Get-FeatureInfo", "get-packageinfo": "/Get-PackageInfo",
                  "get-driverinfo": "/Get-DriverInfo",
                  "get-capabilityinfo": "/Get-CapabilityInfo"}
#: What each listing's JSON calls the first column's value.
FIRST_COLUMN_KEY = {"get-features": ("features", "name"),
                    "get-packages": ("packages", "name"),
                    "get-drivers": ("drivers", "published_name"),
                    "get-capabilities": ("capabilities", "name")}


@dataclass
class Table:
    header: Optional[List[str]]
    rows: List[List[str]]


def _is_rule(line: str) -> bool:
    return bool(line) and set(line) <= {"-", " ", "|"} and "-" in line


def _cells(line: str, rule: str) -> List[str]:
    """The line's cells, cut where the rule's columns are; fails unless the
    line has its separators exactly where the rule has them."""
    bars = [m.start() for m in re.finditer(r"\|", rule)]
    for bar in bars:
        assert line[bar - 1:bar + 2] == " | ", f"misaligned at {bar}: {line!r} under {rule!r}"
    assert line.count("|") == len(bars), f"a stray '|' in {line!r}"
    starts = [0] + [bar + 2 for bar in bars]
    ends = [bar - 1 for bar in bars] + [len(line)]
    last_width = len(rule) - starts[-1]
    assert len(line) - starts[-1] <= last_width, f"the last cell overruns: {line!r}"
    return [line[start:end].rstrip() for start, end in zip(starts, ends)]


def tables(out: str) -> List[Table]:
    """Every table in the output, checked cell by cell against its rule."""
    lines = out.splitlines()
    found: List[Table] = []
    i = 0
    while i < len(lines):
        if not _is_rule(lines[i]):
            i += 1
            continue
        rule, body = lines[i], []
        i += 1
        while i < len(lines) and lines[i].strip():
            body.append(lines[i])
            i += 1
        header = None
        if len(body) >= 2 and body[1] == rule:   # rule, header, rule, rows
            header, body = _cells(body[0], rule), body[2:]
        assert body, f"a table without rows under {rule!r}"
        assert all(not _is_rule(line) for line in body)
        found.append(Table(header, [_cells(line, rule) for line in body]))
    return found


def labelled(out: str, heading: str) -> List[List[str]]:
    """The `Label : value` lines of the record under `heading`, as pairs."""
    lines = out.splitlines()
    start = lines.index(heading) + 2
    pairs = []
    for line in lines[start:]:
        if not line.strip():
            break
        label, _, value = line.partition(" : ")
        pairs.append([label, value])
    return pairs


def spellings(image, verb: str, *options: str) -> List[Sequence[str]]:
    """The verb with --format table, in argparse's spelling and DISM.exe's;
    `options` are --name value pairs (--feature-name X is /FeatureName:X)."""
    pairs = list(zip(options[::2], options[1::2]))
    dism_options = [f"/{name[2:].title().replace('-', '')}:{value}" for name, value in pairs]
    return [[verb, "--image", str(image), *options, "--format", "table"],
            [f"/Image:{image}", DISM_EXE_NAMES[verb], *dism_options, "/Format:Table"]]


# --- listings ----------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["argparse", "dism.exe"])
@pytest.mark.parametrize("verb", sorted(LISTING_COLUMNS))
def test_a_listing_as_a_table_has_dism_exes_columns(capsys, image, verb, spelling):
    argv = spellings(image, verb)[spelling == "dism.exe"]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    [table] = tables(out)
    assert table.header == LISTING_COLUMNS[verb]
    code, doc, _ = run_json(capsys, verb, "--image", image)
    key, field = FIRST_COLUMN_KEY[verb]
    assert [row[0] for row in table.rows] == [item[field] for item in doc[key]]
    assert all(len(row) == len(table.header) and all(row) for row in table.rows)


def test_the_table_has_rule_header_rule_then_rows(capsys, image):
    code, out, _ = run(capsys, "get-features", "--image", image, "--format", "table")
    lines = out.splitlines()
    start = lines.index("Features listing:") + 2
    rule = lines[start]
    assert _is_rule(rule) and lines[start + 2] == rule
    assert lines[start + 1].startswith("Feature Name")
    # Each column is as wide as its widest cell, header included.
    widths = [len(part) for part in rule.split(" | ")]
    [table] = tables(out)
    for column, width in enumerate(widths):
        assert width == max(len(cell) for cell in
                            [table.header[column]] + [row[column] for row in table.rows])


def test_list_is_the_default_and_has_no_table(capsys, image):
    _, default, _ = run(capsys, "get-packages", "--image", image)
    _, listed, _ = run(capsys, f"/Image:{image}", "/Get-Packages", "/Format:List")
    assert default == listed and tables(default) == []
    assert f"Package Identity : {FOUNDATION}" in default


# --- info verbs: property | value ---------------------------------------------------------

INFO = [
    ("get-featureinfo", ["--feature-name", "Microsoft-Hyper-V-All"], "Feature Information:"),
    ("get-packageinfo", ["--package-name", FOUNDATION], "Package information:"),
    ("get-driverinfo", ["--driver", "oem0.inf"], "Driver package information:"),
    ("get-capabilityinfo", ["--capability-name", "OpenSSH.Client~~~~0.0.1.0"],
     "Capability Information:"),
]


@pytest.mark.parametrize("spelling", ["argparse", "dism.exe"])
@pytest.mark.parametrize("verb, options, heading", INFO, ids=[v for v, _, _ in INFO])
def test_an_info_record_as_a_table_of_property_and_value(capsys, image, verb, options,
                                                         heading, spelling):
    argv = spellings(image, verb, *options)[spelling == "dism.exe"]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    record = tables(out)[0]
    assert record.header is None
    # The same rows, in the same order, as the list format's `Label : value` lines.
    _, listed, _ = run(capsys, verb, "--image", image, *options)
    assert record.rows == labelled(listed, heading)
    assert len(record.rows) >= 5


def test_package_info_lists_its_features_as_a_table(capsys, image):
    code, out, _ = run(capsys, f"/Image:{image}", "/Get-PackageInfo",
                       f"/PackageName:{FOUNDATION}", "/Format:Table")
    assert code == 0
    record, features = tables(out)
    assert features.header == ["Feature Name", "State"]
    code, doc, _ = run_json(capsys, "get-packageinfo", "--image", image,
                            "--package-name", FOUNDATION)
    assert [row[0] for row in features.rows] == [f["name"] for f in doc["package"]["features"]]
    assert len(features.rows) == 8


def test_custom_properties_as_a_table(capsys, image):
    code, out, _ = run(capsys, "get-packageinfo", "--image", image, "--package-name",
                       WITH_CUSTOM_PROPERTIES, "--format", "table")
    assert code == 0
    record, properties = tables(out)[:2]
    _, listed, _ = run(capsys, "get-packageinfo", "--image", image, "--package-name",
                       WITH_CUSTOM_PROPERTIES)
    assert properties.header is None
    assert properties.rows == labelled(listed, "Custom Properties:")
    assert len(properties.rows) == 2


def test_driver_info_lists_its_devices_as_a_table_per_architecture(capsys, image):
    code, out, _ = run(capsys, "get-driverinfo", "--image", image, "--driver", "oem0.inf",
                       "--format", "table")
    assert code == 0
    record, *devices = tables(out)
    code, doc, _ = run_json(capsys, "get-driverinfo", "--image", image, "--driver", "oem0.inf")
    drivers = doc["driver_info"]["drivers"]
    assert len(devices) == len({d["architecture"] for d in drivers}) == 2
    for table in devices:
        assert table.header == ["Manufacturer", "Description", "Architecture", "Hardware ID",
                                "Service Name", "Compatible IDs", "Exclude IDs"]
    assert sorted(row[3] for table in devices for row in table.rows) == \
        sorted(d["hardware_id"] for d in drivers)


@pytest.mark.parametrize("verb, options, heading", INFO, ids=[v for v, _, _ in INFO])
def test_an_unknown_format_is_a_usage_error(capsys, image, verb, options, heading):
    code, _, err = run(capsys, verb, "--image", image, *options, "--format", "wide")
    assert code == 2 and "invalid choice: 'wide'" in err
