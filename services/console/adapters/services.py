"""The console's calls to the services' admin APIs, as the signed-in person.

Each page mints one short-lived token for its person (their role and facility) and sends it
with every call, so the service's own checks decide what is read or done; the console never
holds a broader token. A service's refusal comes back as :class:`ServiceRefused` with its
status and a Chinese message for the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from libs.platform.auth import Role, TokenAuthority
from services.console.domain.refusals import explain

__all__ = ["CallsAs", "ServiceDirectory", "ServiceRefused"]

#: What a refusal means to the person, by the services' one error shape's status.
MESSAGES = {
    400: "请求有误",
    401: "登录已失效，请重新登录",
    403: "您无权查看或办理此项",
    404: "未找到",
    409: "当前状态不允许此操作",
    413: "内容过大",
    422: "输入有误",
    429: "操作过于频繁，请稍后再试",
}
UNAVAILABLE = "服务暂不可用，请稍后再试"


class ServiceRefused(Exception):
    """A service said no (or could not be reached): ``status``, the error ``code`` of its
    one error shape, and its own words (``detail``, English); the page shows ``message``."""

    def __init__(self, service: str, status: int, detail: str, code: str | None = None) -> None:
        self.service, self.status, self.detail, self.code = service, status, detail, code
        super().__init__(self._message())

    def _message(self) -> str:
        meaning = MESSAGES.get(self.status, UNAVAILABLE)
        if (known := explain(self.code)) is not None:
            return f"{meaning}：{known}（{self.service}：{self.code}）"
        return f"{meaning}（{self.service}：{self.detail}）"

    @property
    def message(self) -> str:
        return str(self)


@dataclass(frozen=True)
class ServiceDirectory:
    """Where each service answers, and the authority whose tokens they all accept."""

    urls: dict[str, str]
    authority: TokenAuthority
    token_ttl: timedelta
    client: httpx.Client

    def calls_as(self, username: str, role: Role, facility_id: str | None) -> CallsAs:
        token = self.authority.mint(
            subject=f"console:{username}", role=role, facility_id=facility_id, ttl=self.token_ttl
        )
        return CallsAs(self, token)


@dataclass(frozen=True)
class CallsAs:
    directory: ServiceDirectory
    token: str

    def get(self, service: str, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        return self._call("GET", service, path, params=query)

    def post(self, service: str, path: str, body: Any = None) -> Any:
        return self._call("POST", service, path, json=body)

    def every(self, service: str, path: str, *, most: int, **params: Any) -> list[Any]:
        """Every item of a paged list (the services' one page shape), asked for 500 at a
        time, up to ``most`` (an export takes the whole list, not the page on screen)."""
        items: list[Any] = []
        while len(items) < most:
            page = self.get(service, path, limit=500, offset=len(items), **params)
            items += page["items"]
            if not page["items"] or len(items) >= int(page["total"]):
                break
        return items[:most]

    def put(self, service: str, path: str, body: Any) -> Any:
        return self._call("PUT", service, path, json=body)

    def _call(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        base = self.directory.urls.get(service)
        if base is None:
            raise ServiceRefused(service, 503, "not configured")
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            answer = self.directory.client.request(
                method, base.rstrip("/") + path, headers=headers, **kwargs
            )
        except httpx.HTTPError as exc:
            raise ServiceRefused(service, 503, type(exc).__name__) from None
        if answer.status_code >= 400:
            raise ServiceRefused(service, answer.status_code, *_detail(answer))
        return answer.json() if answer.content else None


def _detail(answer: httpx.Response) -> tuple[str, str | None]:
    """The refusal's own words and its error code (the services' one error shape)."""
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:200], None
    if isinstance(body, dict):
        code = body.get("error")
        words = str(body.get("message") or code or "")[:300]
        details = body.get("details")
        if isinstance(details, dict) and details.get("rules"):  # the first rule broken
            code = details["rules"][0]
        return words, code if isinstance(code, str) else None
    return str(body)[:300], None
