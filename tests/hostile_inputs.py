"""Metadata chunks made to hurt a parser, shared by tests/test_parsers_property.py and bench/run.py
(kept apart from the property tests so the benchmark needs no hypothesis)."""
from __future__ import annotations

import json


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
