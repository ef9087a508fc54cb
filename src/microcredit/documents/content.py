"""What an uploaded file really is, and the bytes we keep of it.

The type comes from the content (magic bytes, the `filetype` package), never
from the filename or the browser's declared type: a PNG named `.pdf`, a text
file named `.jpg`, or a declared type that differs from the content is
refused (`document_type_mismatch`). Allowed: JPEG, PNG, WebP and PDF.

Images are decoded with Pillow and re-encoded: the EXIF orientation is
applied to the pixels, then everything else is dropped (EXIF with GPS, XMP,
ICC profiles, comments) because a new image is written from the pixels only;
the long side is capped (`max_side`); JPEG and WebP become JPEG (quality
`jpeg_quality`), PNG stays PNG (lossless, for screenshots of statements).
Pixel count is bounded before decoding: a header claiming more than
`max_pixels` is refused as too large, as is anything Pillow's own
decompression-bomb check refuses.
PDFs are kept byte for byte after checking the `%PDF-` header and the `%%EOF`
trailer (no re-encoding: it would break signatures).
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
from dataclasses import dataclass

import filetype
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from microcredit.documents.errors import DocumentEmpty, DocumentTooLarge, DocumentTypeMismatch, DocumentUnreadable

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
PDF = "application/pdf"
ALLOWED = (*IMAGE_TYPES, PDF)
EXTENSIONS = {"image/jpeg": (".jpg", ".jpeg", ".jfif"), "image/png": (".png",), "image/webp": (".webp",),
              PDF: (".pdf",)}
STORED_EXTENSION = {"image/jpeg": "jpg", "image/png": "png", PDF: "pdf"}
# Declared types browsers and phones send for the same content.
_DECLARED_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": PDF}


@dataclass(frozen=True)
class Limits:
    """The bounds an upload is checked against (from settings.documents)."""

    max_bytes: int
    max_side: int = 3000
    max_pixels: int = 50_000_000
    jpeg_quality: int = 85


@dataclass(frozen=True)
class Prepared:
    """The bytes to store and what they are."""

    data: bytes
    content_type: str
    width: int | None = None
    height: int | None = None


def detect(data: bytes) -> str | None:
    """The MIME type the content shows (magic bytes), or None when it is none we know."""
    kind = filetype.guess(data[:8192])
    return kind.mime if kind is not None else None


def sanitise_filename(name: str | None) -> str:
    """A display name: the last path part, printable characters only, at most 120 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    base = re.sub(r"\s+", " ", base).strip(" .")
    if len(base) > 120:
        stem, ext = os.path.splitext(base)
        base = stem[:120 - len(ext[:10])] + ext[:10]
    return base or "file"


def check_type(data: bytes, *, filename: str | None, declared: str | None) -> str:
    """The detected type, if it is allowed and agrees with the filename's extension and the declared type."""
    if not data:
        raise DocumentEmpty(field="file")
    detected = detect(data)
    if detected not in ALLOWED:
        raise DocumentTypeMismatch(field="file")
    ext = os.path.splitext(filename or "")[1].lower()
    if ext and ext not in EXTENSIONS[detected]:
        raise DocumentTypeMismatch(field="file")
    declared_type = (declared or "").split(";")[0].strip().lower()
    declared_type = _DECLARED_ALIASES.get(declared_type, declared_type)
    if declared_type and declared_type != "application/octet-stream" and declared_type != detected:
        raise DocumentTypeMismatch(field="file")
    return detected


def prepare(data: bytes, *, filename: str | None, declared: str | None, limits: Limits) -> Prepared:
    """Check an upload and produce the bytes to store (images re-encoded, PDFs as they are)."""
    detected = check_type(data, filename=filename, declared=declared)
    if len(data) > limits.max_bytes:
        raise DocumentTooLarge(field="file", params={"limit_mb": _mb(limits.max_bytes)})
    if detected == PDF:
        return Prepared(data=_checked_pdf(data), content_type=PDF)
    return _reencoded(data, detected, limits)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g}"


def _checked_pdf(data: bytes) -> bytes:
    if not data.startswith(b"%PDF-1.") and not data.startswith(b"%PDF-2."):
        raise DocumentUnreadable(field="file")
    if b"%%EOF" not in data[-1024:]:
        raise DocumentUnreadable(field="file")
    return data


def _reencoded(data: bytes, detected: str, limits: Limits) -> Prepared:
    # The pixel bound is checked from the header, before any pixel is decoded. Pillow's own
    # process-wide bound (Image.MAX_IMAGE_PIXELS; DecompressionBombError above twice it) stays as it
    # is: changing a global per request would race between the threads serving uploads.
    too_large = DocumentTooLarge(field="file", params={"limit_mb": _mb(limits.max_bytes)})
    # A truncated image must be refused, not padded with grey: WeasyPrint (contracts) sets Pillow's
    # process-wide LOAD_TRUNCATED_IMAGES when it is imported, so it is put back before every decode
    # (our contract templates embed no image that would need it).
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(io.BytesIO(data)) as source:
            if source.width * source.height > limits.max_pixels:
                raise too_large
            source.load()
            image = ImageOps.exif_transpose(source)
    except Image.DecompressionBombError as exc:
        raise too_large from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DocumentUnreadable(field="file") from exc
    if max(image.size) > limits.max_side:
        image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if detected == "image/png":
        # Only the pixels travel: a new image has no text chunks, EXIF or ICC profile.
        clean = _pixels_only(image, keep_alpha=True)
        clean.save(out, format="PNG", optimize=True)
        content_type = "image/png"
    else:
        clean = _pixels_only(image, keep_alpha=False)
        clean.save(out, format="JPEG", quality=limits.jpeg_quality, optimize=True)
        content_type = "image/jpeg"
    return Prepared(data=out.getvalue(), content_type=content_type, width=clean.width, height=clean.height)


def _pixels_only(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """A new image holding only `image`'s pixels (in RGB, RGBA or L), no metadata at all."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if keep_alpha and has_alpha:
        mode = "RGBA"
    elif image.mode in ("L", "1"):
        mode = "L"
    else:
        mode = "RGB"
    converted = image.convert(mode)
    clean = Image.new(mode, converted.size)
    clean.paste(converted)
    return clean
