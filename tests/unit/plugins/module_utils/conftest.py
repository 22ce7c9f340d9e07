"""Helpers for the preflight check tests: a context on a fixture root, one check run by id."""

from __future__ import annotations

import datetime

import pytest
from preflight_fixture_root import FIXTURES, build_root

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_catalogue import catalogue
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import Context, run_check

CATALOGUE = catalogue()

# The fixture kernel logs are dated 2026-11-29 between 10:00 and 11:00 UTC.
NOW = datetime.datetime(2026, 11, 29, 11, 0, tzinfo=datetime.UTC).timestamp()


@pytest.fixture
def fixtures():
    return FIXTURES


@pytest.fixture
def host(tmp_path):
    """A healthy fixture root and a factory for contexts on it: make(settings=..., profiles=...)."""
    params = build_root(tmp_path / "root", now=NOW)

    def make(settings=None, profiles=("gpu",), **kwargs):
        merged = {**params["settings"], "now": NOW, **(settings or {})}
        return Context(
            root=params["root"], settings=merged, profiles=profiles, search_path=params["search_path"], **kwargs
        )

    make.root = tmp_path / "root"
    return make


def run(ctx, check_id, ignore=()):
    return run_check(ctx, CATALOGUE[check_id], ignore)


def put_file(base, relative, text, mode=0o644):
    path = base / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path
