"""The front door for an uploaded statement file: check it, recognise it, open it.

Everything a person might upload by mistake (an empty file, a PDF, a
spreadsheet, a file far too large, text in an unexpected encoding) is turned
away here with a message that says what to do instead. What remains is
recognised by its content (the file name only breaks ties), decoded as it
streams, and handed to the reader for its format. Errors that can only show
later, such as a bad byte deep in the file, still arrive as `StatementError`s.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any, BinaryIO, TextIO, cast

from billfold.statements.camt_file import CamtStatement
from billfold.statements.decoding import (
    check_encoding,
    decode_error,
    detect_bom,
    guess_encoding,
)
from billfold.statements.ofx_file import OfxStatement
from billfold.statements.qif_file import QifStatement
from billfold.statements.records import (
    StatementAccount,
    StatementError,
    StatementErrorCode,
    StatementFormat,
    StatementLine,
    StatementReader,
)

_HEAD = 64 * 1024
_BINARY_SAMPLE = 8 * 1024
# Above this share of control characters in the first 8 KiB, a file is not text.
_CONTROL_SHARE = 0.10
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0c\x1a") + b"\x7f"
_ADVICE = "export CSV, OFX, QFX, QIF or CAMT.053 from your bank instead"
_CAMT_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053."
_ISO20022_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:"
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel (XLS) or other Office file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)
_EXTENSIONS = {
    ".ofx": StatementFormat.OFX,
    ".qfx": StatementFormat.OFX,
    ".qbo": StatementFormat.OFX,
    ".qif": StatementFormat.QIF,
    ".xml": StatementFormat.CAMT053,
    ".csv": StatementFormat.CSV,
    ".txt": StatementFormat.CSV,
    ".tsv": StatementFormat.CSV,
}


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _too_large(max_bytes: int, size: int | None = None) -> StatementError:
    stated = f" ({_megabytes(size)})" if size is not None else ""
    return StatementError(
        StatementErrorCode.FILE_TOO_LARGE,
        f"The file is larger than the {_megabytes(max_bytes)} Billfold accepts{stated}; "
        "export a shorter date range.",
    )


class _Source(io.BufferedIOBase):
    """The uploaded stream as the format readers see it.

    It replays the bytes already read for sniffing, stops a stream that turns
    out larger than the limit, knows how many bytes it has handed out (so a
    decode error can name its offset in the file), and never closes the
    caller's stream.
    """

    def __init__(
        self, raw: BinaryIO, head: bytes, *, base: int, start: int | None, max_bytes: int
    ) -> None:
        super().__init__()
        self._raw = raw
        self._head = head
        self._base = base
        self._start = start
        self._max_bytes = max_bytes
        self._pulled = base + len(head)  # bytes taken from the caller's stream
        self.handed = 0  # bytes handed to the reader, after `base`

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._start is not None

    def tell(self) -> int:
        return self.handed

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self._start is None or offset != 0 or whence != io.SEEK_SET:
            raise io.UnsupportedOperation("only a rewind to the start is supported")
        self._raw.seek(self._start + self._base)
        self._head = b""
        self._pulled = self._base
        self.handed = 0
        return 0

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = [self.read(_HEAD)]
            while parts[-1]:
                parts.append(self.read(_HEAD))
            return b"".join(parts)
        if self._head:
            chunk, self._head = self._head[:size], self._head[size:]
        else:
            chunk = self._raw.read(size)
            self._pulled += len(chunk)
            if self._pulled > self._max_bytes:
                raise _too_large(self._max_bytes)
        self.handed += len(chunk)
        return chunk

    def read1(self, size: int = -1) -> bytes:
        return self.read(size if size >= 0 else _HEAD)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)

    def decode_error(self, error: UnicodeDecodeError, encoding: str) -> StatementError:
        return decode_error(error, self._base + self.handed, encoding)


class _Opened:
    """A format reader whose late failures (bad bytes, a cut-off CSV) become StatementErrors."""

    def __init__(self, inner: Any, source: _Source, encoding: str | None) -> None:
        self._inner = inner
        self._source = source
        self._encoding = encoding

    @property
    def format(self) -> StatementFormat:
        result: StatementFormat = self._inner.format
        return result

    @property
    def accounts(self) -> list[StatementAccount]:
        result: list[StatementAccount] = self._inner.accounts
        return result

    @property
    def period(self) -> tuple[date, date] | None:
        result: tuple[date, date] | None = self._inner.period
        return result

    @property
    def mapping(self) -> Any:
        """The CSV layout used (inferred or given), for the import record; None otherwise."""
        return getattr(self._inner, "mapping", None)

    @property
    def encoding(self) -> str | None:
        return self._encoding or getattr(self._inner, "encoding", None)

    def lines(self) -> Iterator[StatementLine]:
        with _late_errors(self._source, self._encoding):
            yield from self._inner.lines()


@contextmanager
def _late_errors(source: _Source, encoding: str | None) -> Iterator[None]:
    """Turn decoding and CSV-parser failures met while streaming into StatementErrors."""
    try:
        yield
    except UnicodeDecodeError as error:
        raise source.decode_error(error, encoding or error.encoding) from None
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise StatementError(
                StatementErrorCode.TRUNCATED_FILE,
                "The file ends inside a quoted field; it was cut off. Export it again.",
            ) from None
        raise StatementError(
            StatementErrorCode.BAD_ROW, f"The CSV file cannot be read: {error}."
        ) from None


def _read_head(data: BinaryIO, max_bytes: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < _HEAD:
        chunk = data.read(_HEAD - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    head = b"".join(parts)
    if len(head) > max_bytes:
        raise _too_large(max_bytes)
    return head


def _seekable_start(data: BinaryIO, max_bytes: int) -> int | None:
    """Where the stream starts, when it can be rewound; refuses an oversized one at once."""
    try:
        if not data.seekable():
            return None
        start = data.tell()
        end = data.seek(0, io.SEEK_END)
        data.seek(start)
    except (OSError, ValueError):
        return None
    if end - start > max_bytes:
        raise _too_large(max_bytes, end - start)
    return start


def _looks_like_utf16(sample: bytes) -> int | None:
    """The offset of the first NUL when the bytes read like UTF-16 text without a BOM."""
    even, odd = sample[0::2], sample[1::2]
    if len(sample) < 4:
        return None
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / max(len(odd), 1)
    if max(nul_even, nul_odd) > 0.3 and min(nul_even, nul_odd) < 0.05:
        return sample.index(0)
    return None


def _refuse_binary(sample: bytes, base: int) -> None:
    for magic, what in _MAGIC:
        if sample.startswith(magic):
            _binary(what)
    if sample.startswith(b"PK\x03\x04"):
        if b"xl/" in sample:
            _binary("an Excel workbook (XLSX)")
        if b"opendocument.spreadsheet" in sample:
            _binary("an OpenDocument spreadsheet")
        if b"word/" in sample:
            _binary("a Word document")
        _binary("a ZIP archive")
    if 0 in sample:
        nul = _looks_like_utf16(sample)
        if nul is not None:
            raise StatementError(
                StatementErrorCode.BAD_ENCODING,
                f"The file looks like UTF-16 text without a byte-order mark (NUL byte at offset "
                f"{base + nul}); save it as UTF-8, or choose utf-16-le or utf-16-be explicitly.",
            )
        _binary("a binary file, not text")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if sample and controls / len(sample) > _CONTROL_SHARE:
        _binary("a binary file, not text")


def _binary(what: str) -> None:
    raise StatementError(StatementErrorCode.BINARY_FILE, f"The file looks like {what}; {_ADVICE}.")


def _sniff(sample: str, filename: str | None) -> StatementFormat:
    """The format the content shows; the file name's extension only when the content is silent."""
    text = sample.lstrip("\ufeff \t\r\n")
    low = text.lower()
    if low.startswith("ofxheader") or "<ofx>" in low or "<?ofx" in low:
        return StatementFormat.OFX
    if low.startswith("<"):
        if _CAMT_NAMESPACE in low:
            return StatementFormat.CAMT053
        if "<html" in low[:4096] or low.startswith("<!doctype html"):
            what = "a web page (HTML)"
        elif _ISO20022_NAMESPACE + "camt." in low:
            at = low.index(_ISO20022_NAMESPACE) + len(_ISO20022_NAMESPACE)
            what = f"an ISO 20022 {low[at : at + 8]} message, not a camt.053 statement"
        else:
            what = "an XML file that is neither OFX nor camt.053"
        raise StatementError(
            StatementErrorCode.UNSUPPORTED_FORMAT, f"The file is {what}; {_ADVICE}."
        )
    first = low.split("\n", 1)[0].strip()
    if first.startswith(("!type:", "!account", "!option:", "!clear:")):
        return StatementFormat.QIF
    extension = os.path.splitext(filename or "")[1].lower()
    return _EXTENSIONS.get(extension, StatementFormat.CSV)


