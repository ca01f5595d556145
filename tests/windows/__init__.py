"""Tests against the real DismApi.dll (Windows only; see conftest.py).

A package, so that this directory's conftest is imported as windows.conftest
and never takes the place of tests/conftest.py, which the other test modules
import as `conftest`.
"""
