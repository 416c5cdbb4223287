"""What each column of a bank's CSV holds, from its header words and from its values.

Headers come in English, German, French, Dutch, Spanish, Italian, Polish and Swedish,
or not at all; values say the rest (which columns read as dates in every row, which as
money, which hold D/C or S/H marks, whether a balance moves with the amount). The
answer is a set of `CsvMapping` fields; `csv_layout` finds the rows and builds the mapping.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Any

from billfold.statements.csv_values import (
    fitting_formats,
    is_day_first,
    normalise_amount,
    reads_as_amount,
    swap_day_month,
)
from billfold.statements.records import StatementError, StatementErrorCode


class AmountMode(StrEnum):
    """Where a row's money is."""

    SIGNED = "signed"  # one column, negative = money out (or the reverse, with `negate`)
    DEBIT_CREDIT = "debit_credit"  # two columns; the debit's own sign is ignored
    INDICATOR = "indicator"  # one unsigned column plus a D/C, S/H, Af/Bij column


# Indicator values as `normalise_header` leaves them (casefolded, accents stripped).
DEBIT_MARKERS: tuple[str, ...] = (
    "d", "dr", "db", "dbit", "debit", "debet", "s", "soll", "af", "lastschrift",
    "belastung", "withdrawal", "out", "-",
)  # fmt: skip
CREDIT_MARKERS: tuple[str, ...] = (
    "c", "cr", "crdt", "credit", "h", "haben", "bij", "gutschrift", "deposit", "in", "+",
)  # fmt: skip


def normalise_header(text: str) -> str:
    """Casefolded, accents stripped, punctuation as single spaces: 'Date d'opération' -> ..."""
    stripped = text.strip().lstrip("\ufeff")
    if stripped in ("+", "-"):
        return stripped  # a debit/credit mark, not punctuation
    decomposed = unicodedata.normalize("NFKD", stripped)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


# (keyword, weight). A keyword matches a whole word run of the normalised header; longer
# keywords also match inside a German compound ("umsatzbetrag").
_ROLE_KEYWORDS: dict[str, tuple[tuple[str, int], ...]] = {
    "date": (
        ("transaction date", 5), ("trans date", 5), ("booking date", 5), ("buchungstag", 5),
        ("buchungsdatum", 5), ("date operation", 5), ("date d operation", 5),
        ("date de l operation", 5), ("fecha operacion", 5), ("data operazione", 5),
        ("data contabile", 4), ("transactiedatum", 5), ("date", 3), ("datum", 3),
        ("fecha", 3), ("data", 3), ("dato", 3), ("posting date", 2), ("post date", 1),
        ("posted date", 1), ("value date", 1), ("valuta", 1), ("valutadatum", 1),
        ("wertstellung", 1), ("date de valeur", 1), ("date valeur", 1), ("fecha valor", 1),
        ("data valuta", 1), ("transaktionsdag", 5), ("bokforingsdag", 4), ("valutadag", 1),
    ),
    "amount": (
        ("amount", 5), ("betrag", 5), ("montant", 5), ("importe", 5), ("bedrag", 5),
        ("importo", 5), ("umsatz", 4), ("belopp", 5), ("belob", 5), ("belop", 5),
        ("kwota", 5), ("summa", 4), ("local amount", 1),
    ),
    "debit": (
        ("debit", 5), ("debits", 5), ("withdrawal", 5), ("withdrawals", 5), ("soll", 5),
        ("lastschrift", 5), ("af", 4), ("money out", 5), ("paid out", 5), ("out", 2),
        ("ausgang", 4), ("debe", 5), ("cargo", 4), ("addebiti", 5), ("addebito", 5),
        ("uscite", 5), ("dare", 4), ("charges", 3), ("belastung", 5), ("wyplata", 4),
    ),
    "credit": (
        ("credit", 5), ("credits", 5), ("deposit", 5), ("deposits", 5), ("haben", 5),
        ("gutschrift", 5), ("bij", 4), ("money in", 5), ("paid in", 5), ("in", 2),
        ("eingang", 4), ("haber", 5), ("abono", 4), ("accrediti", 5), ("accredito", 5),
        ("entrate", 5), ("avere", 4), ("credito", 4), ("wplata", 4),
    ),
    "balance": (
        ("balance", 5), ("saldo", 5), ("kontostand", 5), ("solde", 5), ("running bal", 5),
        ("saldo contabile", 5),
    ),
    "description": (
        ("description", 5), ("verwendungszweck", 5), ("libelle", 5), ("concepto", 5),
        ("omschrijving", 5), ("buchungstext", 3), ("transaction details", 5),
        ("narrative", 5), ("particulars", 5), ("descrizione", 5), ("causale", 4),
        ("avisierungstext", 5), ("beschreibung", 5), ("descripcion", 5), ("detalle", 4),
        ("details", 3), ("text", 2), ("opis", 5), ("beskrivning", 5), ("label", 4),
        ("transaction", 2), ("mededelingen", 2), ("memo", 1), ("name", 1),
    ),
    "payee": (
        ("payee", 5), ("beguenstigter", 5), ("begunstigter", 5), ("auftraggeber", 5),
        ("empfaenger", 4), ("empfanger", 4), ("naam", 5), ("name", 4), ("counterparty", 5),
        ("merchant", 5), ("beneficiaire", 5), ("beneficiario", 5), ("nom", 4),
        ("tegenpartij", 5), ("mottagare", 4),
    ),
    "memo": (
        ("memo", 5), ("notes", 4), ("mededelingen", 5), ("notiz", 4), ("remarks", 4),
        ("note", 3), ("extended details", 3), ("payment reference", 4), ("reference", 2),
    ),
    "check": (
        ("check number", 5), ("check or slip", 5), ("check", 4), ("cheque", 4),
        ("chq", 4), ("scheck", 4), ("check no", 5),
    ),
    "currency": (
        ("currency", 5), ("wahrung", 5), ("waehrung", 5), ("devise", 5), ("divisa", 5),
        ("valuta", 2), ("ccy", 5), ("waluta", 5),
    ),
    "indicator": (
        ("debit credit", 5), ("soll haben", 5), ("s h", 5), ("af bij", 5), ("cdtdbtind", 5),
        ("credit debit indicator", 5), ("dr cr", 5), ("d c", 5), ("cr dr", 5),
        ("transaction type", 3), ("type", 2), ("sens", 3), ("segno", 3), ("details", 1),
    ),
}  # fmt: skip

