"""Bytes to text for statement files, with errors that name the byte that broke.

A bank file's encoding is declared in several ways (a byte-order mark, an OFX
header, an XML declaration) or not at all. Every format module and the front
that opens a file decide it the same way, and a file that does not decode is
reported with the offset of the first bad byte, so a person can find it.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

from billfold.statements.records import StatementError, StatementErrorCode

# UTF-32 first: its little-endian mark begins with UTF-16's.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


_ASCII_SUPERSETS = frozenset({"cp1252", "iso8859-1", "iso8859-15", "ascii"})


def detect_bom(head: bytes) -> tuple[str, int] | None:
    """The encoding a byte-order mark names and the mark's length, or None."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    return None


def check_encoding(name: str) -> str:
    """The codec's canonical name; a name Python does not know is the file's fault."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise StatementError(
            StatementErrorCode.BAD_ENCODING,
            f"The encoding {name[:40]!r} is not one Billfold knows; "
            "save the file as UTF-8 or name a standard encoding.",
        ) from None


def guess_encoding(sample: bytes, *, final: bool) -> str:
    """UTF-8 when `sample` is valid UTF-8, else Windows-1252, the two encodings banks use.

    `final` says the sample is the whole file; otherwise a character cut at the end
    of the sample is not held against UTF-8.
    """
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final)
        return "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            raise bad_encoding(
                "utf-8 or cp1252", utf8_error.start, sample[utf8_error.start]
            ) from None


def bad_encoding(encoding: str, offset: int, byte: int | None = None) -> StatementError:
    shown = f"byte 0x{byte:02X}" if byte is not None else "the byte"
    return StatementError(
        StatementErrorCode.BAD_ENCODING,
        f"The file does not decode as {encoding}: {shown} at offset {offset} is not valid. "
        "Export it again as UTF-8, or choose the file's encoding explicitly.",
    )


def error_offset(error: UnicodeDecodeError, consumed: int) -> int:
    """The file offset of a decode error, given how many bytes the decoder had been fed.

    Incremental decoders raise with `object` = the bytes they still held plus the
    chunk just fed, so the chunk's end lines up with `consumed`.
    """
    return consumed - len(error.object) + error.start


def decode_error(error: UnicodeDecodeError, consumed: int, encoding: str) -> StatementError:
    offset = error_offset(error, consumed)
    byte = error.object[error.start] if error.start < len(error.object) else None
    return bad_encoding(encoding, offset, byte)


def iter_text(
    data: BinaryIO,
    encoding: str,
    *,
    first: bytes = b"",
    start_offset: int = 0,
    chunk_size: int = 64 * 1024,
) -> Iterator[str]:
    """Decoded chunks of `data` (after the already-read `first` bytes), never the whole file.

    `start_offset` is where `first` sits in the file (after a byte-order mark), so an
    error names the offset a hex editor would show.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    # Python's charmap codecs are ten times slower than its ASCII one; for these
    # stateless single-byte encodings an all-ASCII chunk may skip them.
    ascii_superset = codecs.lookup(encoding).name in _ASCII_SUPERSETS
    consumed = start_offset
    chunk = first
    while True:
        if not chunk:
            chunk = data.read(chunk_size)
        final = not chunk
        consumed += len(chunk)
        try:
            text = (
                chunk.decode("ascii")
                if ascii_superset and chunk.isascii()
                else decoder.decode(chunk, final)
            )
        except UnicodeDecodeError as error:
            raise decode_error(error, consumed, encoding) from None
        if text:
            yield text
        if final:
            return
        chunk = b""
