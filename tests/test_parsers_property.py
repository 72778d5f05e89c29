"""Property-based tests: no input makes a metadata parser (or the search language's) crash or take long."""
from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.export import slug
from store.metadata import PARSERS, parse_chunks
from store.query import HINT_WIDTH, parse, without_sort
from store.text import one_line, printable

from .hostile_inputs import hostile_inputs

KEYS = ["parameters", "prompt", "workflow", "invokeai_metadata", "sd-metadata", "Dream", "Comment", "Description",
        "Software", "Source", "fooocus_scheme", "myimages", "negative_prompt", "guidance_scale",
        "parameters-json", "generation_data", "xmp:description", "xmp:UserComment", "xmp:CreatorTool", "Prompt",
        "exif:DateTimeOriginal", "Creation Time"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
chunk_text = st.one_of(st.text(max_size=300), json_values.map(lambda v: json.dumps(v)))
chunks = st.dictionaries(st.sampled_from(KEYS), chunk_text, max_size=6)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(chunks)
def test_no_parser_raises(data):
    for _name, parser in PARSERS:
        try:
            result = parser(data)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"{_name} raised {exc!r} on {data!r}") from exc
        if result is not None:
            assert isinstance(result.prompt, str) and isinstance(result.model, str)
            json.dumps(result.params, default=str)


@FAST
@given(st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=8))
def test_comfyui_like_graphs(graph):
    meta = parse_chunks({"prompt": json.dumps({"1": {"class_type": "KSampler", "inputs": graph}, **graph})})
    assert isinstance(meta.prompt, str)


def test_hostile_inputs_never_crash_or_hang():
    # How fast each one parses is a benchmark figure (bench/run.py: under 20 ms each here);
    # the bound below only catches a runaway parser (quadratic on these sizes takes minutes).
    for data in hostile_inputs():
        start = time.perf_counter()
        meta = parse_chunks(data)
        assert isinstance(meta.prompt, str), list(data)
        assert time.perf_counter() - start < 10, list(data)


@FAST
@given(st.text())
def test_printable_text_has_no_control_characters(text):
    shown = printable(text)
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown and "\x00" not in shown
    assert all(ch == "\n" or ord(ch) >= 0x20 for ch in printable(text, keep_newlines=True) if ch != "\t")
    assert "\n" not in one_line(text)


@FAST
@given(st.text(max_size=20_000))
def test_slug_is_a_safe_file_name(text):
    name = slug(text)
    assert 0 < len(name) <= 60 and "/" not in name and ".." not in name and not name.startswith("-")


QUERY_PARTS = list('ab -:|"()\\') + ["(", "-(", ")", " ) ", "seed:", "in:", "masterpiece:1.2", "x" * 30, "OR", "..",
                                       "date:", "sort:", "sort:oldest", "is:fav"]


@FAST
@given(st.lists(st.sampled_from(QUERY_PARTS), max_size=30).map("".join) | st.text(max_size=80))
def test_any_query_with_parentheses_parses_or_hints_in_one_line(text):
    """Parentheses, quotes, minus signs and | in any order: a query or a hint that fits the status line at 80
    columns, never an exception; the box's text without its order reads as the same query less its order."""
    parsed = parse(text)
    assert "\n" not in parsed.error and len(parsed.error) <= HINT_WIDTH, parsed.error
    parsed.describe()
    rest = parse(without_sort(text))
    assert rest.sort is None
    if not parsed.error:
        assert rest.groups == parsed.groups, (text, without_sort(text))
