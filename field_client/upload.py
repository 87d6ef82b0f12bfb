"""Photos over a weak link: tus 1.0 uploads that resume from the server's offset, never from byte 0.

A photo is sent as one PATCH from wherever the server is. When the link drops mid-way, the server keeps what
arrived (it stores a dropped PATCH's bytes); the tablet asks `HEAD` for the offset and goes on from there, so
over a link that resets every few seconds each connection moves the photo forward. The upload's URL is kept
in the local store as soon as it exists, so a sync killed (or a tablet switched off) resumes the same upload
next time. The server checks the photo (SHA-256 taken at capture, the image checks) when the last byte is in.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from field_client.api import TRANSIENT, Api, json_of, problem_of
from field_client.errors import Offline, TokenRevoked

TUS = "/api/v1/tus/photos"
PIECE = 16 * 1024  # what is handed to the socket at a time: progress moves smoothly, memory stays small
HEADERS = {"Tus-Resumable": "1.0.0"}


@dataclass(frozen=True)
class Photo:
    sha: str
    path: Path
    size: int
    content_type: str
    project_id: str
    url: str | None  # an upload begun by an earlier sync


def _metadata(values: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


class PhotoUploader:
    """`send` answers ("uploaded" | "skipped" | "refused", problem); a link that never lets it finish raises
    Offline after `retry.attempts` connections in a row that moved nothing."""

    def __init__(self, api: Api, remember: Callable[[Photo, str | None], None],
                 on_bytes: Callable[[str, int], None]) -> None:
        self.api, self.remember, self.on_bytes = api, remember, on_bytes
        self.bytes_sent = 0  # body bytes handed to the network, resends included

    def send(self, photo: Photo) -> tuple[str, dict[str, Any] | None]:
        if self.api.photo_exists(photo.sha):
            self.on_bytes(photo.sha, photo.size)
            return "skipped", None
        url, offset = photo.url, None
        if url is not None:
            offset = self._offset(url)
        if url is None or offset is None:
            url, offset = self._create(photo), 0
        stalled = 0
        while True:
            self.on_bytes(photo.sha, offset)
            if offset >= photo.size:
                return "uploaded", None
            try:
                response = self._patch(photo, url, offset)
            except httpx.TransportError as error:  # the link dropped: resume from what the server kept
                url, offset, stalled = self._resume(photo, url, offset, stalled, type(error).__name__)
                continue
            status = response.status_code
            if status == 204:
                new_offset = int(response.headers.get("upload-offset", offset))
                stalled = 0 if new_offset > offset else stalled
                offset = new_offset
            elif status == 401:
                raise TokenRevoked(problem_of(401, json_of(response))["detail"])
            elif status in (404, 410):  # expired or gone: a new upload, from 0
                url, offset = self._create(photo), 0
            elif status in (409, 423, 460) or status in TRANSIENT:
                url, offset, stalled = self._resume(photo, url, offset, stalled, f"HTTP {status}")
            else:  # the photo itself is refused (not an image, a wrong hash, too large): for the user to see
                self.remember(photo, None)
                return "refused", problem_of(status, json_of(response))

    def _resume(self, photo: Photo, url: str, offset: int, stalled: int, why: str) -> tuple[str, int, int]:
        """Ask where the server is. Only connections in a row that moved nothing count against the attempts
        and back off (with jitter): on a link that drops every few seconds, each drop that delivered resumes at once."""
        known = self._offset(url)
        stalled = 0 if known is not None and known > offset else stalled + 1
        if stalled >= self.api.retry.attempts:
            raise Offline(why)
        if stalled:
            self.api.retry.sleep(self.api.retry.delay(stalled))
        if known is None:
            return self._create(photo), 0, stalled
        return url, known, stalled

    def _create(self, photo: Photo) -> str:
        response = self.api.request("POST", TUS, headers={**HEADERS, "Upload-Length": str(photo.size),
                                                          "Upload-Metadata": _metadata({
                                                              "filename": f"{photo.sha}.img", "sha256": photo.sha,
                                                              "project_id": photo.project_id,
                                                              "filetype": photo.content_type})})
        if response.status_code != 201 or "location" not in response.headers:
            raise Offline(f"HTTP {response.status_code} {problem_of(response.status_code, json_of(response))['code']}")
        url = response.headers["location"]
        self.remember(photo, url)
        return url

    def _offset(self, url: str) -> int | None:
        """The server's offset, or None when that upload is gone (expired, refused, never made)."""
        response = self.api.request("HEAD", url, headers=HEADERS)
        if response.status_code in (404, 410):
            return None
        offset = response.headers.get("upload-offset", "")
        if response.status_code != 200 or not offset.isdigit():
            raise Offline(f"HEAD HTTP {response.status_code}")
        return int(offset)

    def _patch(self, photo: Photo, url: str, offset: int) -> httpx.Response:
        with self.api._count:
            self.api.requests += 1
        return self.api.client.patch(url, content=self._body(photo, offset), headers={
            **HEADERS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(photo.size - offset)})

    def _body(self, photo: Photo, offset: int) -> Iterator[bytes]:
        sent = offset
        with photo.path.open("rb") as source:
            source.seek(offset)
            while piece := source.read(PIECE):
                yield piece
                sent += len(piece)
                self.bytes_sent += len(piece)
                self.on_bytes(photo.sha, sent)
