"""The public dism.Session on the Windows build, against the stand-in: what
the Python layer makes of the DLL's answers (run by scripts/test-windows.sh)."""
from __future__ import annotations

import dism
from support.windows import system32_dismapi_is_standin

CLEF = "\U0001D11E"
FACE = "\U0001F600"


def test_session_editions_drop_the_null_entry_of_the_dlls_list():
    assert system32_dismapi_is_standin()
    try:
        with dism.Session("C:\\image") as session:
            # The stand-in's list ends with a NULL DismString: it names no edition.
            assert session.get_target_editions() == ["Enterprise", "Education" + CLEF]
            assert session.get_current_edition() == "Professional" + FACE
    finally:
        dism.shutdown()
