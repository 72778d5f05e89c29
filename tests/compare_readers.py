"""Our parsers against sd-parsers (PyPI) on the real generator files: how many each reads right.

Not a test: run by hand with sd-parsers importable, e.g.
    pip install --target /tmp/sdp sd-parsers && PYTHONPATH=/tmp/sdp python -m tests.compare_readers
sd-parsers is judged generously: right when any of its prompts (or their join) and any of its models match.
"""
from __future__ import annotations

import sys

from store.importer import prepare_bytes

from .generator_expectations import ALL_FILES, judge


def ours(path):
    _new, meta, _chunks = prepare_bytes(path.read_bytes(), path.name)
    return judge(path, meta.prompt, meta.model)


def theirs(path):
    from sd_parsers import ParserManager
    from sd_parsers.extractors import Eagerness

    try:
        info = ParserManager(eagerness=Eagerness.EAGER).parse(str(path))
    except Exception as exc:  # noqa: BLE001 - a reader that raises reads nothing
        return (False, False), f"raised {type(exc).__name__}"
    if info is None:
        return (False, False), "nothing"
    prompts = [p if isinstance(p, str) else "" for p in [info.full_prompt] + [p.value for p in info.prompts]]
    models = [m.name for m in info.models if m and isinstance(m.name, str)] or [""]
    right_prompt = any(judge(path, p or "", models[0])[0] for p in prompts)
    right_model = any(judge(path, prompts[0] or "", m)[1] for m in models)
    return (right_prompt, right_model), info.generator.name


def main() -> int:
    totals = {"ours": [0, 0, 0], "sd-parsers": [0, 0, 0]}
    for path in ALL_FILES:
        mine = ours(path)
        other, generator = theirs(path)
        for name, (p, m) in (("ours", mine), ("sd-parsers", other)):
            totals[name][0] += p
            totals[name][1] += m
            totals[name][2] += p and m
        print(f"{path.name:38} ours {'PM' if all(mine) else ('P-' if mine[0] else '-M' if mine[1] else '--')}"
              f"  sd-parsers {'PM' if all(other) else ('P-' if other[0] else '-M' if other[1] else '--')} ({generator})")
    for name, (p, m, both) in totals.items():
        print(f"{name}: prompt {p}/{len(ALL_FILES)}, model {m}/{len(ALL_FILES)}, both {both}/{len(ALL_FILES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
