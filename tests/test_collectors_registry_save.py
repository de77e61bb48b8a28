"""collectors.registry writing: save_sources round trips, is deterministic and atomic; form validation."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from collectors.registry import (HEADER, Source, SourceConfigError, changed_source, check_form_url, dumps_sources,
                                 load_sources, new_source, save_sources)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "data" / "sources.toml"
BASE = "http://127.0.0.1:1200"


def test_shipped_sources_round_trip(tmp_path):
    shipped = load_sources(SHIPPED, BASE)
    target = tmp_path / "sources.toml"
    saved = save_sources(target, shipped, BASE)
    assert saved == shipped == load_sources(target, BASE)
    text = target.read_text(encoding="utf-8")
    assert text.startswith(HEADER) and text.count("\n[[sources]]\n") == len(shipped)
    # deterministic: saving what was read back gives the same bytes
    save_sources(tmp_path / "again.toml", saved, BASE)
    assert (tmp_path / "again.toml").read_bytes() == target.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.toml", "sources.toml"]   # no temp files left


def test_every_field_and_awkward_text_survive(tmp_path):
    (tmp_path / "feeds").mkdir()
    sources = [
        Source(name='引号"与\\反斜杠', url="https://a.example/rss?q=a+b&x=1", platform="government", enabled=False,
               region="安徽合肥", interval_minutes=15, own=True, always_relevant=True, weight=0.25,
               notes="第一行\n第二行\t制表\x7f删除符"),
        Source(name="列表页", url="https://gov.example/list/index.html", kind="govlist",
               link_pattern=r"/art/\d+\.html$", max_items=5),
        Source(name="本地", url="file:feeds/x.xml"),
        Source(name="微博", url="rsshub:///weibo/keyword/知识 产权?limit=5", platform="social"),
    ]
    back = save_sources(tmp_path / "s.toml", sources, BASE)
    assert [(s.name, s.configured_url, s.notes, s.link_pattern, s.max_items, s.weight) for s in back] == [
        (s.name, s.url, s.notes, s.link_pattern, s.max_items, s.weight) for s in sources]
    assert back[2].url == (tmp_path / "feeds" / "x.xml").resolve().as_uri()
    assert back[3].url == f"{BASE}/weibo/keyword/%E7%9F%A5%E8%AF%86%20%E4%BA%A7%E6%9D%83?limit=5"
    assert back == load_sources(tmp_path / "s.toml", BASE)
    # defaults are not written, so a hand-edited file stays short
    body = dumps_sources([sources[2]]).removeprefix(HEADER)
    assert body == '\n[[sources]]\nname = "本地"\nurl = "file:feeds/x.xml"\nkind = "rss"\nplatform = "news"\n' \
                   'enabled = true\ninterval_minutes = 60\n'


def test_a_source_the_collector_would_refuse_is_never_saved(tmp_path):
    target = tmp_path / "sources.toml"
    target.write_text('[[sources]]\nname = "旧"\nurl = "https://old.example/rss"\n', encoding="utf-8")
    before = target.read_bytes()
    bad = [Source(name="列表", url="rsshub:///x", kind="govlist"),
           Source(name="负权重", url="https://a.example", weight=-1.0)]
    for source in bad:
        with pytest.raises(SourceConfigError):
            save_sources(target, [source], BASE)
    with pytest.raises(SourceConfigError, match="名称「重」重复"):
        save_sources(target, [Source(name="重", url="https://a.example"), Source(name="重", url="https://b.example")])
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["sources.toml"]


@pytest.mark.parametrize("url", ["https://www.example.cn/rss.xml", "http://a.example/feed?x=1",
                                 "rsshub:///weibo/user/1195230310", "RSSHUB:///people/liuyan/539/1"])
def test_form_urls_accepted(url):
    assert check_form_url(f"  {url} ") == url


@pytest.mark.parametrize("url, message", [
    ("", "请填写地址"), ("javascript:alert(1)", "必须以"), ("data:text/html,<b>x</b>", "必须以"),
    ("file:feeds/x.xml", "必须以"), ("ftp://a.example/x", "必须以"), ("www.example.cn/rss", "必须以"),
    ("https:///path-only", "缺少域名"), ("rsshub://", "缺少路由"), ("https://a.example/a b", "不能有空格"),
    ("http://[::1]:99999/x", "端口有误"), ("http://[::1", "端口有误"), ("rsshub:///../../admin", "不能有 .."),
])
def test_form_urls_refused_in_chinese(url, message):
    with pytest.raises(SourceConfigError, match=message):
        check_form_url(url)


@pytest.mark.parametrize("url, message", [
    ("https://admin:hunter2@example.com/feed", "不能包含用户名或密码"),
    ("https://admin@example.com/feed", "不能包含用户名或密码"),
    ("rsshub://user:pw@weibo/user/1", "不能包含用户名或密码"),
    ("http://169.254.169.254/latest/meta-data", "链路本地"),
    ("http://[fe80::1]/x", "链路本地"),
    ("http://[::ffff:169.254.169.254]/x", "链路本地"),
    ("http://metadata.google.internal/computeMetadata/v1/", "链路本地"),
    ("http://127.0.0.1:8080/admin", "本机或内网"),
    ("http://localhost/admin", "本机或内网"),
    ("http://2130706433/admin", "本机或内网"),         # 127.0.0.1 written as one number
    ("http://0x7f.1/admin", "本机或内网"),
    ("http://10.1.2.3/x", "本机或内网"), ("http://192.168.1.1/x", "本机或内网"), ("http://[::1]/x", "本机或内网"),
    ("http://0.0.0.0/x", "本机或内网"),
    ("rsshub:///weibo/%2e%2e/admin", "不能有 .."), ("rsshub:///weibo/%2E%2E%2Fadmin", "不能有 .."),
    ("rsshub:///weibo/..%5cadmin", "不能有 .."),
])
def test_form_urls_with_credentials_or_internal_addresses_are_refused(url, message):
    with pytest.raises(SourceConfigError, match=message):
        check_form_url(url, rsshub_base=BASE)


def test_internal_hosts_are_allowed_only_where_configured(tmp_path):
    # the RSSHub base (127.0.0.1:1200 here, same port) and hosts the administrator listed
    assert check_form_url("http://127.0.0.1:1200/weibo/user/1", rsshub_base=BASE)
    assert check_form_url("http://10.0.0.5/rss.xml", rsshub_base=BASE, internal_hosts=["10.0.0.5"])
    with pytest.raises(SourceConfigError, match="本机或内网"):
        check_form_url("http://10.0.0.6/rss.xml", rsshub_base=BASE, internal_hosts=["10.0.0.5"])
    assert check_form_url("http://10.0.0.7:8080/x", internal_hosts=["10.0.0.7:8080"])
    with pytest.raises(SourceConfigError, match="本机或内网"):
        check_form_url("http://10.0.0.7:9090/x", internal_hosts=["10.0.0.7:8080"])
    from monitor.settings import Settings
    assert Settings.load(env={"OPINION_INTERNAL_HOSTS": " 10.0.0.5, rss.lan:8080 ,"}).internal_hosts == (
        "10.0.0.5", "rss.lan:8080")
    with pytest.raises(SourceConfigError, match="链路本地"):       # never, whatever is listed
        check_form_url("http://169.254.169.254/", rsshub_base=BASE, internal_hosts=["169.254.169.254"])
    made = new_source({"name": "内网", "url": "http://rss.intranet.local/feed"}, [], base_dir=tmp_path,
                      rsshub_base=BASE)
    assert made.url == "http://rss.intranet.local/feed"          # names are not resolved
    with pytest.raises(SourceConfigError, match="本机或内网"):
        new_source({"name": "n", "url": "http://192.168.0.9/feed"}, [], base_dir=tmp_path, rsshub_base=BASE)
    # a hand-edited sources file (server access) may name internal hosts, never link-local ones
    p = tmp_path / "sources.toml"
    p.write_text('[[sources]]\nname = "a"\nurl = "http://127.0.0.1:8080/feed.xml"\n', encoding="utf-8")
    assert load_sources(p, BASE)[0].url == "http://127.0.0.1:8080/feed.xml"
    p.write_text('[[sources]]\nname = "a"\nurl = "http://169.254.169.254/latest"\n', encoding="utf-8")
    with pytest.raises(SourceConfigError, match="链路本地"):
        load_sources(p, BASE)


def test_credentials_in_a_hand_edited_url_are_not_shown():
    from collectors.base import shown_url
    assert shown_url("https://admin:hunter2@example.com/feed") == "https://***@example.com/feed"
    assert shown_url("https://example.com/feed") == "https://example.com/feed"


def test_new_source_collects_every_problem(tmp_path):
    existing = [Source(name="已有", url="https://a.example")]
    with pytest.raises(SourceConfigError) as e:
        new_source({"name": "已有", "url": "javascript:x", "platform": "电视", "interval_minutes": 0,
                    "weight": -2}, existing, base_dir=tmp_path, rsshub_base=BASE)
    message = str(e.value)
    for part in ("名称「已有」已被使用", "必须以", "平台应为", "采集间隔至少 1 分钟", "权重应为不小于 0 的数"):
        assert part in message
    with pytest.raises(SourceConfigError, match="列表页类型"):
        new_source({"name": "n", "url": "rsshub:///a", "kind": "cnipa"}, existing, base_dir=tmp_path,
                   rsshub_base=BASE)
    made = new_source({"name": " 新 ", "url": "https://n.example/rss", "region": "", "notes": "", "own": False},
                      existing, base_dir=tmp_path, rsshub_base=BASE)
    assert (made.name, made.region, made.enabled, made.interval_minutes) == ("新", "", True, 60)


def test_changed_source_only_touches_what_is_given():
    s = Source(name="a", url="https://a.example", interval_minutes=30, weight=2.0)
    assert changed_source(s, enabled=False) == replace(s, enabled=False)
    assert changed_source(s, interval_minutes=5, weight=0) == replace(s, interval_minutes=5, weight=0.0)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(SourceConfigError, match="权重应为不小于 0 的数"):
            changed_source(s, weight=bad)
