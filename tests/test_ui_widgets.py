"""Dashboard widgets as staff see them: count charts (biggest first, a band and label per category)
and the item table's 倾向 column."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from ui.widgets import bar_chart, table_frame

FRAME = pd.DataFrame({"source": ["21ic电子网", "网易号", "中国新闻网", "微信公众号", "hfiplaw.cn"],
                      "count": [1, 12, 2, 6, 3], "negative": [1, 5, 0, 4, 0]})


@pytest.mark.parametrize("horizontal", [True, False])
def test_both_layers_share_one_order_biggest_first(horizontal):
    spec = bar_chart(FRAME, "source", "信息源", horizontal=horizontal).to_dict()
    channel = "y" if horizontal else "x"
    orders = [layer["encoding"][channel]["sort"] for layer in spec["layer"]]
    assert orders[0] == orders[1] == ["网易号", "微信公众号", "hfiplaw.cn", "中国新闻网", "21ic电子网"]


def test_horizontal_bars_get_a_band_each_and_every_label():
    spec = bar_chart(FRAME, "source", "信息源").to_dict()
    assert spec["height"] == {"step": 22}
    axis = spec["layer"][0]["encoding"]["y"]["axis"]
    assert axis["labelOverlap"] is False


def test_the_chart_renders_offline():
    vlc = pytest.importorskip("vl_convert", reason="vl-convert-python is not installed")
    png = vlc.vegalite_to_png(json.dumps(bar_chart(FRAME, "source", "信息源").to_dict()))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


def test_an_off_topic_item_reads_as_such_not_by_its_tone():
    rows = pd.DataFrame({
        "published_at": pd.to_datetime(["2026-11-20 09:00", "2026-11-20 10:00", "2026-11-20 11:00"]),
        "published_estimated": [False, True, False],
        "title": ["旺角烧烤餐厅疑食物中毒", "合肥专利维权难", "原创作品被搬运"],
        "source": ["香港01", "网易号", "论坛"], "platform": ["news", "news", "forum"],
        "polarity": ["negative", "negative", "neutral"], "negative": [False, True, False],
        "p_negative": [0.0, 0.9, 0.4], "ip_type": ["其他", "专利", "著作权"], "region": ["", "安徽合肥", ""],
        "is_sample": [False, False, False],
        "url": ["https://a.example.cn/1", "javascript:alert(1)", "https://a.example.cn/3"],
        "topic": ["off", "ip", "ip"], "suspect": pd.array([False, False, True], dtype="boolean")})
    t = table_frame(rows)
    assert list(t["倾向"]) == ["无关话题", "负面", "中性（疑似负面）"]      # the store's 疑似 column decides
    assert t["链接"].iloc[0] == "https://a.example.cn/1" and t["链接"].iloc[1] == ""   # javascript: is no link
