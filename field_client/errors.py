"""Bilingual refusals: a supervisor on site reads Chinese; support staff and logs read English."""

from __future__ import annotations


class FieldError(Exception):
    """A mistake caught on the tablet, before anything is queued: a stable code and both languages."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(f"{code}: {en}")
        self.code, self.zh, self.en = code, zh, en

    def __str__(self) -> str:
        return f"{self.zh}\n  {self.en}"


class SyncStopped(Exception):
    """Sync cannot go on now; everything not yet sent stays queued with the same idempotency keys."""

    code = "sync_stopped"
    zh = "同步中断"
    en = "Sync stopped"

    def __str__(self) -> str:
        detail = f" ({self.args[0]})" if self.args else ""
        return f"{self.zh}{detail}\n  {self.en}{detail}"


class Offline(SyncStopped):
    """The network (or the server) did not answer after every retry."""

    code = "offline"
    zh = "网络不可用或服务器无响应，数据已安全保存在本机，稍后再同步"
    en = "Network or server unreachable; everything is kept on this tablet, sync again later"


class TokenRevoked(SyncStopped):
    """401: the token was revoked (a lost tablet) or has expired; nothing is dropped, log in again."""

    code = "token_revoked"
    zh = "令牌无效或已被吊销，请重新登录（login）后再同步；待同步内容均已保留"
    en = "The token is invalid or revoked: log in again, then sync; nothing queued was lost"


class UnexpectedAnswer(SyncStopped):
    """The server answered, but not what a read needs (a wrong server URL, a role that may not read it)."""

    code = "unexpected_answer"
    zh = "服务器拒绝了请求（请检查服务器地址与账号权限）"
    en = "The server refused the request (check the server URL and the account's role)"


class NotLoggedIn(FieldError):
    def __init__(self) -> None:
        super().__init__("not_logged_in", "尚未登录，请先执行 login --server URL --token 令牌",
                         "Not logged in: run login --server URL --token TOKEN first")