def _sample_text(body: bytes, encoding: str | None) -> str:
    return body.decode(encoding or "utf-8", errors="replace")


def _whole_lines(body: bytes, encoding: str, at_eof: bool) -> str:
    """The sampled text without a last line that the sample may have cut short."""
    text = _sample_text(body, encoding)
    if at_eof:
        return text
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut >= 0 else text


def _csv_reader(text: TextIO, sample: str, overrides: Mapping[str, Any] | None) -> Any:
    # Imported here so the other formats work while the CSV reader is being replaced.
    from billfold.statements.csv_layout import CsvMapping, infer_mapping
    from billfold.statements.csv_reader import CsvStatement

    if overrides is None:
        return CsvStatement(text)
    given = dict(overrides)
    try:
        mapping = infer_mapping(sample).with_overrides(given)
    except StatementError as error:
        if error.statement_code is not StatementErrorCode.UNRECOGNISED_LAYOUT:
            raise
        # Billfold cannot guess this layout; the client's mapping must stand on its own.
        mapping = CsvMapping.from_dict(given)
    return CsvStatement(text, mapping)


def open_statement(
    data: BinaryIO,
    *,
    filename: str | None = None,
    format: StatementFormat | None = None,
    csv_mapping: Mapping[str, Any] | None = None,
    encoding: str | None = None,
    max_bytes: int,
) -> StatementReader:
    """Open an uploaded statement file for streaming, or raise StatementError saying why not.

    `data` is read from its current position. `format`, `encoding` and `csv_mapping`
    are the client's hints; without them Billfold recognises the format from the
    content, the encoding from a byte-order mark or the file's own declaration (else
    UTF-8, else Windows-1252), and a CSV layout from the header and the values.
    """
    start = _seekable_start(data, max_bytes)
    head = _read_head(data, max_bytes)
    if not head:
        raise StatementError(StatementErrorCode.EMPTY_FILE, "The file is empty.")
    bom = detect_bom(head)
    chosen = check_encoding(encoding) if encoding else None
    text_encoding = chosen or (bom[0] if bom else None)
    skip = bom[1] if bom else 0
    body = head[skip:]
    wide = text_encoding is not None and codecs.lookup(text_encoding).name.startswith(
        ("utf-16", "utf-32")
    )
    sample = _sample_text(body, text_encoding if wide else None)
    if not sample.strip() and len(head) < _HEAD:
        raise StatementError(
            StatementErrorCode.EMPTY_FILE, "The file holds only blank space, no statement."
        )
    if not wide:
        _refuse_binary(body[:_BINARY_SAMPLE], skip)
    kind = format or _sniff(sample, filename)

    if kind in (StatementFormat.OFX, StatementFormat.CAMT053):
        # These read their own declarations (OFX header, XML prolog) from the raw bytes.
        source = _Source(data, head, base=0, start=start, max_bytes=max_bytes)
        stream = cast(BinaryIO, source)
        reader: Any = (
            OfxStatement(stream, encoding=chosen)
            if kind is StatementFormat.OFX
            else CamtStatement(stream, encoding=chosen)
        )
        return _Opened(reader, source, chosen)

    at_eof = len(head) < _HEAD
    text_encoding = text_encoding or guess_encoding(body, final=at_eof)
    source = _Source(data, body, base=skip, start=start, max_bytes=max_bytes)
    text = io.TextIOWrapper(cast(BinaryIO, source), encoding=text_encoding, newline="")
    with _late_errors(source, text_encoding):
        if kind is StatementFormat.QIF:
            reader = QifStatement(text)
        else:
            reader = _csv_reader(text, _whole_lines(body, text_encoding, at_eof), csv_mapping)
    return _Opened(reader, source, text_encoding)
