"""Text -> judgement. Pure functions over text; model files load once per process.

`load_judge()` is the one entry point the rest of the product uses.
"""
from sentiment.judge import Judge, load_judge
from sentiment.judgement import CHANNELS, IP_TYPES, POLARITIES, Judgement

__all__ = ["CHANNELS", "IP_TYPES", "POLARITIES", "Judge", "Judgement", "load_judge"]
