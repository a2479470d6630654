"""A run trained from a copy of a registry file (as the workflow does) is reported under the registry name."""

from __future__ import annotations

from discovery import data
from discovery.reports.references import registered_name_for_sha256


def test_registry_name_from_file_sha256():
    esol = data.get("esol")
    assert registered_name_for_sha256(esol.files[0].sha256) == "esol"
    assert registered_name_for_sha256("0" * 64) is None
    assert registered_name_for_sha256(None) is None
