"""What `manage.py warm_cache` fills, registered by the apps that own it (core imports no domain app).

Two kinds, as core.cache caches them:

- API list pages (`register_page`): fetched through the whole middleware stack with a short-lived token of
  one user per role, so the cached entry is exactly the one a client's request would have stored (its
  permission scope, its headers, the fast path's key when the fast path is on);
- plain data (`register_data`): a function run in the company's schema that fills its cached_data entry
  (the dashboard's numbers).

Apps register in their AppConfig.ready, like core.panels.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    path: str
    permission: str  # who may see it: roles without it are not asked (a refusal is never cached)


_pages: list[Page] = []
_data: dict[str, Callable[[], object]] = {}


def register_page(path, permission):
    page = Page(path, permission)
    if page not in _pages:
        _pages.append(page)


def register_data(name, fill):
    _data[name] = fill


def pages():
    return list(_pages)


def data():
    return dict(_data)
