"""Refusals of the documents domain (every upload refusal names the field it is about)."""

from __future__ import annotations

from microcredit.errors import DomainError


class DocumentTypeMismatch(DomainError):
    """The file's content is not what it claims (extension or declared type), or not an allowed kind."""

    status = 422
    code = "document_type_mismatch"
    message_zh = "文件内容与类型不符：仅支持 JPEG、PNG、WebP 图片和 PDF 文件"
    message_en = "The file's content does not match its type: only JPEG, PNG and WebP images and PDF files are accepted"


class DocumentUnreadable(DomainError):
    """The file has an allowed type but cannot be read (truncated or damaged image, malformed PDF)."""

    status = 422
    code = "document_unreadable"
    message_zh = "文件已损坏或无法读取，请重新拍摄或选择文件"
    message_en = "The file is damaged or cannot be read; take the photo again or choose another file"


class DocumentTooLarge(DomainError):
    """The file is over the size limit of its document type (or an image of too many pixels)."""

    status = 422
    code = "document_too_large"
    message_zh = "文件过大：此类材料最大 {limit_mb} MB"
    message_en = "The file is too large: at most {limit_mb} MB for this kind of document"


class DocumentEmpty(DomainError):
    """No bytes were uploaded."""

    status = 422
    code = "document_empty"
    message_zh = "文件为空"
    message_en = "The file is empty"


class DuplicateDocument(DomainError):
    """The borrower already has this very file on record (same SHA-256)."""

    status = 409
    code = "duplicate_document"
    message_zh = "该文件已上传过（材料编号 {document_id}）"
    message_en = "This file has already been uploaded (document {document_id})"


class DocumentFileMissing(DomainError):
    """The row exists but storage has no bytes for it (a restore without the storage, an operator's mistake)."""

    status = 410
    code = "document_file_missing"
    message_zh = "材料文件已不在存储中，请联系管理员"
    message_en = "The document's file is no longer in storage; contact an administrator"
