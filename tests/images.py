"""Real image files for tests: made with Pillow, with the EXIF a phone would write."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

GPS_IFD, EXIF_IFD = 0x8825, 0x8769


def colour(label: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(label.encode()).digest()
    return digest[0], digest[1], digest[2]


def jpeg(label: str = "photo", size: tuple[int, int] = (64, 48), orientation: int | None = None,
         gps: tuple[float, float] | None = None, taken: str | None = None, model: str | None = None,
         quality: int = 90) -> bytes:
    """A JPEG whose left half is `label`'s colour and right half white, so orientation can be seen."""
    image = Image.new("RGB", size, "white")
    image.paste(colour(label), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if model:
        exif[0x0110] = model
    if taken:
        exif.get_ifd(EXIF_IFD)[0x9003] = taken
    if gps:
        lat, lon = gps
        dms = lambda v: (IFDRational(int(v)), IFDRational(int(v * 60) % 60),  # noqa: E731
                         IFDRational(round(v * 3600 % 60 * 100), 100))
        exif.get_ifd(GPS_IFD).update({1: "N", 2: dms(lat), 3: "E", 4: dms(lon)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes() if len(exif) or gps or taken else b"")
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 200, 30, 255)).save(out, "PNG")
    return out.getvalue()


def webp(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 10, 30)).save(out, "WEBP")
    return out.getvalue()


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG header claiming 30,000×30,000 pixels over a few bytes of data: refused before any decode."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + \
        chunk(b"IEND", b"")


def zip_bytes() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.txt", "not evidence")
    return out.getvalue()


def noise_jpeg(size: tuple[int, int] = (400, 300), seed: int = 7, quality: int = 92) -> bytes:
    """Incompressible content, like a real site photo: for size limits and benchmarks."""
    import random

    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()
