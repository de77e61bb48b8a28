"""Read one feed from wherever it lives: a local file, a file: URL or an http(s) URL.

This is the single place a feed address becomes a `FetchResult`; both the ad-hoc
`ingest` command and the configured sources go through it. A local CSV, XLSX,
JSON or JSON Lines file is an export from another platform and is read by
collectors.imports instead. Nothing here raises for a bad source: errors come
back in the result.
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx

from collectors.base import FetchResult, is_web_url, utcnow
from collectors.http import DEFAULT_USER_AGENT, MAX_FEED_BYTES, CollectError, fetch, make_client
from collectors.imports import is_export_path, read_export
from collectors.rss import parse_feed

log = logging.getLogger(__name__)


def local_path(target: str | Path) -> Path | None:
    """The file a target names (a plain path or a file: URL), or None for a web address."""
    if isinstance(target, Path):
        return target
    try:
        parts = urlsplit(target)
    except ValueError:              # 'http://[::1': not a path either; read_feed says it is no address
        return None
    if parts.scheme == "file":
        return Path(url2pathname(unquote(parts.path)))
    # One-letter "schemes" are Windows drive letters.
    if not parts.scheme or len(parts.scheme) == 1:
        return Path(target)
    return None


def read_feed(target: str | Path, *, client: httpx.Client | None = None, source: str | None = None,
              platform: str = "", etag: str | None = None, last_modified: str | None = None,
              fetched_at: datetime | None = None) -> FetchResult:
    """Fetch (or read) and parse one feed. `source=None` names items after the feed's own title."""
    fetched_at = fetched_at or utcnow()
    path = local_path(target)
    if path is not None and is_export_path(path):
        data, error = _read_file(path)
        if error:
            return FetchResult(readable=False, errors=[error])
        # Rows carry their own outlet (来源 column), so item sources are left as the export gives them.
        result = read_export(path, data=data, source=source, platform=platform or "news", now=fetched_at)
        result.title = source or f"导入:{path.name}"
        return result
    if path is not None:
        data, error = _read_file(path)
        if error:
            return FetchResult(readable=False, errors=[error])
        result = parse_feed(data, url=path.resolve().as_uri(), source=source or "", platform=platform,
                            fetched_at=fetched_at)
        fallback = path.stem
    else:
        url = str(target)
        if not is_web_url(url):
            web = url.lower().startswith(("http://", "https://"))
            why = "主机名或端口有误" if web else "请写文件路径，或以 file:、http://、https:// 开头的地址"
            return FetchResult(readable=False, errors=[f"无法识别的地址 {url!r}：{why}"])
        own_client = client is None
        client = client or make_client(DEFAULT_USER_AGENT)
        try:
            got = fetch(client, url, etag=etag, last_modified=last_modified)
        except CollectError as e:
            return FetchResult(readable=False, errors=[str(e)], retry_after_s=getattr(e, "retry_after_s", None))
        finally:
            if own_client:
                client.close()
        if got.not_modified:
            return FetchResult(not_modified=True, etag=got.etag or etag,
                               last_modified=got.last_modified or last_modified)
        result = parse_feed(got.content, url=got.url, source=source or "", platform=platform,
                            headers=got.headers, fetched_at=fetched_at)
        fallback = urlsplit(got.url).hostname or url
    result.title = result.title or fallback
    if source is None:
        for item in result.items:
            item.source = result.title
    return result


def _read_file(path: Path) -> tuple[bytes, str | None]:
    try:
        size = path.stat().st_size
        if path.is_dir():
            return b"", f"这是一个文件夹，不是订阅源或导出文件：{path}"
        if size > MAX_FEED_BYTES:
            return b"", f"文件过大（{size} 字节，上限 {MAX_FEED_BYTES} 字节）：{path}"
        return path.read_bytes(), None
    except FileNotFoundError:
        return b"", f"找不到文件：{path}"
    except OSError as e:
        return b"", f"无法读取文件（{e.strerror or e}）：{path}"
