"""The OFX directory: ofxtools' server list as institutions, a self-hoster's JSON file,
and how an institution's settings turn into the way a request is written."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

import pytest
from ofxtools.config import CONFIGDIR

from billfold.connectors.ofx import OfxConnector
from billfold.connectors.ofx.directory import (
    OfxServersFileError,
    ServerConfig,
    load_servers_file,
    merge_catalog,
    ofxtools_catalog,
)
from billfold.domain.institutions import InstitutionKind


def _sections_with_url() -> dict[str, configparser.SectionProxy]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(Path(CONFIGDIR) / "fi.cfg", encoding="utf-8")
    return {k: parser[k] for k in parser.sections() if parser[k].get("url", "").strip()}


def test_every_server_with_a_url_is_an_institution() -> None:
    sections = _sections_with_url()
    catalog = ofxtools_catalog()
    assert len(catalog) == len(sections) > 500
    assert ofxtools_catalog() is catalog  # parsed once
    by_id = {i.id: i for i in catalog}
    assert len(by_id) == len(catalog)
    for key, section in sections.items():
        inst = by_id[f"ofx_{key.lower().replace('-', '_')}"]
        assert inst.connector == "ofx" and inst.url == section["url"].strip()
        assert inst.settings["url"] == inst.url
        assert inst.settings.get("org", "") == section.get("org", "").strip()
        assert inst.settings.get("fid", "") == section.get("fid", "").strip()
        assert inst.settings["version"] == (section.get("version", "").strip() or "203")
        assert inst.id == inst.id.lower() and len(inst.id) <= 64
        assert [f.key for f in inst.login_fields] == ["username", "password"]
        ServerConfig.of(inst.settings)  # every entry can be talked to


def test_names_kinds_and_quirks() -> None:
    by_id = {i.id: i for i in ofxtools_catalog()}
    assert by_id["ofx_fifththird"].name == "Fifth Third Bank"  # ORG reads like a name
    assert by_id["ofx_pnc"].name == "PNC"  # ORG "ISC" is a hosting platform
    assert by_id["ofx_amex"].kind is InstitutionKind.CARD_ISSUER
    assert by_id["ofx_sierra"].kind is InstitutionKind.CREDIT_UNION
    assert by_id["ofx_becu"].kind is InstitutionKind.CREDIT_UNION
    assert by_id["ofx_chase"].kind is InstitutionKind.BANK
    assert by_id["ofx_schwab"].settings["brokerid"] == "SCHWAB.COM"
    etrade = ServerConfig.of(by_id["ofx_etrade"].settings)
    assert etrade.version == 102 and not etrade.sends_clientuid
    citi = ServerConfig.of(by_id["ofx_citi"].settings)
    assert (citi.appid, citi.appver, citi.close_elements, citi.pretty) == (
        "QWIN",
        "2500",
        True,
        True,
    )
    usaa = ServerConfig.of(by_id["ofx_usaa"].settings)
    assert (usaa.version, usaa.close_elements, usaa.sends_clientuid) == (103, False, True)
    assert by_id["ofx_netbenefits"].settings["useragent"] == "ofxtools"


@pytest.mark.parametrize(
    ("settings", "clientuid", "xml", "closed"),
    [
        ({"version": "102"}, False, False, False),
        ({"version": "103"}, True, False, False),
        ({"version": "102", "clientuid": "required"}, True, False, False),
        ({"version": "220", "clientuid": "never"}, False, True, True),
        ({"version": "151", "unclosedelements": "false"}, True, False, True),
        ({}, True, True, True),
    ],
)
def test_server_config(settings: dict[str, str], clientuid: bool, xml: bool, closed: bool) -> None:
    config = ServerConfig.of({"url": "https://ofx.example/", **settings})
    assert (config.sends_clientuid, config.is_xml, config.close_elements) == (
        clientuid,
        xml,
        closed,
    )
    assert (config.appid, config.appver) == ("QWIN", "2700")


def test_bad_server_configs() -> None:
    for settings in (
        {},
        {"url": "https://x/", "version": "abc"},
        {"url": "https://x/", "version": "300"},
    ):
        with pytest.raises(ValueError):
            ServerConfig.of(settings)


def test_servers_file(tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    entries = [
        {
            "id": "mycu",
            "name": "My Credit Union",
            "url": "https://ofx.mycu.example/ofx",
            "org": "MYCU",
            "fid": "123",
            "version": 103,
            "kind": "credit_union",
            "clientuid_required": True,
            "appver": "2800",
        },
        {"id": "ofx_fifththird", "name": "Fifth Third (own entry)", "url": "https://53.example/"},
    ]
    path.write_text(json.dumps({"servers": entries}))
    mine, fifth = load_servers_file(path)
    assert (mine.id, mine.kind, mine.url) == (
        "ofx_mycu",
        InstitutionKind.CREDIT_UNION,
        "https://ofx.mycu.example/ofx",
    )
    assert mine.settings["clientuid"] == "required" and mine.settings["appver"] == "2800"
    assert fifth.settings["version"] == "203"
    merged = merge_catalog(ofxtools_catalog(), (mine, fifth))
    assert len(merged) == len(ofxtools_catalog()) + 1
    assert [i.name for i in merged if i.id == "ofx_fifththird"] == ["Fifth Third (own entry)"]
    connector = OfxConnector(extra_institutions=(mine,))
    assert mine in connector.catalog()
    assert OfxConnector(with_ofxtools_directory=False, extra_institutions=(mine,)).catalog() == (
        mine,
    )


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json", "is not JSON"),
        ('{"servers": 3}', "must hold a list"),
        ('[{"id": "Bad Id", "name": "x", "url": "https://x/"}]', "id must be"),
        ('[{"id": "ok", "name": "x"}]', "needs a name and a url"),
        ('[{"id": "ok", "name": "x", "url": "https://x/", "version": 300}]', "neither 1.x"),
        ('[{"id": "ok", "name": "x", "url": "https://x/", "kind": "casino"}]', "server 'ok'"),
    ],
)
def test_bad_servers_files(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "servers.json"
    path.write_text(content)
    with pytest.raises(OfxServersFileError) as caught:
        load_servers_file(path)
    assert words in str(caught.value)
    with pytest.raises(OfxServersFileError, match="cannot read"):
        load_servers_file(tmp_path / "missing.json")
