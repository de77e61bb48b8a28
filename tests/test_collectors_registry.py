"""data/sources.toml -> Source objects, with messages staff can act on."""
from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from collectors.http import make_client
from collectors.registry import PLATFORMS, Source, SourceConfigError, load_sources, resolve_url

ROOT = Path(__file__).resolve().parent.parent
RSSHUB = "http://rsshub.internal:1200"


def _write(tmp_path, text: str) -> Path:
    p = tmp_path / "sources.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_loads_fields_and_defaults(tmp_path):
    p = _write(tmp_path, '''
[[sources]]
name = "人民网·社会"
url = "http://www.people.com.cn/rss/society.xml"
kind = "rss"
platform = "news"
enabled = true
region = "安徽"
interval_minutes = 30
own = false
always_relevant = true
weight = 2
notes = "备注"

[[sources]]
name = "最少字段"
url = "https://example.cn/feed.xml"
''')
    a, b = load_sources(p, RSSHUB)
    assert a == Source(name="人民网·社会", url="http://www.people.com.cn/rss/society.xml", kind="rss", platform="news",
                       enabled=True, region="安徽", interval_minutes=30, own=False, always_relevant=True,
                       weight=2.0, notes="备注", configured_url="http://www.people.com.cn/rss/society.xml")
    assert (b.kind, b.platform, b.enabled, b.interval_minutes, b.weight) == ("rss", "news", True, 60, 1.0)


def test_rsshub_routes_resolve_against_the_base(tmp_path):
    p = _write(tmp_path, '''
[[sources]]
name = "微博"
url = "rsshub:///weibo/keyword/安徽知识产权"
platform = "social"
enabled = false
''')
    (s,) = load_sources(p, RSSHUB + "/")
    assert s.url == "http://rsshub.internal:1200/weibo/keyword/%E5%AE%89%E5%BE%BD%E7%9F%A5%E8%AF%86%E4%BA%A7%E6%9D%83"
    assert s.configured_url == "rsshub:///weibo/keyword/安徽知识产权" and s.enabled is False


def test_file_urls_may_be_relative_to_the_sources_file(tmp_path):
    (tmp_path / "feeds").mkdir()
    p = _write(tmp_path, '[[sources]]\nname = "本地"\nurl = "file:feeds/a.xml"\n')
    (s,) = load_sources(p, RSSHUB)
    assert s.url == (tmp_path / "feeds" / "a.xml").resolve().as_uri()


@pytest.mark.parametrize("body, message", [
    ('[[sources]]\nurl = "https://e.cn/f"\n', "缺少 name"),
    ('[[sources]]\nname = "甲"\n', "缺少 url"),
    ('[[sources]]\nname = "甲"\nurl = "https://e.cn/f"\nkind = "atomz"\n', "不认识的类型 kind = 'atomz'"),
    ('[[sources]]\nname = "甲"\nurl = "ftp://e.cn/f"\n', "应以 http://、https://、file: 或 rsshub:/// 开头"),
    ('[[sources]]\nname = "甲"\nurl = "javascript:alert(1)"\n', "应以 http://"),
    ('[[sources]]\nname = "甲"\nurl = "www.people.com.cn/rss/society.xml"\n', "应以 http://"),
    ('[[sources]]\nname = "甲"\nurl = "https:///nohost"\n', "缺少域名"),
    ('[[sources]]\nname = "甲"\nurl = "rsshub:///"\n', "缺少路由"),
    ('[[sources]]\nname = "甲"\nurl = "https://e.cn/f"\nenable = false\n', "不认识的设置 enable（可用：name、url"),
    ('[[sources]]\nname = "甲"\nurl = "https://e.cn/f"\nenabled = "no"\n', "enabled 应为true 或 false"),
    ('[[sources]]\nname = "甲"\nurl = "https://e.cn/f"\ninterval_minutes = 0\n', "至少为 1 分钟"),
    ('[[sources]]\nname = "甲"\nurl = "https://e.cn/f"\nweight = true\n', "weight 应为数字"),
    ('[[sources]]\nname = "甲"\nurl = "https://e.cn/f"\nplatform = "weibo"\n', "不认识的平台 platform = 'weibo'"),
    ('[[sources]]\nname = " "\nurl = "https://e.cn/f"\n', "名称）是空的"),
    ('[[sources]]\nname = "甲"\nurl = "https://e.cn/a"\n[[sources]]\nname = "甲"\nurl = "https://e.cn/b"\n',
     "名称「甲」重复"),
    ('[[source]]\nname = "甲"\nurl = "https://e.cn/a"\n', "不认识的顶层设置 source"),
    ('[[sources]\nname = "甲"\n', "TOML 格式有误"),
])
def test_validation_messages(tmp_path, body, message):
    p = _write(tmp_path, body)
    with pytest.raises(SourceConfigError) as e:
        load_sources(p, RSSHUB)
    assert message in str(e.value)
    assert str(p) in str(e.value)


