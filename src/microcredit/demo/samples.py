"""The demo's made-up documents, drawn with Pillow (so no binary file is kept in the repository), each
plainly marked as a sample."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

__all__ = ["sample_id_card", "sample_income_proof", "sample_scan"]


def sample_id_card() -> bytes:
    """A made-up ID-card photo (JPEG, with a camera's EXIF) — plainly marked as a sample."""
    image = Image.new("RGB", (856, 540), (226, 236, 246))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((20, 20, 836, 520), radius=28, outline=(60, 90, 140), width=4)
    draw.rectangle((600, 110, 800, 360), fill=(190, 205, 225))
    for y, text in ((70, "SAMPLE - DEMO ONLY"), (150, "Holder: demo borrower"),
                    (210, "Resident ID card (front)"), (270, "Not a real document")):
        draw.text((60, y), text, fill=(30, 40, 60), font_size=32)
    exif = Image.Exif()
    exif[0x010F] = "DemoPhone"
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def sample_income_proof() -> bytes:
    """A made-up one-page income proof (PDF, drawn with Pillow) — plainly marked as a sample."""
    page = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(page)
    for y, text in ((120, "PROOF OF INCOME - SAMPLE, DEMO ONLY"), (260, "Employee: demo borrower"),
                    (330, "Monthly income: CNY 9,000.00"), (400, "Issued by: Demo Employer Ltd. (fictitious)")):
        draw.text((120, y), text, fill="black", font_size=40)
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=150)
    return out.getvalue()


def sample_scan(title: str, holder: str) -> bytes:
    """A made-up one-page scan of a proof (JPEG) -- plainly marked as a sample."""
    page = Image.new("RGB", (900, 1200), (250, 250, 246))
    draw = ImageDraw.Draw(page)
    for y, text in ((80, f"{title} - SAMPLE, DEMO ONLY"), (180, f"Holder: {holder}"),
                    (250, "Not a real document")):
        draw.text((80, y), text, fill=(20, 20, 20), font_size=36)
    out = io.BytesIO()
    page.save(out, format="JPEG", quality=85)
    return out.getvalue()
