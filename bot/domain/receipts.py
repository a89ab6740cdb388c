"""Which files are acceptable receipts: a photo (JPEG, PNG, WebP) or a PDF, at most 10 MB.

The declared content type is not trusted: the first bytes decide.
"""

from __future__ import annotations

MAX_BYTES = 10 * 1024 * 1024
_SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)


class ReceiptError(ValueError):
    """Why the file is refused (Spanish, for the customer)."""


def receipt_extension(data: bytes) -> str:
    """'pdf', 'jpg', 'png' or 'webp'; ReceiptError otherwise."""
    if len(data) > MAX_BYTES:
        raise ReceiptError(f"El archivo pesa {len(data) / 1024 / 1024:.1f} MB; el máximo es 10 MB.")
    if not data:
        raise ReceiptError("El archivo llegó vacío.")
    for signature, extension in _SIGNATURES:
        if data.startswith(signature):
            return extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise ReceiptError("Solo puedo recibir el comprobante como foto (JPG, PNG o WebP) o PDF.")
