"""Uploads are judged by their content: magic bytes, re-encoding without metadata, size and pixel bounds."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from microcredit.documents import content
from microcredit.documents.errors import DocumentEmpty, DocumentTooLarge, DocumentTypeMismatch, DocumentUnreadable

LIMITS = content.Limits(max_bytes=8 * 1024 * 1024, max_side=3000, max_pixels=50_000_000)
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg(width: int = 40, height: int = 20, *, gps: bool = False, orientation: int | None = None,
         colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    # A marker in the top-left corner, to see where it ends up after rotation.
    image.paste((0, 0, 255), (0, 0, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def png(width: int = 30, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 200, 10, 128)).save(out, format="PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"


def test_a_png_named_pdf_is_refused() -> None:
    with pytest.raises(DocumentTypeMismatch) as refused:
        content.prepare(png(), filename="payslip.pdf", declared="application/pdf", limits=LIMITS)
    assert refused.value.field == "file"
    assert refused.value.code == "document_type_mismatch"


def test_a_png_named_pdf_is_refused_even_without_a_declared_type() -> None:
    with pytest.raises(DocumentTypeMismatch):
        content.prepare(png(), filename="payslip.pdf", declared=None, limits=LIMITS)


def test_a_text_file_named_jpg_is_refused() -> None:
    with pytest.raises(DocumentTypeMismatch):
        content.prepare(b"hello, this is not a photo\n" * 20, filename="id.jpg", declared="image/jpeg",
                        limits=LIMITS)


def test_a_declared_type_that_differs_from_the_content_is_refused() -> None:
    with pytest.raises(DocumentTypeMismatch):
        content.prepare(jpeg(), filename="id", declared="image/png", limits=LIMITS)


def test_a_kind_not_allowed_is_refused_though_named_honestly() -> None:
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    with pytest.raises(DocumentTypeMismatch):
        content.prepare(gif.getvalue(), filename="x.gif", declared="image/gif", limits=LIMITS)


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(DocumentEmpty):
        content.prepare(b"", filename="id.jpg", declared="image/jpeg", limits=LIMITS)


def test_exif_and_gps_are_gone_after_re_encoding() -> None:
    upload = jpeg(gps=True)
    with Image.open(io.BytesIO(upload)) as before:
        assert GPS_IFD in before.getexif()  # the fixture really carries a location
    stored = content.prepare(upload, filename="id.JPG", declared="image/jpeg", limits=LIMITS)
    assert stored.content_type == "image/jpeg"
    with Image.open(io.BytesIO(stored.data)) as after:
        assert dict(after.getexif()) == {}
        assert "exif" not in after.info
        assert "icc_profile" not in after.info
        assert "xmp" not in after.info
    assert b"PhoneMaker" not in stored.data


def test_png_text_chunks_are_dropped() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "secret-location")
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, format="PNG", pnginfo=info)
    stored = content.prepare(out.getvalue(), filename="s.png", declared="image/png", limits=LIMITS)
    assert stored.content_type == "image/png"
    assert b"secret-location" not in stored.data


def test_the_exif_orientation_is_applied_to_the_pixels() -> None:
    # Orientation 6: the camera was turned; viewers rotate 90° clockwise. 40×20 becomes 20×40.
    stored = content.prepare(jpeg(40, 20, orientation=6), filename="id.jpg", declared="image/jpeg", limits=LIMITS)
    with Image.open(io.BytesIO(stored.data)) as after:
        assert after.size == (20, 40)
        assert ORIENTATION not in after.getexif()
        # The blue marker (top-left before) is at the top-right after a clockwise turn.
        r, _g, b = after.convert("RGB").getpixel((after.width - 3, 3))  # type: ignore[misc]
        assert b > 150
        assert r < 100


def test_the_long_side_is_capped() -> None:
    limits = content.Limits(max_bytes=LIMITS.max_bytes, max_side=1000)
    stored = content.prepare(jpeg(2400, 1200), filename="a.jpg", declared=None, limits=limits)
    assert (stored.width, stored.height) == (1000, 500)


def test_webp_is_stored_as_jpeg() -> None:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (5, 5, 5)).save(out, format="WEBP")
    stored = content.prepare(out.getvalue(), filename="a.webp", declared="image/webp", limits=LIMITS)
    assert stored.content_type == "image/jpeg"


def test_a_file_over_the_limit_is_refused() -> None:
    upload = jpeg(600, 600)
    small = content.Limits(max_bytes=len(upload) - 1)
    with pytest.raises(DocumentTooLarge) as refused:
        content.prepare(upload, filename="a.jpg", declared="image/jpeg", limits=small)
    assert refused.value.field == "file"


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    # A tiny PNG whose header claims 20000 × 20000 pixels (400 M) of one colour: a few hundred KB.
    out = io.BytesIO()
    Image.new("1", (20000, 20000), 0).save(out, format="PNG", optimize=True)
    bomb = out.getvalue()
    assert len(bomb) < LIMITS.max_bytes
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(DocumentTooLarge):
        content.prepare(bomb, filename="bomb.png", declared="image/png", limits=LIMITS)
    assert before == Image.MAX_IMAGE_PIXELS  # no process-wide setting is touched


def test_an_image_over_the_configured_pixel_bound_is_refused_from_its_header() -> None:
    out = io.BytesIO()
    Image.new("1", (3000, 2000), 0).save(out, format="PNG", optimize=True)  # 6 M pixels
    with pytest.raises(DocumentTooLarge):
        content.prepare(out.getvalue(), filename="big.png", declared=None,
                        limits=content.Limits(max_bytes=LIMITS.max_bytes, max_pixels=5_000_000))


def test_a_truncated_image_is_unreadable() -> None:
    upload = jpeg(300, 300)
    with pytest.raises(DocumentUnreadable):
        content.prepare(upload[: len(upload) // 2], filename="a.jpg", declared="image/jpeg", limits=LIMITS)


def test_a_pdf_is_kept_byte_for_byte() -> None:
    stored = content.prepare(PDF, filename="income.pdf", declared="application/pdf", limits=LIMITS)
    assert stored.data == PDF
    assert stored.content_type == "application/pdf"


def test_a_pdf_without_its_trailer_is_unreadable() -> None:
    with pytest.raises(DocumentUnreadable):
        content.prepare(PDF.replace(b"%%EOF", b""), filename="x.pdf", declared="application/pdf", limits=LIMITS)


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\me\\身份证 正面.jpg", "身份证 正面.jpg"),
    ("a\x00b\nc.png", "abc.png"), ("", "file"), ("...", "file"),
])
def test_filenames_are_sanitised_for_display(name: str, expected: str) -> None:
    assert content.sanitise_filename(name) == expected


def test_a_truncated_image_is_refused_even_after_weasyprint_is_imported() -> None:
    import weasyprint  # noqa: F401  (sets PIL's LOAD_TRUNCATED_IMAGES when imported)
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True  # as WeasyPrint leaves it
    test_a_truncated_image_is_unreadable()
