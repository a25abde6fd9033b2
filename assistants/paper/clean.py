"""Repair of extracted text: ligatures (ﬁ ﬂ ﬀ ﬃ ﬄ) expanded, odd spaces made plain,
end-of-line hyphenation joined (compounds such as "state-of-the-" keep their hyphen), soft
hyphens, zero-width and control characters, lone surrogates, U+FFFD and private-use glyphs
removed, NFC. Line structure is kept."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_text"]

_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        "\u00a0": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\t": " ",
    }
)
# control characters except \n, lone surrogates, U+FFFD, soft hyphen, zero-width characters,
# BOM, and the private-use area (glyphs with no unicode mapping).
_JUNK = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffd\u00ad\u200b-\u200d\u2060\ufeff\ue000-\uf8ff]"
)
_HYPHENS = "-\u2010\u2011"
# "hyphen-\nation" → "hyphenation\n"; not when the left part is itself a compound
# ("state-of-the-\nart" keeps its hyphen) and only when the next line starts in lowercase.
_HYPHENATED = re.compile(
    rf"(?<![{_HYPHENS}\w])([^\W\d_]{{1,40}})[{_HYPHENS}][ ]*\n[ ]*([^\W\d_A-Z]+)([^\s]*)[ ]?"
)
_COMPOUND_END = re.compile(rf"[{_HYPHENS}]([^\W\d_]{{1,40}})[{_HYPHENS}][ ]*\n[ ]*([a-z]+)")


def clean_text(text: str) -> str:
    """Normalise extracted text (see the module docstring)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = text.translate(_LIGATURES)
    text = _JUNK.sub("", text)
    text = unicodedata.normalize("NFC", text)
    # Compounds first: mark their line-end hyphen so the general rule leaves it alone.
    text = _COMPOUND_END.sub(lambda m: f"-{m[1]}-{m[2]}", text)
    text = _HYPHENATED.sub(lambda m: f"{m[1]}{m[2]}{m[3]}\n", text)
    text = re.sub(r"[ ]{2,}", " ", text)
    text = re.sub(r"[ ]+\n", "\n", text)
    text = re.sub(r"\n[ ]+", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
