"""Derivatives are upright for every EXIF orientation, at their sizes, without metadata: the preview is turned
after its resize, so both the small-photo path and the drafted, split-resize path are checked."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image, ImageOps

from services.photos.checks import inspect_image
from services.photos.derivatives import make_derivatives

QUADRANTS = ((220, 30, 30), (30, 200, 40), (40, 60, 230), (240, 220, 40))  # top left, top right, bottom l., r.


def quadrant_photo(size: tuple[int, int], orientation: int) -> bytes:
    """Four colours, one a quadrant, as the sensor saw them; the EXIF says how to turn them, and has GPS."""
    image = Image.new("RGB", size)
    w, h = size
    for (x, y), colour in zip(((0, 0), (1, 0), (0, 1), (1, 1)), QUADRANTS, strict=True):
        image.paste(colour, (x * w // 2, y * h // 2, (x + 1) * w // 2, (y + 1) * h // 2))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({ExifTags.GPS.GPSLatitudeRef: "N",
                                                ExifTags.GPS.GPSLatitude: (31.0, 13.0, 50.5)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def expected_layout(orientation: int) -> list[tuple[int, ...]]:
    """The quadrants' colours once upright, by Pillow's own exif_transpose of a 2×2 picture of them."""
    tiny = Image.new("RGB", (2, 2))
    tiny.putdata(list(QUADRANTS))
    tiny.getexif()[ExifTags.Base.Orientation] = orientation
    ImageOps.exif_transpose(tiny, in_place=True)
    pixels = tiny.get_flattened_data()  # row by row: top left, top right, bottom left, bottom right
    return [pixel for pixel in pixels if isinstance(pixel, tuple)]


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(("size", "preview_long"), [((400, 200), 400), ((3400, 1700), 1600)])
def test_derivatives_are_upright_sized_and_without_metadata(orientation: int, size: tuple[int, int],
                                                             preview_long: int) -> None:
    data = quadrant_photo(size, orientation)
    _facts, image = inspect_image(data, "q.jpg", 30 * 2**20, 80_000_000)
    with image:
        derivatives = make_derivatives(image)
    turned = orientation >= 5  # 5-8 swap width and height
    for name, long_side in (("preview", preview_long), ("thumb", 256)):
        derived = Image.open(io.BytesIO(derivatives[name]))
        short_side = long_side // 2
        assert derived.size == ((short_side, long_side) if turned else (long_side, short_side)), name
        assert not derived.getexif() and "exif" not in derived.info, name
        w, h = derived.size
        centres = [(w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4)]
        seen = [derived.convert("RGB").getpixel(xy) for xy in centres]
        for got, want in zip(seen, expected_layout(orientation), strict=True):
            assert got == pytest.approx(want, abs=12), (name, orientation, seen)
