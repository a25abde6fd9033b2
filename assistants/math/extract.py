"""Answer extraction for the math solver: what a reply's final answer is, and what a
reference says. Pure code, no model calls and no Math-Verify:

* :func:`find_boxed` / :func:`extract_answer`: the last ``\\boxed{...}`` of the answer (nested
  braces handled). Only when the answer is empty is the reasoning searched, and that result is
  marked lower confidence. An explicit "Final answer: ..." line in the answer is accepted as a
  labelled, lower-confidence fallback. Never the "last number in the text".
* :func:`reference_answer`: GSM8K ``#### n`` references, boxed answers, math delimiters.
* :func:`normalize_answer` and :func:`to_plain`: light normalisation, and a plain-text
  rendering of a LaTeX answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from .models import AnswerSource

__all__ = [
    "AnswerSource",
    "Extracted",
    "extract_answer",
    "find_boxed",
    "last_boxed",
    "normalize_answer",
    "reference_answer",
    "to_plain",
]

_BOX_COMMANDS = ("\\boxed", "\\fbox")


# --------------------------------------------------------------------------- extraction
def _read_group(text: str, start: int) -> tuple[str, int] | None:
    """``text[start]`` is ``{``: return the balanced group's content and the index after it."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":  # skip escaped characters such as \{ and \}
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
        i += 1
    return None


def find_boxed(text: str | None) -> list[str]:
    """Every ``\\boxed{...}`` (or ``\\fbox{...}``, or ``\\boxed 5``) content, in order."""
    if not text:
        return []
    found: list[str] = []
    i = 0
    while True:
        positions = [(text.find(cmd, i), cmd) for cmd in _BOX_COMMANDS]
        positions = [(pos, cmd) for pos, cmd in positions if pos >= 0]
        if not positions:
            return found
        pos, cmd = min(positions)
        j = pos + len(cmd)
        if j < len(text) and text[j].isalpha():  # \boxedx is another command
            i = j
            continue
        k = j
        while k < len(text) and text[k] in " \t":
            k += 1
        if k < len(text) and text[k] == "{":
            group = _read_group(text, k)
            if group is None:  # unbalanced: the reply was cut off inside the box
                return found
            content, i = group
            found.append(content.strip())
        elif k > j and k < len(text):  # "\boxed 5": one token up to whitespace or $
            m = re.match(r"[^\s$]+", text[k:])
            if m:
                found.append(m.group(0))
                i = k + m.end()
            else:
                i = k
        else:
            i = j


def last_boxed(text: str | None) -> str | None:
    """The content of the last non-empty box in ``text``, or None."""
    for content in reversed(find_boxed(text)):
        if content:
            return content
    return None


# "Final answer: ...", "The answer is ...", or a line that starts with "Answer:" (not "Let us
# answer: first ...")
_FINAL_LINE = re.compile(
    r"(?:final\s+answer|the\s+answer\s+is|^[ \t*#>_-]*answer\s*:)"
    r"\s*(?:is\s*)?[:=]?\s*(?P<ans>.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_HOPE = re.compile(r"\.?\s*I hope it is correct\.?\s*$", re.IGNORECASE)


def _final_answer_line(text: str) -> str | None:
    matches = list(_FINAL_LINE.finditer(text))
    if not matches:
        return None
    ans = matches[-1].group("ans").strip()
    # "Final Answer: The final answer is $18$. I hope it is correct." (the Minerva format)
    while (inner := _FINAL_LINE.search(ans)) is not None:
        ans = inner.group("ans").strip()
    ans = _HOPE.sub("", ans)
    ans = ans.rstrip(".").strip()
    ans = re.sub(r"^\*+|\*+$", "", ans).strip()  # markdown bold around the answer
    ans = ans.rstrip(".").strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if ans.startswith(left) and ans.endswith(right) and len(ans) > len(left) + len(right):
            ans = ans[len(left) : -len(right)].strip()
            break
    if len(_WORD.findall(ans)) >= 3:  # a sentence ("18, but let me check"), not an answer
        return None
    return ans or None


@dataclass(frozen=True)
class Extracted:
    """An extracted final answer: its LaTeX, where it came from and how far to trust it."""

    latex: str
    source: AnswerSource
    confidence: Literal["high", "low"]


_BOX_OPEN = re.compile(r"\\(?:boxed|fbox)[ \t]*\{")


def _has_open_box(text: str) -> bool:
    """A ``\\boxed{`` that never closes: the answer text is malformed or cut off."""
    return any(_read_group(text, m.end() - 1) is None for m in _BOX_OPEN.finditer(text))


def extract_answer(content: str | None, reasoning: str | None = None) -> Extracted | None:
    """The final answer of a reply.

    1. the last ``\\boxed{}`` of the answer text: high confidence;
    2. an explicit "Final answer: ..." / "The answer is ..." line of the answer: low;
    3. only when the answer text is empty: the last box of the reasoning: low.

    An answer text with a box that never closes has no final answer (an earlier box is not
    the final one, and the open box is unreadable).
    """
    text = content or ""
    if _has_open_box(text):
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        return Extracted(boxed, "boxed", "high")
    if text.strip():
        line = _final_answer_line(text)
        if line is not None:
            inner = last_boxed(line)
            return Extracted(inner or line, "answer_text", "low")
        return None
    boxed = last_boxed(reasoning)
    if boxed is not None:
        return Extracted(boxed, "reasoning", "low")
    return None


# --------------------------------------------------------------------------- references
_GSM8K = re.compile(r"^.*####\s*(?P<ans>.*?)\s*$", re.DOTALL)  # the last ####


def reference_answer(raw: Any) -> str:
    """The final answer inside a reference: GSM8K's ``... #### 18`` → ``18``; a boxed answer →
    its content; numbers → their text; anything else stripped of surrounding ``$``."""
    text = str(raw).strip()
    m = _GSM8K.search(text)
    if m:
        text = m.group("ans").strip()
    boxed = last_boxed(text)
    if boxed is not None:
        text = boxed
    return _strip_math_delimiters(text)


def _strip_math_delimiters(text: str) -> str:
    text = text.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if text.startswith(left) and text.endswith(right) and len(text) > len(left) + len(right):
            return text[len(left) : -len(right)].strip()
    return text


_DIGIT_SPACE = re.compile(r"(?<=\d)(?:\\[,;!: ]|~|\{,\})(?=\d{3}\b)")


def normalize_answer(latex: str) -> str:
    """Light normalisation before parsing: math delimiters, thin-space digit groups
    (``12\\,000``), ``\\dfrac``; and a canonical string for the string fallback."""
    text = _strip_math_delimiters(latex)
    text = _DIGIT_SPACE.sub("", text)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    return text.strip()


# --------------------------------------------------------------------------- plain text
_SYMBOLS = {
    "pi": "π", "infty": "∞", "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
    "in": "∈", "cup": "∪", "cap": "∩", "emptyset": "∅", "varnothing": "∅", "circ": "°",
    "degree": "°", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε",
    "theta": "θ", "lambda": "λ", "mu": "μ", "sigma": "σ", "phi": "φ", "omega": "ω",
    "Delta": "Δ", "Omega": "Ω", "to": "→", "rightarrow": "→", "ldots": "...", "dots": "...",
    "cdots": "...", "%": "%", "$": "$", "{": "{", "}": "}", "&": "&", "#": "#", "_": "_",
    "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "angle": "∠", "|": "‖",
}  # fmt: skip
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ"}
_DROP = {"left", "right", "displaystyle", "big", "Big", "bigl", "bigr", "quad", "qquad"}
_UNWRAP = {"text", "mathrm", "textbf", "mathbf", "mbox", "operatorname", "textit", "mathit"}


def _simple(text: str) -> bool:
    """One number or one symbol: safe next to ``/`` or ``√`` without parentheses (``2a`` is
    not: ``1/2a`` would read as ``a/2``)."""
    return bool(re.fullmatch(r"√?(?:\d+(?:\.\d+)?|[A-Za-zα-ωΑ-Ωπ∞](?:_\w+)?)", text))


def _arg(text: str, i: int) -> tuple[str, int]:
    """One macro argument starting at ``i`` (after spaces): a brace group or one character."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i < len(text) and text[i] == "{":
        group = _read_group(text, i)
        if group is not None:
            return group[0], group[1]
    if i < len(text) and text[i] == "\\":
        m = re.match(r"\\[A-Za-z]+", text[i:])
        if m:
            return m.group(0), i + m.end()
    return (text[i], i + 1) if i < len(text) else ("", i)


def _matrix(body: str) -> str:
    rows = [r for r in re.split(r"\\\\", body) if r.strip()]
    cells = [[to_plain(c) for c in row.split("&")] for row in rows]
    return "[" + ", ".join("[" + ", ".join(row) + "]" for row in cells) + "]"


def to_plain(latex: str | None) -> str:
    """A readable plain-text form of a LaTeX answer: ``\\frac{1}{2}`` → ``1/2``,
    ``2\\sqrt{3}`` → ``2√3``, ``\\pi`` → ``π``, matrices as nested lists."""
    if not latex:
        return ""
    text = normalize_answer(latex)
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if text.startswith("\\begin{", i):
            m = re.match(r"\\begin\{(\w+\*?)\}(.*?)\\end\{\1\}", text[i:], re.DOTALL)
            if m:
                out.append(_matrix(m.group(2)))
                i += m.end()
                continue
        if ch == "\\":
            m = re.match(r"\\([A-Za-z]+)|\\(.)", text[i:])
            if m is None:
                i += 1
                continue
            name = m.group(1) or m.group(2)
            i += m.end()
            if name in ("frac", "cfrac"):
                num, i = _arg(text, i)
                den, i = _arg(text, i)
                a, b = to_plain(num), to_plain(den)
                a = a if _simple(a) else f"({a})"
                b = b if _simple(b) else f"({b})"
                out.append(f"{a}/{b}")
            elif name == "sqrt":
                index = None
                if i < len(text) and text[i] == "[":
                    end = text.find("]", i)
                    if end > 0:
                        index, i = text[i + 1 : end], end + 1
                body, i = _arg(text, i)
                inner = to_plain(body)
                inner = inner if _simple(inner) else f"({inner})"
                roots = {None: "√", "2": "√", "3": "∛", "4": "∜"}
                if index in roots:
                    out.append(f"{roots[index]}{inner}")
                else:
                    out.append(f"{inner}^(1/{to_plain(index)})")
            elif name in ("binom", "dbinom", "tbinom"):
                n, i = _arg(text, i)
                k, i = _arg(text, i)
                out.append(f"C({to_plain(n)}, {to_plain(k)})")
            elif name == "mathbb":
                body, i = _arg(text, i)
                out.append(_BLACKBOARD.get(body.strip(), to_plain(body)))
            elif name == "overline":
                body, i = _arg(text, i)
                out.append("".join(c + "\u0305" for c in to_plain(body)))
            elif name in _UNWRAP:
                body, i = _arg(text, i)
                out.append(to_plain(body))
            elif name in _DROP:
                continue
            elif name in (",", ";", ":", " ", "!"):
                out.append(" " if name != "!" else "")
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
            else:
                out.append(name)
            continue
        if ch in "^_":
            body, i = _arg(text, i + 1)
            inner = to_plain(body)
            if ch == "^" and inner == "°":
                out.append("°")
            else:
                short = len(inner) == 1 or inner.isdigit()
                out.append(ch + (inner if short else f"({inner})"))
            continue
        if ch == "{":
            group = _read_group(text, i)
            if group is not None:
                out.append(to_plain(group[0]))
                i = group[1]
                continue
        out.append("" if ch in "{}$" else ch)
        i += 1
    plain = "".join(out)
    plain = re.sub(r"[ \t]+", " ", plain)
    return plain.replace("·", " · ").replace("  ", " ").strip()
