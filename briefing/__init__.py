"""Opinion briefings (舆情周报 / 日报 / 专报) as editable Word documents in the official-document format."""
