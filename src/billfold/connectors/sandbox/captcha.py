"""Small captcha images for the Sophtron sandbox, drawn without an imaging library.

Clients render `CaptchaImage` as a base64 PNG, so the sandbox needs a real
image; a hand-written grayscale PNG encoder (zlib + struct) and a 5x7 bitmap
font keep the service free of Pillow for this one picture.
"""

from __future__ import annotations

import random
import secrets
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Letters and digits that cannot be mistaken for one another (no 0/O, 1/I).
CAPTCHA_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# 5x7 glyphs, one int per row, bit 4 = leftmost pixel.
FONT: dict[str, tuple[int, ...]] = {
    "0": (0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E),
    "1": (0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E),
    "2": (0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F),
    "3": (0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E),
    "4": (0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02),
    "5": (0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E),
    "6": (0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E),
    "7": (0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08),
    "8": (0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E),
    "9": (0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C),
    "A": (0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11),
    "B": (0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E),
    "C": (0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E),
    "D": (0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C),
    "E": (0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F),
    "F": (0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10),
    "G": (0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F),
    "H": (0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11),
    "I": (0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E),
    "J": (0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C),
    "K": (0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11),
    "L": (0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F),
    "M": (0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11),
    "N": (0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11),
    "O": (0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E),
    "P": (0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10),
    "Q": (0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D),
    "R": (0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11),
    "S": (0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E),
    "T": (0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04),
    "U": (0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E),
    "V": (0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04),
    "W": (0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A),
    "X": (0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11),
    "Y": (0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04),
    "Z": (0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F),
}
GLYPH_WIDTH, GLYPH_HEIGHT = 5, 7
SCALE = 4
MARGIN = 8
GAP = 6
BACKGROUND = 236
INK = 40


def captcha_text(length: int = 5) -> str:
    """A fresh code; unpredictable like a real captcha (the sandbox accepts any answer)."""
    return "".join(secrets.choice(CAPTCHA_ALPHABET) for _ in range(length))


def captcha_png(text: str, *, seed: int | None = None) -> bytes:
    """A grayscale PNG showing `text` with jitter, speckles and a stray line.

    The noise is seeded from `seed` (or the text), so one text always gives
    the same image.
    """
    text = text.upper()
    unknown = set(text) - set(FONT)
    if unknown or not text:
        raise ValueError(f"captcha text must use 0-9 and A-Z, got {text!r}")
    rng = random.Random(seed if seed is not None else text)
    cell = GLYPH_WIDTH * SCALE + GAP
    width = 2 * MARGIN + len(text) * cell - GAP
    height = 2 * MARGIN + GLYPH_HEIGHT * SCALE
    pixels = [bytearray([BACKGROUND]) * width for _ in range(height)]

    for _ in range(width * height // 12):  # light speckles over about 8% of the image
        spot = rng.getrandbits(24)
        pixels[(spot >> 12) % height][(spot & 0xFFF) % width] = 150 + (spot >> 18)

    for i, char in enumerate(text):
        left = MARGIN + i * cell + rng.randrange(-2, 3)
        top = MARGIN + rng.randrange(-4, 5)
        for gy, bits in enumerate(FONT[char]):
            for gx in range(GLYPH_WIDTH):
                if bits & (1 << (GLYPH_WIDTH - 1 - gx)):
                    _fill(pixels, left + gx * SCALE, top + gy * SCALE, SCALE, INK)

    # A wavy stroke across the text, as real captchas have.
    start = rng.randrange(MARGIN, height - MARGIN)
    rise = rng.randrange(-height // 3, height // 3 + 1)
    for x in range(width):
        y = start + rise * x // width
        if 0 <= y < height - 1:
            pixels[y][x] = pixels[y + 1][x] = 90
    return encode_png(width, height, pixels)


def _fill(pixels: list[bytearray], left: int, top: int, size: int, value: int) -> None:
    height, width = len(pixels), len(pixels[0])
    for y in range(max(top, 0), min(top + size, height)):
        row = pixels[y]
        for x in range(max(left, 0), min(left + size, width)):
            row[x] = value


def encode_png(width: int, height: int, rows: list[bytearray]) -> bytes:
    """An 8-bit grayscale PNG: signature, IHDR, one zlib IDAT, IEND."""
    if len(rows) != height or any(len(r) != width for r in rows):
        raise ValueError("rows do not match the image size")
    # Each scanline starts with its filter type; 0 = none.
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"".join(
        (
            PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
