"""The captcha PNG: a valid image, decoded by hand the way a PNG reader would."""

from __future__ import annotations

import struct
import zlib

import pytest

from billfold.connectors.sandbox.captcha import (
    CAPTCHA_ALPHABET,
    FONT,
    captcha_png,
    captcha_text,
    encode_png,
)


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, f"bad CRC in {kind!r}"
        chunks.append((kind, data))
        at += 12 + length
    return chunks


def _decode(png: bytes) -> tuple[int, int, list[bytes]]:
    chunks = _chunks(png)
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, color, compression, filters, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (depth, color, compression, filters, interlace) == (8, 0, 0, 0, 0)
    raw = zlib.decompress(b"".join(d for k, d in chunks if k == b"IDAT"))
    assert len(raw) == height * (width + 1)
    rows = [raw[y * (width + 1) : (y + 1) * (width + 1)] for y in range(height)]
    assert all(row[0] == 0 for row in rows), "every scanline uses filter type 0"
    return width, height, [row[1:] for row in rows]


def test_captcha_is_a_valid_small_png() -> None:
    width, height, rows = _decode(captcha_png("AB3D5"))
    assert 60 <= width <= 400 and 20 <= height <= 120
    dark = sum(1 for row in rows for value in row if value < 100)
    assert dark > 5 * 7 * 4, "the glyphs are drawn"
    assert len({value for row in rows for value in row}) > 10, "there is noise"


def test_same_text_same_image_and_different_text_differs() -> None:
    assert captcha_png("K7QX2") == captcha_png("K7QX2")
    assert captcha_png("K7QX2") != captcha_png("K7QX3")
    assert captcha_png("K7QX2", seed=1) != captcha_png("K7QX2", seed=2)


def test_width_grows_with_the_text() -> None:
    short, _, _ = _decode(captcha_png("AB"))
    long, _, _ = _decode(captcha_png("ABCDEF"))
    assert long > short


def test_font_covers_digits_and_capitals() -> None:
    assert set(FONT) == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert all(len(rows) == 7 and all(0 <= r < 32 for r in rows) for rows in FONT.values())
    assert len({rows for rows in FONT.values()}) == len(FONT), "every glyph is distinct"


def test_captcha_text_uses_the_unambiguous_alphabet() -> None:
    texts = {captcha_text() for _ in range(20)}
    assert len(texts) > 1
    assert all(len(t) == 5 and set(t) <= set(CAPTCHA_ALPHABET) for t in texts)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        captcha_png("ab-1")
    with pytest.raises(ValueError):
        encode_png(2, 2, [bytearray(2)])


def test_encoder_round_trips_pixels() -> None:
    rows = [bytearray([0, 128, 255]), bytearray([1, 2, 3])]
    width, height, decoded = _decode(encode_png(3, 2, rows))
    assert (width, height) == (3, 2)
    assert decoded == [bytes(r) for r in rows]
