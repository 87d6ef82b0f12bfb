"""Why a photo is refused: one code each, with the limits a client needs to do better."""

from __future__ import annotations

from typing import Any

from services.api.errors import ApiError


def refused(status: int, code: str, title: str, detail_zh: str, **extra: Any) -> ApiError:
    return ApiError(status, code, title, detail_zh, **extra)


def too_large(size: int, limit: int) -> ApiError:
    return refused(413, "photo_too_large", "The photo is larger than the limit",
                   f"照片大小 {size} 字节超过上限 {limit} 字节；大文件请用分块上传", max_bytes=limit, size=size)


def empty() -> ApiError:
    return refused(422, "photo_empty", "The file is empty", "文件为空（0 字节）")


def not_an_image(name: str | None) -> ApiError:
    return refused(415, "photo_not_an_image", "The file is not an image of a supported type",
                   f"文件“{name or ''}”不是受支持的图片（仅支持 JPEG、PNG、WebP、HEIC）",
                   accepted=["image/jpeg", "image/png", "image/webp", "image/heic"])


def unsupported(fmt: str) -> ApiError:
    return refused(415, "photo_unsupported_type", "This image format is not accepted",
                   f"不支持的图片格式：{fmt}（仅支持 JPEG、PNG、WebP、HEIC）",
                   accepted=["image/jpeg", "image/png", "image/webp", "image/heic"])


def too_many_pixels(width: int, height: int, limit: int) -> ApiError:
    return refused(422, "photo_too_many_pixels", "The image has more pixels than allowed (decompression bomb guard)",
                   f"图片像素 {width}×{height} 超过上限 {limit} 像素", max_pixels=limit, width=width, height=height)


def truncated() -> ApiError:
    return refused(422, "photo_truncated", "The image is truncated", "图片文件不完整（可能上传中断），请重新上传")


def corrupt(reason: str) -> ApiError:
    return refused(422, "photo_corrupt", "The image cannot be decoded", f"图片已损坏，无法解码：{reason[:120]}")


def trailing_data(extra: int) -> ApiError:
    return refused(422, "photo_trailing_data", "Data follows the end of the image (a polyglot file)",
                   f"图片结束标记之后还有 {extra} 字节其他数据（例如附加的压缩包），作为证据不予接收；"
                   "动态照片请导出为静态照片", trailing_bytes=extra)


def hash_mismatch(declared: str, actual: str) -> ApiError:
    return refused(422, "photo_hash_mismatch", "The SHA-256 sent does not match the bytes received",
                   "客户端声明的 SHA-256 与收到的文件不一致，文件可能在传输中损坏", declared=declared, actual=actual)


def store_unavailable() -> ApiError:
    return refused(503, "object_store_unavailable", "The photo store is unreachable",
                   "照片存储暂时不可用，请稍后重试；离线记录不会丢失")


def not_found(photo_id: str) -> ApiError:
    return refused(404, "photo_not_found", "No such photo", f"照片不存在：{photo_id[:64]}")


def out_of_scope(photo_id: str) -> ApiError:
    return refused(403, "photo_out_of_scope", "This photo is outside your scope",
                   f"照片不在您的授权范围内：{photo_id[:64]}")


def store_busy(wait_s: float) -> ApiError:
    return refused(503, "photo_store_busy", "Too many photo requests are waiting for the photo store",
                   "照片存储繁忙（或无响应），请稍后重试；离线记录不会丢失", retry_after_s=max(1, round(wait_s)))
