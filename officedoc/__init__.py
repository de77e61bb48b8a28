"""Official documents (公文) in the GB/T 9704-2012 format, shared by the casebook and the briefing."""
from officedoc.document import OfficialDocument, set_run_font

__all__ = ["OfficialDocument", "set_run_font"]