# Numeric columns that are not money.
_NOT_MONEY = (
    "card", "account", "konto", "iban", "bic", "id", "number", "nummer", "reference", "ref",
    "check", "cheque", "slip", "category", "mcc", "zip", "postcode", "time", "code", "blz",
    "plz", "bic", "clearingnummer", "radnummer",
)  # fmt: skip
_CHARGE_WORDS = ("charge", "charges", "purchase", "purchases", "spend", "spending")
_PAYMENT_WORDS = (
    "payment", "thank you", "autopay", "zahlung", "paiement", "remboursement", "refund",
    "credit", "pago", "abono", "betaling", "pagamento", "gutschrift",
)  # fmt: skip
_DAY_FIRST_CURRENCIES = ("€", "£", "eur", "gbp", "chf", "sek", "nok", "dkk", "pln")


def _score(header: str, role: str) -> int:
    best = 0
    padded = f" {header} "
    for keyword, weight in _ROLE_KEYWORDS[role]:
        if f" {keyword} " in padded or (len(keyword) >= 6 and keyword in header):
            best = max(best, weight + (1 if header == keyword else 0))
    return best


@dataclass
class _Column:
    index: int
    header: str
    values: list[str]
    nonempty: list[str]
    date_formats: list[tuple[str, int]]
    numeric: int  # how many non-empty values read as amounts

    @property
    def date_share(self) -> float:
        if not self.nonempty or not self.date_formats:
            return 0.0
        return max(count for _, count in self.date_formats) / len(set(self.nonempty))

    @property
    def numeric_share(self) -> float:
        return self.numeric / len(self.nonempty) if self.nonempty else 0.0

    def score(self, role: str) -> int:
        return _score(self.header, role) if self.header else 0


def header_roles(text: str) -> set[str]:
    """The roles a header cell's words suggest ("Betrag (EUR)" -> {"amount"})."""
    name = normalise_header(text)
    return {role for role in _ROLE_KEYWORDS if _score(name, role)}


