"""Photos in an S3 bucket (SeaweedFS embedded, MinIO or any S3 for real), through the `minio` client.

Layout: `originals/<sha256>` byte-for-byte, `previews/<sha256>.jpg`, `thumbs/<sha256>.jpg`, and
`meta/<sha256>.json` written last: a photo exists only once its meta does, so a failure half-way
leaves nothing any event can reference. `grants/<sha256>/<scope>` say which projects (or, before a
project is named, which uploader) may see it.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

import urllib3
from minio import Minio
from minio.error import S3Error

from services.photos import refusals
from services.photos.probe import StoreProbe

PART = 8 * 1024 * 1024
SETUP_TIMEOUT_S = 30.0
READY_KEY = "siteledger-ready"


class PhotoStore:
    """Every call is bounded: short timeouts and no retries inside a request (a client retries, a hung store
    answers 503 within seconds instead of 10 s × 3 urllib3 attempts)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, secure: bool = False,
                 region: str | None = None, connect_timeout_s: float = 2.0, read_timeout_s: float = 3.0,
                 probe_interval_s: float = 2.0, writers: int = 16) -> None:
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s),
            retries=False,
            maxsize=max(16, writers),
        )
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure,
                            region=region, http_client=http)
        # making the bucket and its first write (SeaweedFS grows its volumes then: ~5 s) may take longer than
        # any request should wait: done once, ahead of the first photo when /readyz has probed
        self._setup = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region,
                            http_client=urllib3.PoolManager(timeout=urllib3.Timeout(
                                connect=connect_timeout_s, read=max(read_timeout_s, SETUP_TIMEOUT_S)),
                                retries=False, maxsize=2))
        self.bucket = bucket
        self._bucket_ready = False
        self._preparing = threading.Lock()
        # the original and its derivatives are written side by side (the meta last, alone)
        self._writers = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="photo-write")
        self.probe = StoreProbe(self.ping, probe_interval_s, slow_s=min(1.0, read_timeout_s), warm_up=self._prepare)

    def close(self) -> None:
        self.probe.stop()
        self._writers.shutdown(wait=False, cancel_futures=True)

    # --- plumbing ------------------------------------------------------------------------

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Any failure to reach the store is a 503 for the client, never a half-done write; while the background
        probe finds the store down, the 503 comes at once instead of after a timeout."""
        if self.probe.down():
            raise refusals.store_unavailable()
        return self._reach(fn, *args, **kwargs)

    def _reach(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            if not self._bucket_ready:
                self._prepare()
            return fn(*args, **kwargs)
        except S3Error:
            raise
        except Exception as error:  # urllib3 connection, timeout, protocol errors
            raise refusals.store_unavailable() from error

    def _prepare(self) -> None:
        with self._preparing:
            if self._bucket_ready:
                return
            if not self._setup.bucket_exists(self.bucket):
                try:
                    self._setup.make_bucket(self.bucket)
                except S3Error as error:
                    if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            self._setup.put_object(self.bucket, READY_KEY, io.BytesIO(b"ready"), 5, content_type="text/plain")
            self._bucket_ready = True

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        self._call(self.client.put_object, self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)

    def _exists(self, key: str) -> bool:
        try:
            self._call(self.client.stat_object, self.bucket, key)
            return True
        except S3Error as error:
            if error.code in ("NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"):
                return False
            raise refusals.store_unavailable() from error

    def ping(self) -> None:
        self._reach(self.client.bucket_exists, self.bucket)  # never short-cut by the probe: it is the probe

    # --- photos --------------------------------------------------------------------------

    def meta(self, sha: str) -> dict[str, Any] | None:
        try:
            response = self._call(self.client.get_object, self.bucket, f"meta/{sha}.json")
        except S3Error as error:
            if error.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return None
            raise refusals.store_unavailable() from error
        try:
            return json.loads(response.read())
        finally:
            response.close()
            response.release_conn()

    def write_original(self, sha: str, original: bytes, content_type: str) -> Future[None]:
        """Start writing the original now, while the caller is still making the derivatives."""
        return self._writers.submit(self._put, f"originals/{sha}", original, content_type)

    def save(self, sha: str, original: bytes | Future[None], derivatives: dict[str, bytes], meta: dict[str, Any],
             content_type: str | None = None) -> None:
        """Original and derivatives concurrently; the meta only once every one of them is stored."""
        writes = [original if isinstance(original, Future) else
                  self.write_original(sha, original, content_type or meta["content_type"])]
        writes += [self._writers.submit(self._put, f"{size}s/{sha}.jpg", data, "image/jpeg")
                   for size, data in derivatives.items()]
        wait(writes)  # every write has ended (none left running against a half-saved photo) ...
        for write in writes:
            write.result()  # ... then the first failure, a 503, is raised
        self._put(f"meta/{sha}.json", json.dumps(meta, ensure_ascii=False).encode(), "application/json")

    def grant(self, sha: str, scope: str) -> None:
        self._put(f"grants/{sha}/{scope}", b"", "text/plain")

    def grants(self, sha: str) -> set[str]:
        objects = self._call(lambda: list(self.client.list_objects(self.bucket, prefix=f"grants/{sha}/")))
        return {obj.object_name.rsplit("/", 1)[-1] for obj in objects}

    def open(self, sha: str, size: str) -> tuple[Generator[bytes, None, None], int]:
        key = f"originals/{sha}" if size == "original" else f"{size}s/{sha}.jpg"
        try:
            response = self._call(self.client.get_object, self.bucket, key)
        except S3Error as error:
            raise refusals.not_found(sha) from error
        length = int(response.headers.get("Content-Length", 0))

        def chunks() -> Generator[bytes, None, None]:
            try:
                yield from response.stream(256 * 1024)
            finally:
                response.close()
                response.release_conn()

        return chunks(), length

    # --- resumable uploads ---------------------------------------------------------------

    def put_chunk(self, upload_id: str, offset: int, data: bytes) -> None:
        self._put(f"uploads/{upload_id}/{offset:012d}", data, "application/octet-stream")

    def assemble(self, upload_id: str) -> bytes:
        objects = self._call(lambda: sorted(self.client.list_objects(self.bucket, prefix=f"uploads/{upload_id}/"),
                                            key=lambda o: o.object_name))
        out = bytearray()
        for obj in objects:
            response = self._call(self.client.get_object, self.bucket, obj.object_name)
            try:
                out += response.read()
            finally:
                response.close()
                response.release_conn()
        return bytes(out)

    def discard_upload(self, upload_id: str) -> None:
        for obj in self._call(lambda: list(self.client.list_objects(self.bucket, prefix=f"uploads/{upload_id}/"))):
            self._call(self.client.remove_object, self.bucket, obj.object_name)


def now() -> str:
    return datetime.now(UTC).isoformat()
