"""Dashboard count charts: the biggest category first, one band (and label) per category."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from ui.widgets import bar_chart

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
