"""The result of judging one item; the shape every scorer returns."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

POLARITIES = ("negative", "neutral", "positive")
IP_TYPES = ("专利", "商标", "著作权", "植物新品种", "地理标志", "商业秘密", "集成电路布图设计", "其他")
CHANNELS = ("行政执法", "司法", "海关", "文化市场", "仲裁调解", "其他")
# Not flagged, yet P(negative) at least this: 疑似负面, worth a human look. p_negative is calibrated
# (docs/judgement.md), so this reads "about a one-in-three chance"; on unseen items more than a third of
# the negative items the flag misses sit between here and the flag's threshold. Off-topic items are capped
# below it.
REVIEW_P = 0.3


def is_suspect(negative: bool, p_negative: float | None) -> bool:
    """疑似负面: not flagged, but likely enough to be negative that staff should look."""
    return not negative and p_negative is not None and p_negative >= REVIEW_P


@dataclass(frozen=True)
class Judgement:
    negative: bool
    p_negative: float
    polarity: str                 # one of POLARITIES: tone toward IP-protection work
    topic: str = "ip"             # "ip" or "off": off-topic items are never negative
    ip_type: str = "其他"         # primary IP type, one of IP_TYPES
    ip_types: tuple[str, ...] = ()  # every IP type mentioned, primary first
    channel: str = "其他"         # one of CHANNELS
    province: str = ""            # e.g. "安徽", "浙江"; "" when not stated
    city: str = ""                # e.g. "合肥" (Anhui's 16 cities and other prefecture cities)
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def region(self) -> str:
        """Province followed by city, as staff write it: "安徽合肥", "安徽", ""."""
        return f"{self.province}{self.city}" if self.city and self.province != self.city else self.province

    def as_dict(self) -> dict:
        d = asdict(self)
        d["ip_types"] = list(self.ip_types)
        d["reasons"] = list(self.reasons)
        d["region"] = self.region
        return d
