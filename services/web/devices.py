"""A session's device as a person recognises it ("微信 · Android"), from its User-Agent; rough on purpose:
it helps someone spot a session they do not know, it proves nothing."""

from __future__ import annotations

BROWSERS = (("MicroMessenger", "微信"), ("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
            ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
           ("Mac OS X", "Mac"), ("Linux", "Linux"))


def describe(user_agent: str | None) -> str:
    if not user_agent:
        return "未知设备"
    browser = next((name for marker, name in BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in SYSTEMS if marker in user_agent), None)
    parts = [part for part in (browser, system) if part]
    return " · ".join(parts) if parts else user_agent[:60]
