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
            # draft scales in the decoder by 1/2, 1/4 or 1/8 while staying above the requested box; the box
            # must have the photo's own proportions, or a 4:3 photo is decoded at full size
            width, height = image.size
            scale = SIZES["preview"] / max(width, height)
            image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        message = str(error)
        if "truncated" in message:
            raise refusals.truncated() from None
        raise refusals.corrupt(message) from None
    upright = ImageOps.exif_transpose(image) or image
    if upright.mode != "RGB":
        upright = upright.convert("RGB")
    preview = _fit(upright, SIZES["preview"])
    thumb = _fit(preview, SIZES["thumb"])
    return {"preview": _encode(preview), "thumb": _encode(thumb)}


def _fit(image: Image.Image, box: int) -> Image.Image:
    """Scale to fit `box` (never up); bicubic after the decoder's own reduction looks as good as Lanczos here."""
    scale = box / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