def _column(index: int, header: list[str], data: list[list[str]]) -> _Column:
    values = [r[index].strip() if index < len(r) else "" for r in data]
    nonempty = [v for v in values if v]
    distinct = list(dict.fromkeys(nonempty))
    plausible = [v for v in distinct if any(ch.isdigit() for ch in v) and 6 <= len(v) <= 25]
    formats = (
        fitting_formats(plausible) if plausible and len(plausible) * 2 >= len(distinct) else []
    )
    numeric = sum(1 for v in nonempty if reads_as_amount(v))
    name = normalise_header(header[index]) if index < len(header) else ""
    return _Column(index, name, values, nonempty, formats, numeric)


def _pick(candidates: Sequence[_Column], role: str) -> _Column | None:
    scored = [(c.score(role), -c.index, c) for c in candidates if c.score(role)]
    return max(scored, key=lambda t: (t[0], t[1]))[2] if scored else None


def _fail(message: str) -> StatementError:
    return StatementError(StatementErrorCode.UNRECOGNISED_LAYOUT, message)


def _describe(columns: Sequence[_Column]) -> str:
    names = [c.header or f"#{c.index}" for c in columns]
    return ", ".join(repr(n) for n in names) if names else "none"


def _not_money(column: _Column) -> bool:
    if not column.header:
        return False
    if any(column.score(role) for role in ("amount", "debit", "credit", "balance")):
        return False
    words = column.header.split()
    return any(word in words for word in _NOT_MONEY)


def _separators(cells: list[str]) -> tuple[str, str]:
    """Decimal and thousands separators from the money cells: `1.234,56` vs `1,234.56`."""
    comma = point = 0
    thousands: set[str] = set()
    for cell in cells:
        digits = re.sub(r"[^0-9.,' \u00a0\u202f]", "", cell).strip()
        last_comma, last_point = digits.rfind(","), digits.rfind(".")
        if last_comma >= 0 and last_point >= 0:
            if last_comma > last_point:
                comma += 2
            else:
                point += 2
        elif re.search(r",\d{1,2}$", digits):
            comma += 2
        elif re.search(r"\.\d{1,2}$", digits):
            point += 2
        elif re.search(r"\.\d{3}$", digits):
            comma += 1  # 1.234 is a thousand in a decimal-comma file, rarely 1.234 units
        elif re.search(r",\d{3}$", digits):
            point += 1
        if re.search(r"\d[ \u00a0\u202f]\d{3}", digits):
            thousands.add(" ")
        if re.search(r"\d'\d{3}", digits):
            thousands.add("'")
        thousands.update(ch for ch in ".," if ch in digits)
    decimal = "," if comma > point else "."
    thousands.discard(decimal)
    for candidate in (".", ",", "'", " "):
        if candidate in thousands:
            return decimal, candidate
    return decimal, ""


def _amounts(column: _Column | None, decimal: str) -> list[Decimal | None]:
    if column is None:
        return []
    out: list[Decimal | None] = []
    for value in column.values:
        try:
            plain = normalise_amount(value, decimal)
        except ValueError:
            plain = None
        out.append(None if plain is None else Decimal(plain))
    return out


def _balance_votes(
    amounts: list[Decimal | None], balances: list[Decimal | None]
) -> tuple[int, int]:
    """(rows where balance moves by the amount, rows where it moves by minus the amount).

    Works for files in either date order: oldest first, balance[i] = balance[i-1] + a[i];
    newest first, balance[i-1] = balance[i] + a[i-1].
    """
    same = flipped = 0
    for i in range(1, min(len(amounts), len(balances))):
        a0, a1, b0, b1 = amounts[i - 1], amounts[i], balances[i - 1], balances[i]
        if a0 is None or a1 is None or b0 is None or b1 is None or not a0 or not a1:
            continue
        step = b1 - b0
        if step == a1 or -step == a0:
            same += 1
        elif step == -a1 or step == a0:
            flipped += 1
    return same, flipped


def _markers(column: _Column) -> float:
    """The share of the column's values that are debit/credit marks."""
    if not column.nonempty:
        return 0.0
    known = set(DEBIT_MARKERS) | set(CREDIT_MARKERS)
    return sum(normalise_header(v) in known for v in column.nonempty) / len(column.nonempty)


