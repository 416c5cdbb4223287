"""Statement upload over the native API: a file becomes a connection's accounts and
transactions; an overlapping re-upload adds only what is new while genuine twins are
kept; the inferred CSV layout is shown and can be overridden; bad files are refused
with a clear code and change nothing."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest

from flows import new_user, ok, start_link, wait_job

CSV_JANUARY = """Date,Description,Amount,Balance
01/03/2024,PAYROLL ACME CORP,"2,500.00","3,500.00"
01/05/2024,COFFEE SHOP,-4.50,"3,495.50"
01/05/2024,COFFEE SHOP,-4.50,"3,491.00"
01/20/2024,CITY WATER UTILITY,-61.20,"3,429.80"
01/31/2024,RENT JANUARY,-1200.00,"2,229.80"
"""

# Overlaps January from the 20th and goes on into February.
CSV_TO_FEBRUARY = """Date,Description,Amount,Balance
01/20/2024,CITY WATER UTILITY,-61.20,"3,429.80"
01/31/2024,RENT JANUARY,-1200.00,"2,229.80"
02/02/2024,GROCERY MART,-85.13,"2,144.67"
02/14/2024,FLOWERS,-30.00,"2,114.67"
"""

DAY_FIRST = """Datum;Buchungstext;Betrag
01.02.2024;Miete;-800,00
13.02.2024;Gehalt;2.100,00
"""

OFX = """OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20240301120000
<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>121000248<ACCTID>000123456789<ACCTTYPE>CHECKING
</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20240201<DTEND>20240229
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240205<TRNAMT>-42.10<FITID>F-1001<NAME>HARDWARE STORE
</STMTTRN>
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240215<TRNAMT>1500.00<FITID>F-1002<NAME>PAYROLL
</STMTTRN>
</BANKTRANLIST>
<LEDGERBAL><BALAMT>2457.90<DTASOF>20240229</LEDGERBAL>
<AVAILBAL><BALAMT>2400.00<DTASOF>20240229</AVAILBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1>
</OFX>
"""


def upload(
    api: httpx.Client, content: bytes | str, filename: str = "statement.csv", **fields: str
) -> httpx.Response:
    body = content.encode() if isinstance(content, str) else content
    files = {"file": (filename, io.BytesIO(body), "application/octet-stream")}
    return api.post("/v1/statements", files=files, data=fields)


def transactions(api: httpx.Client, account_id: str) -> list[dict[str, Any]]:
    page = ok(api.get(f"/v1/accounts/{account_id}/transactions", params={"limit": 500}))
    return list(page["data"])


def accounts(api: httpx.Client, connection_id: str) -> list[dict[str, Any]]:
    return list(ok(api.get("/v1/accounts", params={"connection_id": connection_id}))["data"])


def test_a_csv_becomes_an_account_with_transactions(api: httpx.Client) -> None:
    result = ok(upload(api, CSV_JANUARY, user_id=new_user(api)), 201)
    connection, imported = result["connection"], result["import"]
    assert connection["status"] == "active"
    assert connection["refresh_every_hours"] is None
    assert imported["format"] == "csv"
    assert (imported["lines"], imported["added"], imported["duplicates"]) == (5, 5, 0)
    assert (imported["period_start"], imported["period_end"]) == ("2024-01-03", "2024-01-31")
    assert imported["mapping"]["date_format"] == "%m/%d/%Y"

    (account,) = accounts(api, connection["id"])
    assert account["type"] == "checking"
    assert account["balances"]["current"] == "2229.80"
    rows = transactions(api, account["id"])
    assert sorted((r["date"], r["amount"]) for r in rows) == [
        ("2024-01-03", "2500.00"),
        ("2024-01-05", "-4.50"),
        ("2024-01-05", "-4.50"),
        ("2024-01-20", "-61.20"),
        ("2024-01-31", "-1200.00"),
    ]
    assert {r["direction"] for r in rows if r["amount"].startswith("-")} == {"debit"}
    listed = ok(api.get(f"/v1/connections/{connection['id']}/statements"))["data"]
    assert [i["id"] for i in listed] == [imported["id"]]
    assert ok(api.get(f"/v1/statements/{imported['id']}"))["added"] == 5


def test_an_overlapping_file_adds_only_what_is_new(api: httpx.Client) -> None:
    first = ok(upload(api, CSV_JANUARY, user_id=new_user(api)), 201)
    connection_id = first["connection"]["id"]

    again = ok(upload(api, CSV_JANUARY, connection_id=connection_id), 201)["import"]
    assert (again["added"], again["duplicates"]) == (0, 5)

    later = ok(upload(api, CSV_TO_FEBRUARY, connection_id=connection_id), 201)["import"]
    assert (later["lines"], later["added"], later["duplicates"]) == (4, 2, 2)

    (account,) = accounts(api, connection_id)
    rows = transactions(api, account["id"])
    assert len(rows) == 7
    # The two identical coffees of January 5th are two purchases, and stay two.
    assert [r["amount"] for r in rows if r["date"] == "2024-01-05"] == ["-4.50", "-4.50"]
    assert account["balances"]["current"] == "2114.67"

    # An older statement uploaded last does not roll the balance back.
    ok(upload(api, CSV_JANUARY, connection_id=connection_id), 201)
    (account,) = accounts(api, connection_id)
    assert account["balances"]["current"] == "2114.67"


def test_ofx_files_use_their_own_ids_and_balances(api: httpx.Client) -> None:
    result = ok(upload(api, OFX, "export.qfx", user_id=new_user(api)), 201)
    imported = result["import"]
    assert imported["format"] == "ofx"
    assert (imported["period_start"], imported["period_end"]) == ("2024-02-01", "2024-02-29")
    (account,) = accounts(api, result["connection"]["id"])
    assert account["mask"] == "6789"
    assert account["balances"]["current"] == "2457.90"
    assert account["balances"]["available"] == "2400.00"
    assert sorted(r["amount"] for r in transactions(api, account["id"])) == ["-42.10", "1500.00"]
    again = ok(upload(api, OFX, "export.qfx", connection_id=result["connection"]["id"]), 201)
    assert again["import"]["duplicates"] == 2


def test_preview_shows_the_layout_and_an_override_changes_the_reading(
    api: httpx.Client,
) -> None:
    files = {"file": ("konto.csv", io.BytesIO(DAY_FIRST.encode()), "text/csv")}
    preview = ok(api.post("/v1/statements/preview", files=files))
    assert preview["format"] == "csv"
    assert preview["mapping"]["date_format"] == "%d.%m.%Y"
    assert [(x["date"], x["amount"]) for x in preview["lines"]] == [
        ("2024-02-01", "-800.00"),
        ("2024-02-13", "2100.00"),
    ]

    user_id = new_user(api)
    overridden = upload(
        api, DAY_FIRST, "konto.csv", user_id=user_id, mapping=json.dumps({"negate": True})
    )
    result = ok(overridden, 201)
    assert result["import"]["mapping"]["negate"] is True
    (account,) = accounts(api, result["connection"]["id"])
    assert sorted(r["amount"] for r in transactions(api, account["id"])) == [
        "-2100.00",
        "800.00",
    ]


def test_the_statement_picks_its_institution_and_account_type(api: httpx.Client) -> None:
    institutions = ok(api.get("/v1/institutions", params={"query": "Statement upload"}))["data"]
    assert [i["id"] for i in institutions if i["name"] == "Statement upload"] == [
        "statement_upload"
    ]
    result = ok(
        upload(
            api,
            CSV_JANUARY,
            user_id=new_user(api),
            account_type="savings",
            account_name="Rainy day",
        ),
        201,
    )
    assert result["connection"]["institution_id"] == "statement_upload"
    (account,) = accounts(api, result["connection"]["id"])
    assert (account["type"], account["name"]) == ("savings", "Rainy day")


def test_statement_connections_refuse_jobs(api: httpx.Client) -> None:
    connection_id = ok(upload(api, CSV_JANUARY, user_id=new_user(api)), 201)["connection"]["id"]
    refused = api.post(f"/v1/connections/{connection_id}/refresh")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "statement_connection"
    schedule = api.patch(f"/v1/connections/{connection_id}", json={"refresh_every_hours": 24})
    assert schedule.status_code == 409
    user_id = ok(api.get(f"/v1/connections/{connection_id}"))["user_id"]
    token = api.post(
        "/v1/connect_tokens", json={"user_id": user_id, "connection_id": connection_id}
    )
    assert token.status_code == 409
    assert token.json()["error"]["code"] == "statement_connection"


def test_login_connections_take_no_statements(api: httpx.Client) -> None:
    started = start_link(api, "Sophtron Bank NoMFA", "asdf", "asdf")
    wait_job(api, started["job"]["id"])
    refused = upload(api, CSV_JANUARY, connection_id=started["connection"]["id"])
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_a_statement_connection"


BAD_FILES = [
    pytest.param(b"", "empty_file", id="empty"),
    pytest.param(b"   \n\n ", "empty_file", id="blank"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary_file", id="png"),
    pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + bytes(64), "binary_file", id="pdf"),
    pytest.param(OFX[: len(OFX) // 2].encode(), "truncated_file", id="truncated-ofx"),
    pytest.param("Date,Amount\n01/02/2024,5.00\n".encode("utf-16-le"), None, id="utf16-no-bom"),
    pytest.param(b"Date,Description,Amount\n", "no_transactions", id="header-only"),
    pytest.param(
        "".join(
            ["Date,Description,Amount\n"]
            + [f"01/{d:02d}/2024,Shop {d},-{d}.50\n" for d in range(1, 15)]
            + ["not a date,bad,x\n"]
            + [f"01/{d:02d}/2024,Shop {d},-{d}.50\n" for d in range(15, 29)]
        ).encode(),
        "bad_row",
        id="bad-row",
    ),
]


@pytest.mark.parametrize(("content", "code"), BAD_FILES)
def test_bad_files_are_refused_and_change_nothing(
    api: httpx.Client, content: bytes, code: str | None
) -> None:
    user_id = new_user(api)
    existing = ok(upload(api, CSV_JANUARY, user_id=user_id), 201)["connection"]["id"]
    response = upload(api, content, "bad.csv", connection_id=existing)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    if code is not None:
        assert error["code"] == code
    assert error["message"]
    # A refused file as a first upload leaves no empty connection behind either.
    assert upload(api, content, "bad.csv", user_id=user_id).status_code == 422
    connections = ok(api.get("/v1/connections", params={"user_id": user_id}))["data"]
    assert [c["id"] for c in connections] == [existing]
    (account,) = accounts(api, existing)
    assert len(transactions(api, account["id"])) == 5


def test_a_50_mb_file_is_refused_as_too_large(api: httpx.Client) -> None:
    user_id = new_user(api)
    big = b"01/02/2024,COFFEE SHOP,-4.50\n" * (50 * 1024 * 1024 // 29)
    response = upload(api, big, "huge.csv", user_id=user_id)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert ok(api.get("/v1/connections", params={"user_id": user_id}))["data"] == []


def test_uploads_check_their_fields(api: httpx.Client) -> None:
    user_id = new_user(api)
    assert upload(api, CSV_JANUARY, format="xlsx", user_id=user_id).status_code == 400
    assert upload(api, CSV_JANUARY, mapping="[1]", user_id=user_id).status_code == 400
    bad_mapping = upload(api, CSV_JANUARY, mapping='{"delimiter": 5}', user_id=user_id)
    assert bad_mapping.status_code == 422
    assert bad_mapping.json()["error"]["code"] == "bad_mapping"
    assert upload(api, CSV_JANUARY, account_type="boat", user_id=user_id).status_code == 400
    assert upload(api, CSV_JANUARY).json()["error"]["code"] == "missing_user_id"
    assert upload(api, CSV_JANUARY, user_id="nobody").status_code == 404
    missing = upload(api, CSV_JANUARY, connection_id="nope")
    assert missing.status_code == 404
    assert api.post("/v1/statements", data={"user_id": user_id}).status_code == 400
