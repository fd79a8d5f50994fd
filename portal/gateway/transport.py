"""HTTP plumbing for the gateway: a session with a default timeout, and a `requests` transport that
answers from a WSGI app in-process (the sandbox, or the portal receiving sandbox webhooks).

The in-process transport runs the app in its own thread, so (1) the app gets fresh Flask contexts and its
own database session, exactly like a separate server, and (2) a caller's timeout is real: a slow answer
raises `requests.exceptions.ReadTimeout` while the app finishes its work, as a remote server would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from io import BytesIO
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import EnvironBuilder, run_wsgi_app

from portal.timeutil import with_this_clock

DEFAULT_TIMEOUT = 10.0
POOL_SIZE = 32  # kept-alive connections per host: enough for reconcile's thread pool (requests keeps 10)
TOO_MANY_REQUESTS = 429


class TooManyRequests(Exception):
    """The gateway answered 429. Raised here, before the SDK reads the body: Razorpay's 429 carries a
    BAD_REQUEST_ERROR code that the SDK would turn into an ordinary refusal, losing the status. Not a
    requests exception, which the SDK would print to stdout on its way through."""

    def __init__(self, message: str, response: requests.Response):
        super().__init__(message)
        self.response = response


class TimeoutSession(requests.Session):
    """A session whose every request has a timeout (the Razorpay SDK sets none), shortened inside a
    `budget(deadline)` block so that retries never make a caller wait past the deadline."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT):
        super().__init__()
        self.default_timeout = timeout
        for prefix in ("https://", "http://"):
            self.mount(prefix, HTTPAdapter(pool_maxsize=POOL_SIZE))
        self._deadline = threading.local()  # one session serves every thread of the process

    @contextmanager
    def budget(self, deadline: float):
        self._deadline.value = deadline
        try:
            yield
        finally:
            self._deadline.value = None

    def request(self, method, url, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._remaining()
        return super().request(method, url, **kwargs)

    def _remaining(self) -> float:
        deadline = getattr(self._deadline, "value", None)
        if deadline is None:
            return self.default_timeout
        return max(min(self.default_timeout, deadline - time.monotonic()), 0.05)


class GatewaySession(TimeoutSession):
    """The gateway adapter's session: a 429 answer raises `TooManyRequests` (other callers of TimeoutSession,
    such as the sandbox storefront reading the portal's API, see the 429 response as it is)."""

    def request(self, method, url, **kwargs):
        response = super().request(method, url, **kwargs)
        if response.status_code == TOO_MANY_REQUESTS:
            raise TooManyRequests("429 Too many requests", response=response)
        return response


class WSGITransport(BaseAdapter):
    """Mount on a base URL: `session.mount("http://sandbox.invalid", WSGITransport(lambda: app))`."""

    def __init__(self, get_app: Callable):
        super().__init__()
        self.get_app = get_app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        environ = _environ(request)
        result: dict = {}
        # The caller's clock goes along (portal.timeutil): the demo seed plays the past through this transport.
        worker = threading.Thread(target=with_this_clock(self._call), args=(environ, result), daemon=True)
        worker.start()
        worker.join(_read_timeout(timeout))
        if worker.is_alive():
            raise requests.exceptions.ReadTimeout(f"in-process read timed out ({timeout}s)", request=request)
        if "error" in result:
            raise requests.exceptions.ConnectionError(f"in-process app failed: {result['error']!r}", request=request)
        return _response(request, *result["answer"])

    def _call(self, environ: dict, result: dict) -> None:
        try:
            body_iter, status, headers = run_wsgi_app(self.get_app(), environ, buffered=True)
            result["answer"] = (status, headers, b"".join(body_iter))
        except Exception as exc:  # reported to the caller as a connection failure
            result["error"] = exc

    def close(self) -> None:
        pass


def _environ(request) -> dict:
    parts = urlsplit(request.url)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    builder = EnvironBuilder(
        method=request.method,
        base_url=f"{parts.scheme}://{parts.netloc}",
        path=parts.path,
        query_string=parts.query,
        headers=dict(request.headers),
        input_stream=BytesIO(body),
        content_length=len(body),
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    environ["portal.inprocess"] = True
    return environ


def _read_timeout(timeout) -> float | None:
    if isinstance(timeout, tuple):
        return timeout[1]
    return timeout


def _response(request, status: str, headers, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = int(status.split()[0])
    response.reason = status.partition(" ")[2]
    response.headers = CaseInsensitiveDict(dict(headers))
    response._content = body
    response.raw = BytesIO(body)
    response.url = request.url
    response.request = request
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    return response
