"""Checks on collateral uploads: the extension is allowed, the content really is that kind of
file (magic bytes, not the browser's word), the size is under the limit and the name carries
no path.

Office files (pptx, docx) are zip archives: the zip signature alone would let any zip in, so
the archive's table of contents must hold the part that makes it that kind of document.
"""

from __future__ import annotations

import os
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import get_valid_filename

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    content_type: str
    label: str


ALLOWED_EXTENSIONS: dict[str, FileKind] = {
    ".pdf": FileKind("application/pdf", "PDF"),
    ".png": FileKind("image/png", "PNG image"),
    ".jpg": FileKind("image/jpeg", "JPEG image"),
    ".jpeg": FileKind("image/jpeg", "JPEG image"),
    ".mp4": FileKind("video/mp4", "MP4 video"),
    ".pptx": FileKind(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint presentation"
    ),
    ".docx": FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word document"),
}

_OFFICE_PART = {".pptx": "ppt/presentation.xml", ".docx": "word/document.xml"}


def max_upload_bytes() -> int:
    return int(getattr(settings, "COLLATERAL_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def safe_upload_name(name: str, *, field: str = "file") -> str:
    """The name to store, or a ValidationError if the name tries to reach another directory.

    A name with a directory part ("../x.pdf", "a/b.pdf", "..\\x.pdf"), a NUL or other control
    character, or nothing usable left after cleaning is refused rather than silently cut down:
    a name like that is not an accident.
    """
    name = unicodedata.normalize("NFC", name or "").strip()
    if not name:
        raise ValidationError({field: "The file has no name."})
    if any(sep in name for sep in ("/", "\\")) or name in (".", ".."):
        raise ValidationError({field: "The file name must not contain a path (/, \\ or ..)."})
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ValidationError({field: "The file name contains control characters."})
    if name.startswith("."):
        raise ValidationError({field: "The file name must not start with a dot."})
    cleaned = get_valid_filename(name)
    stem, ext = os.path.splitext(cleaned)
    if not stem:
        raise ValidationError({field: "The file name has nothing before its extension."})
    return f"{stem[:120]}{ext.lower()}"


def _sniff(head: bytes, ext: str, upload) -> bool:
    if ext == ".pdf":
        return head.startswith(b"%PDF-")
    if ext == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in (".jpg", ".jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == ".mp4":
        return len(head) >= 12 and head[4:8] == b"ftyp"
    if ext in _OFFICE_PART:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            upload.seek(0)
            with zipfile.ZipFile(upload) as archive:
                return _OFFICE_PART[ext] in archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
    return False


def validate_collateral_file(upload, *, name: str | None = None, field: str = "file") -> tuple[str, FileKind]:
    """Validate an uploaded file; returns (safe stored name, kind). Raises ValidationError
    naming ``field`` for a bad name, a disallowed type, content that does not match the
    extension, an empty file or one over ``COLLATERAL_MAX_UPLOAD_BYTES``."""
    if upload is None:
        raise ValidationError({field: "Choose a file to upload."})
    safe_name = safe_upload_name(name if name is not None else upload.name, field=field)
    ext = os.path.splitext(safe_name)[1].lower()
    kind = ALLOWED_EXTENSIONS.get(ext)
    if kind is None:
        allowed = ", ".join(sorted(ALLOWED_EXTENSIONS))
        raise ValidationError({field: f"Files of type '{ext or 'none'}' are not allowed; allowed: {allowed}."})
    size = upload.size
    limit = max_upload_bytes()
    if size is None or size <= 0:
        raise ValidationError({field: "The file is empty."})
    if size > limit:
        raise ValidationError(
            {field: f"The file is {size:,} bytes; the most allowed is {limit:,} bytes ({limit // (1024 * 1024)} MB)."}
        )
    upload.seek(0)
    head = upload.read(16)
    ok = _sniff(head, ext, upload)
    upload.seek(0)
    if not ok:
        raise ValidationError({field: f"The file's content is not a {kind.label}, although its name ends in {ext}."})
    return safe_name, kind


# Room for the multipart boundaries and the other form fields around the file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def request_too_large(request, *, field: str = "file") -> ValidationError | None:
    """A ValidationError when the request body announces more than the upload limit (plus
    form overhead), so an oversized upload is refused before it is read and spooled to disk;
    None otherwise. The size of the file itself is checked again after the upload."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    limit = max_upload_bytes()
    if length > limit + MULTIPART_OVERHEAD_BYTES:
        return ValidationError(
            {
                field: f"The upload is {length:,} bytes; the most allowed is {limit:,} bytes ({limit // (1024 * 1024)} MB)."
            }
        )
    return None
