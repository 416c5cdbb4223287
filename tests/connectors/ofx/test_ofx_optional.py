"""ofxtools is GPL-3.0 and optional: Billfold imports it only for the OFX connector, and
without it simply has no OFX institutions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from billfold.container import build_connectors
from billfold.settings import Settings


def test_nothing_imports_ofxtools_until_connectors_are_built() -> None:
    code = (
        "import sys, billfold.container, billfold.api.app, billfold.cli.main\n"
        "assert 'ofxtools' not in sys.modules, 'ofxtools imported at import time'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_without_ofxtools_there_is_no_ofx_connector(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ofxtools", None)  # `import ofxtools` now fails
    assert "ofx" not in build_connectors(Settings(data_dir=tmp_path))
    servers = tmp_path / "servers.json"
    servers.write_text("[]")
    with pytest.raises(RuntimeError, match="ofx` extra"):
        build_connectors(Settings(data_dir=tmp_path, ofx_servers=servers))


def test_with_ofxtools_the_servers_file_is_merged(tmp_path: Path) -> None:
    servers = tmp_path / "servers.json"
    entry = {"id": "mine", "name": "Mine", "url": "https://ofx.mine.example/", "version": 220}
    servers.write_text(json.dumps([entry]))
    ofx = build_connectors(Settings(data_dir=tmp_path, ofx_servers=servers))["ofx"]
    ids = [i.id for i in ofx.catalog()]
    assert "ofx_mine" in ids and "ofx_fifththird" in ids
