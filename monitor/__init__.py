"""The core that ties collection, judgement and storage together.

`monitor.store` is the only module that talks SQL; `monitor.queries` holds the
read side used by the dashboard, the CLI and (later) briefings.
"""
