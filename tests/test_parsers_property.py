"""Property-based tests: no input makes a metadata parser crash or take long."""
from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.export import slug
from store.metadata import PARSERS, parse_chunks
from store.text import one_line, printable

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


def hostile_inputs() -> list[dict]:
    """Chunks made to hurt a parser: 100,000-deep JSON, a 20,000-node graph, a 10,000-node chain, 1 MB text."""
    deep = "[" * 100_000 + "]" * 100_000
    wide = json.dumps({str(i): {"class_type": "CLIPTextEncode", "inputs": {"text": "x" * 50}} for i in range(20_000)})
    chain = {str(i): {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": [str(i + 1), 0]}}
             for i in range(10_000)}
    chain["s"] = {"class_type": "KSampler", "inputs": {"positive": ["0", 0]}}
    passes = {str(i): {"class_type": "KSampler", "inputs": {"positive": ["c0", 0], "latent_image": [str(i + 1), 0]}}
              for i in range(2_500)}  # 2,500 passes of one chain, each over a 2,400-node conditioning chain
    passes.update({f"c{i}": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": [f"c{i + 1}", 0]}}
                   for i in range(2_400)})
    strings = {str(i): {"class_type": "StringConcatenate", "inputs": {"string_a": [str(2 * i + 1), 0],
                                                                     "string_b": [str(2 * i + 2), 0]}}
               for i in range(4_000)}
    strings["e"] = {"class_type": "CLIPTextEncode", "inputs": {"text": ["0", 0]}}
    strings["s"] = {"class_type": "KSampler", "inputs": {"positive": ["e", 0]}}
    return [{"prompt": deep}, {"prompt": wide}, {"prompt": json.dumps(chain)},
            {"prompt": json.dumps(passes)}, {"prompt": json.dumps(strings)},
            {"parameters-json": deep, "prompt": json.dumps(chain)}, {"generation_data": deep},
            {"xmp:description": "Job ID: " * 200_000}, {"exif:DateTimeOriginal": "9" * 1_000_000},
            {"parameters": "a, " * 300_000 + "\nSteps: 1, Seed: 2, CFG scale: 3"},
            {"invokeai_metadata": deep}, {"Comment": deep, "Software": "NovelAI"}]


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
