"""What is wrong with a settings file's [keymap]: ids no key has, and keys it gives to two actions of one
screen (`"gallery.favorite" = "d"` took d from Delete, which was left without a key).

Said by the app when it starts (one notification) and by `myimages config show`. It reads the bindings
the app's classes declare, so it imports Textual: `config show` imports it only for a file with a keymap.
"""
from __future__ import annotations

from .help_screen import OWN_PACKAGES, binding_ids, own_bindings


def _keys(text: str) -> list[str]:
    return [key.strip() for key in text.split(",") if key.strip()]


def _classes() -> list[type]:
    """Every class of the app that declares bindings (binding_ids() has imported the modules)."""
    from textual.dom import DOMNode

    found: list[type] = []
    todo: list[type[DOMNode]] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith(OWN_PACKAGES) and own_bindings(cls):
            found.append(cls)
    return found


def keymap_problems(keymap: dict[str, str]) -> list[str]:
    """One sentence per problem: the unknown ids together, then each key given to two actions of one class."""
    if not keymap:
        return []
    problems = []
    unknown = sorted(set(keymap) - binding_ids())
    if unknown:
        problems.append(f"[keymap] {', '.join(repr(k) for k in unknown)}: no key has that id (? shows each "
                        "key's id); the others apply.")
    seen: set[tuple[str, frozenset[str]]] = set()
    for cls in sorted(_classes(), key=lambda c: (c.__module__, c.__qualname__)):
        holders: dict[str, dict[str, None]] = {}  # key -> the bindings (id, else action) it runs
        for binding in own_bindings(cls):
            name = binding.id or binding.action
            for key in _keys(keymap.get(binding.id, binding.key) if binding.id else binding.key):
                holders.setdefault(key, {})[name] = None
        for key, names in holders.items():
            if len(names) > 1 and any(name in keymap for name in names):
                clash = frozenset(names)
                if (key, clash) in seen:  # a subclass repeats its base's
                    continue
                seen.add((key, clash))
                ordered = sorted(names, key=lambda n: n not in keymap)  # the rebound one first
                problems.append(f'[keymap] "{key}" is given to both {" and ".join(ordered)}: only one runs.')
    return problems