_FOREIGN_WORDS = (
    "datum", "fecha", "data", "betrag", "montant", "importe", "bedrag", "importo", "saldo",
    "solde", "buchungstag", "libelle", "omschrijving", "valuta", "umsatz", "kontostand",
    "verwendungszweck", "buchungsdatum", "concepto",
)  # fmt: skip


def _day_first_hint(columns: Sequence[_Column], decimal: str, delimiter: str) -> bool:
    """Whether an ambiguous date (03/04/2024) is more likely 3 April than March 4."""
    if decimal == "," or delimiter == ";":
        return True
    for column in columns:
        if any(word in column.header for word in _FOREIGN_WORDS):
            return True
        sample = " ".join(column.nonempty[:50]).casefold()
        if any(mark in sample for mark in ("€", "£")):
            return True
        if column.score("currency") and any(
            v.casefold() in _DAY_FIRST_CURRENCIES for v in column.nonempty
        ):
            return True
    return False


def _date_format(column: _Column, day_first: bool) -> str:
    if not column.date_formats:
        return "%d.%m.%Y" if day_first else "%Y-%m-%d"
    best = max(count for _, count in column.date_formats)
    tied = [fmt for fmt, count in column.date_formats if count == best]
    for fmt in tied:
        order = is_day_first(fmt)
        if order is not None and swap_day_month(fmt) in tied:
            return fmt if order == day_first else swap_day_month(fmt)
    return tied[0]


def _negate(
    amount: _Column, amounts: list[Decimal | None], balances: list[Decimal | None],
    descriptions: list[str],
) -> bool:  # fmt: skip
    same, flipped = _balance_votes(amounts, balances)
    if same or flipped:
        return flipped > same
    if any(f" {word} " in f" {amount.header} " for word in _CHARGE_WORDS):
        return True
    pay_neg = pay = other_pos = other = 0
    for value, text in zip(amounts, descriptions, strict=False):
        if value is None or not value:
            continue
        if any(word in text.casefold() for word in _PAYMENT_WORDS):
            pay += 1
            pay_neg += value < 0
        else:
            other += 1
            other_pos += value > 0
    return pay > 0 and other > 0 and pay_neg * 2 > pay and other_pos * 2 > other


