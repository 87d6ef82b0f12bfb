"""Thumbnail and preview: upright by EXIF, JPEG, with no metadata at all (so no location)."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from services.photos import refusals

SIZES = {"thumb": 256, "preview": 1600}


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=False)  # no exif= argument: nothing of the original's metadata
    return out.getvalue()


def make_derivatives(image: Image.Image) -> dict[str, bytes]:
    """Decode once, at the smallest scale the preview allows (Pillow's draft for JPEG)."""
    try:
        if image.format in ("JPEG", "MPO"):
            # draft scales in the decoder by 1/2, 1/4 or 1/8 while staying above the requested box
            image.draft("RGB", (SIZES["preview"], SIZES["preview"]))
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        message = str(error)
        if "truncated" in message:
            raise refusals.truncated() from None
        raise refusals.corrupt(message) from None
    upright = ImageOps.exif_transpose(image) or image
    if upright.mode != "RGB":
        upright = upright.convert("RGB")
    preview = upright.copy()
    preview.thumbnail((SIZES["preview"], SIZES["preview"]), Image.Resampling.LANCZOS, reducing_gap=2.0)
    thumb = preview.copy()
    thumb.thumbnail((SIZES["thumb"], SIZES["thumb"]), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return {"preview": _encode(preview), "thumb": _encode(thumb)}