def test_message_names_the_source(tmp_path):
    p = _write(tmp_path, '[[sources]]\nname = "好的"\nurl = "https://e.cn/a"\n'
                         '[[sources]]\nname = "坏的"\nurl = "gopher://e.cn"\n')
    with pytest.raises(SourceConfigError, match=r"第 2 个信息源（「坏的」）"):
        load_sources(p, RSSHUB)


def test_missing_file_and_bad_rsshub_base(tmp_path):
    with pytest.raises(SourceConfigError, match="找不到信息源配置文件"):
        load_sources(tmp_path / "none.toml", RSSHUB)
    with pytest.raises(SourceConfigError, match="OPINION_RSSHUB_BASE"):
        resolve_url("rsshub:///weibo/user/1", base_dir=tmp_path, rsshub_base="127.0.0.1:1200")


def test_shipped_sources_file_is_valid():
    sources = load_sources(ROOT / "data" / "sources.toml", "http://127.0.0.1:1200")
    assert len({s.name for s in sources}) == len(sources) >= 10
    enabled = [s for s in sources if s.enabled]
    assert any("news.google.com/rss/search" in s.url for s in enabled)
    assert any("bing.com/news/search" in s.url and "format=rss" in s.url for s in enabled)
    assert any("people.com.cn/rss/" in s.url for s in enabled)
    assert any("chinanews.com.cn/rss/" in s.url for s in enabled)
    social = [s for s in sources if s.configured_url.startswith("rsshub:")]
    assert social and not any(s.enabled for s in social)
    assert all(s.url.startswith("http://127.0.0.1:1200/") for s in social)
    assert all(s.platform in PLATFORMS for s in sources)


def test_list_page_kinds(tmp_path):
    p = _write(tmp_path, '''
[[sources]]
name = "国家知识产权局·通知公告"
url = "https://www.cnipa.gov.cn/col/col75/index.html"
kind = "cnipa"
platform = "government"
max_items = 20

[[sources]]
name = "省局·工作动态"
url = "https://amr.ah.gov.cn/xwdt/gzdt/index.html"
kind = "govlist"
platform = "government"
link_pattern = "/xwdt/gzdt/\\\\d+\\\\.html$"
''')
    cnipa, gov = load_sources(p, RSSHUB)
    assert (cnipa.kind, cnipa.max_items, gov.kind, gov.link_pattern) == ("cnipa", 20, "govlist", r"/xwdt/gzdt/\d+\.html$")


@pytest.mark.parametrize("extra, message", [
    ('kind = "govlist"\nlink_pattern = "(unclosed"', "不是有效的正则表达式"),
    ('kind = "rss"\nlink_pattern = "x"', "只用于 kind = \"govlist\""),
    ('kind = "rss"\nmax_items = 5', "max_items 只用于 cnipa/govlist"),
    ('kind = "cnipa"\nmax_items = 0', "至少为 1"),
])
def test_list_page_validation(tmp_path, extra, message):
    p = _write(tmp_path, f'[[sources]]\nname = "甲"\nurl = "https://e.cn/list.html"\n{extra}\n')
    with pytest.raises(SourceConfigError, match=re.escape(message)):
        load_sources(p, RSSHUB)


def test_list_page_kinds_need_a_web_address(tmp_path):
    p = _write(tmp_path, '[[sources]]\nname = "甲"\nurl = "rsshub:///gov/x"\nkind = "govlist"\n')
    with pytest.raises(SourceConfigError, match="需要 http\\(s\\) 网页地址"):
        load_sources(p, RSSHUB)


def test_cnipa_source_collects_through_govsite():
    page = ('<html><body><ul>'
            '<li><a href="/art/2025/6/5/art_75_201.html" title="关于2025年知识产权宣传周活动的通知">关于2025年知识产权宣传周活动的通知</a>'
            '<span>2025-06-05</span></li>'
            '<li><a href="/art/2025/6/4/art_75_200.html" title="国家知识产权局发布典型案例">国家知识产权局发布典型案例</a>'
            '<span>2025-06-04</span></li></ul></body></html>').encode("utf-8")
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=page,
                                                             headers={"content-type": "text/html; charset=utf-8"}))
    source = Source(name="国知局", url="https://www.cnipa.gov.cn/col/col75/index.html", kind="cnipa",
                    platform="government")
    with make_client("t", transport=transport) as client:
        result = source.collect(client)
    assert result.readable, result.errors
    assert [it.url for it in result.items] == ["https://www.cnipa.gov.cn/art/2025/6/5/art_75_201.html",
                                               "https://www.cnipa.gov.cn/art/2025/6/4/art_75_200.html"]
    assert {it.source for it in result.items} == {"国知局"} and result.items[0].platform == "government"


def test_list_page_kinds_refuse_files(tmp_path):
    p = _write(tmp_path, '[[sources]]\nname = "甲"\nurl = "file:list.html"\nkind = "cnipa"\n')
    with pytest.raises(SourceConfigError, match="需要 http\\(s\\) 网页地址"):
        load_sources(p, RSSHUB)