def assign_columns(header: list[str], data: list[list[str]], delimiter: str) -> dict[str, Any]:
    """What each column holds, as `CsvMapping` fields (all but the file-shape ones).

    `header` is the header row ([] if none); `data` the sample's data rows. Raises
    StatementError(UNRECOGNISED_LAYOUT) when no date column or no money column is found.
    See `infer_mapping` for how the sign of a single amount column is decided.
    """
    ncols = max([len(header), *(len(r) for r in data)])
    columns = [_column(i, header, data) for i in range(ncols)]
    if data:
        dates = [c for c in columns if c.date_share >= 0.8 and len(c.nonempty) * 2 >= len(data)]
    else:
        dates = [c for c in columns if c.score("date")]
    if not dates:
        raise _fail(f"no column reads as dates; found columns {_describe(columns)}")
    date_col = _pick(dates, "date") or dates[0]
    value_col = next((c for c in dates if c is not date_col), None)
    used = {c.index for c in dates}

    money = [
        c
        for c in columns
        if c.index not in used
        and not _not_money(c)
        and (
            (c.nonempty and c.numeric_share >= 0.9)
            or (
                (not c.nonempty or c.numeric_share >= 0.5)
                and any(c.score(r) for r in ("amount", "debit", "credit", "balance"))
            )
        )
    ]
    decimal, thousands = _separators([v for c in money for v in c.nonempty])
    amount = _pick(money, "amount")
    rest = [c for c in money if c is not amount]
    debit = _pick(rest, "debit")
    credit = _pick([c for c in rest if c is not debit], "credit")
    balance = _pick([c for c in rest if c not in (debit, credit)], "balance")
    if amount is None and (debit is None or credit is None):
        debit = credit = None
        amount, balance, debit, credit = _by_content(money, decimal, balance)
    if amount is None and debit is None:
        raise _fail(
            f"found a date column ({date_col.header or f'#{date_col.index}'!r}) but no "
            f"column of amounts; columns: {_describe(columns)}"
        )
    for c in (amount, debit, credit, balance):
        if c is not None:
            used.add(c.index)

    others = [c for c in columns if c.index not in used]
    indicator: _Column | None = None
    mode = AmountMode.DEBIT_CREDIT if amount is None else AmountMode.SIGNED
    amounts = _amounts(amount, decimal)
    if amount is not None and all(a is None or a >= 0 for a in amounts):
        flagged = [c for c in others if _markers(c) >= 1] or [
            c
            for c in others
            if (c.score("indicator") >= 3 and _markers(c) >= 0.8)
            or (not c.nonempty and c.score("indicator") >= 5)
        ]
        indicator = _pick(flagged, "indicator") or (flagged[0] if flagged else None)
        if indicator is not None:
            mode = AmountMode.INDICATOR
            used.add(indicator.index)
            others.remove(indicator)

    texts = [c for c in others if not (c.nonempty and c.numeric_share >= 0.9)]
    # A weak description match ("Memo", "Name") loses to a payee column, which then serves
    # as both; a strong one ("Description", "Verwendungszweck") keeps the payee apart.
    description = _pick(texts, "description")
    payee = _pick([c for c in texts if c is not description], "payee")
    if description is not None and payee is not None and description.score("description") < 3:
        description = None
    if description is None:
        payee = _pick(texts, "payee")
        description = payee
    memo = _pick([c for c in texts if c not in (description, payee)], "memo")
    if description is None:
        free = [c for c in texts if c.nonempty and c not in (memo,)]
        if free:
            description = max(free, key=lambda c: sum(len(v) for v in c.nonempty))
    taken = {c.index for c in (description, payee, memo) if c is not None}
    check = _pick([c for c in others if c.index not in taken], "check")
    currency = next(
        (
            c
            for c in others
            if c.index not in taken
            and c is not check
            and (c.score("currency") or c.nonempty)
            and all(len(v) == 3 and v.isalpha() and v.isupper() for v in c.nonempty)
            and (c.nonempty or c.score("currency"))
        ),
        None,
    )

    negate = False
    if mode is AmountMode.SIGNED and amount is not None:
        descriptions = [
            " ".join(c.values[i] for c in (description, payee, memo) if c is not None)
            for i in range(len(data))
        ]
        negate = _negate(amount, amounts, _amounts(balance, decimal), descriptions)

    def index(c: _Column | None) -> int | None:
        return None if c is None else c.index

    return {
        "date_column": date_col.index,
        "date_format": _date_format(date_col, _day_first_hint(columns, decimal, delimiter)),
        "value_date_column": index(value_col),
        "amount_mode": mode,
        "amount_column": index(amount),
        "debit_column": index(debit) if mode is AmountMode.DEBIT_CREDIT else None,
        "credit_column": index(credit) if mode is AmountMode.DEBIT_CREDIT else None,
        "indicator_column": index(indicator),
        "decimal_separator": decimal,
        "thousands_separator": thousands,
        "negate": negate,
        "balance_column": index(balance),
        "description_column": index(description),
        "payee_column": index(payee),
        "memo_column": index(memo),
        "check_number_column": index(check),
        "currency_column": index(currency),
    }


def _by_content(
    money: list[_Column], decimal: str, balance: _Column | None
) -> tuple[_Column | None, _Column | None, _Column | None, _Column | None]:
    """(amount, balance, debit, credit) for a file whose header does not name them."""
    filled = [c for c in money if c.nonempty and c is not balance]
    if not filled:
        return None, balance, None, None
    parsed = {c.index: _amounts(c, decimal) for c in filled}
    if balance is None:
        for a in filled:
            for b in filled:
                if a is b:
                    continue
                same, flipped = _balance_votes(parsed[a.index], parsed[b.index])
                if (same + flipped) * 2 >= len(a.values) - 1 > 0:
                    return a, b, None, None
    for d, c in pairwise(filled):
        # Debit and credit columns each hold one sign; a column of both is a signed amount.
        if any(len({v < 0 for v in parsed[x.index] if v}) > 1 for x in (d, c)):
            continue
        exclusive = sum(1 for x, y in zip(d.values, c.values, strict=True) if bool(x) != bool(y))
        if exclusive * 5 >= len(d.values) * 4:
            return None, balance, d, c
    signed = [c for c in filled if any(v is not None and v < 0 for v in parsed[c.index])]
    return (signed or filled)[0], balance, None, None
