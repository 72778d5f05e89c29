"""What differs between two images' settings (the compare view, issue 16).

One row per setting: prompt, model, seed, steps, CFG, sampler, size, negative prompt, then format and
file size and the generation date. Prompts are compared word by word (any case, commas and brackets
apart): the words only the left one has were removed, those only the right one has were added.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .query import as_number, param, seed_number
from .records import ImageRecord, human_size, recorded

# a word: up to a separator, without the full stop (or ; ! ?) that ends a sentence ("painting." is "painting")
WORD = re.compile(r"[^\s,()\[\]{}<>|.;!?]+(?:[.;!?]+[^\s,()\[\]{}<>|.;!?]+)*")


@dataclass(frozen=True)
class SettingRow:
    label: str
    left: str
    right: str
    removed: tuple[str, ...] = ()  # prompt words only on the left (case-folded)
    added: tuple[str, ...] = ()  # prompt words only on the right (case-folded)

    @property
    def differs(self) -> bool:
        return bool(self.removed or self.added) or self.left != self.right


def words(text: str) -> list[str]:
    """A prompt's words, case-folded, without the commas and brackets between them."""
    return [w.casefold() for w in WORD.findall(text or "")]


def word_changes(left: str, right: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(removed, added): the words (counted: a word twice on the left and once on the right was removed
    once) only the left prompt has, and only the right one has, each in its prompt's order."""
    a, b = Counter(words(left)), Counter(words(right))
    removed, added = a - b, b - a

    def in_order(text: str, extra: Counter) -> tuple[str, ...]:
        out, left_over = [], Counter(extra)
        for word in words(text):
            if left_over[word] > 0:
                left_over[word] -= 1
                out.append(word)
        return tuple(out)

    return in_order(left, removed), in_order(right, added)


def _number(value) -> str:
    number = as_number(value)
    if number is None:
        return "" if value in (None, "") else recorded(str(value))
    return str(int(number)) if number == int(number) else f"{number:g}"


def _setting(record: ImageRecord, name: str) -> str:
    if name == "seed":  # a file's negative seed counts as none, as in a search
        return _number(seed_number(record.params))
    if name == "steps":
        return _number(param(record.params, "steps"))
    if name == "cfg":
        return _number(record.text_accuracy)
    if name == "sampler":
        return str(param(record.params, "sampler") or "")
    raise KeyError(name)


def compare(left: ImageRecord, right: ImageRecord) -> list[SettingRow]:
    """Every setting of the two images, side by side ("" where an image does not record it)."""
    removed, added = word_changes(left.prompt, right.prompt)
    negative_removed, negative_added = word_changes(left.negative_prompt, right.negative_prompt)
    rows = [
        SettingRow("Prompt", left.prompt, right.prompt, removed, added),
        SettingRow("Model", left.model, right.model),
    ]
    for label, name in (("Seed", "seed"), ("Steps", "steps"), ("CFG", "cfg"), ("Sampler", "sampler")):
        rows.append(SettingRow(label, _setting(left, name), _setting(right, name)))
    rows += [
        SettingRow("Size", f"{left.width}×{left.height}", f"{right.width}×{right.height}"),
        SettingRow("Negative", left.negative_prompt, right.negative_prompt, negative_removed, negative_added),
        SettingRow("File", f"{left.ext.upper()} {human_size(left.file_size)}",
                   f"{right.ext.upper()} {human_size(right.file_size)}"),
        SettingRow("Generated", left.generated_at.strftime("%Y-%m-%d %H:%M"),
                   right.generated_at.strftime("%Y-%m-%d %H:%M")),
    ]
    return rows
