"""The HTTP service (`payerpolicy serve`) and the page it serves: a thin client of the library.

Every request is judged by a `payerpolicy.Session` over the policies the service holds (`store`), so the
service decides exactly what `payerpolicy check` decides and writes the same decision JSON (`judging`).
Policies are reloaded in the background when their files change and swapped in whole; a policy that stops
loading keeps its last good version serving (`store`). A billing specialist's draft of a policy is checked
and tried on claims in a scratch copy of its folder, never saved (`drafts`). `app` puts the routes, the
limits and the security checks (`security`) together; `page/` is the page, plain HTML, CSS and JavaScript.

Needs the optional extra `server` (`pip install 'payerpolicy[server]'`); nothing below `service` imports it.
"""

from __future__ import annotations

from payerpolicy.service.security import StartError, check_bind, is_loopback, read_token
from payerpolicy.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "make_app", "StartError", "check_bind", "is_loopback", "read_token"]


def make_app(settings: ServiceSettings, store=None):
    """The ASGI application for `settings` (Starlette); `store` is a started `PolicyStore` or None to make one."""
    from payerpolicy.service.app import make_app as _make_app

    return _make_app(settings, store)
