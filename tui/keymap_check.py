"""What is wrong with a settings file's [keymap]: ids no key has, and keys it gives to two actions of one
screen (`"gallery.favorite" = "d"` took d from Delete, which was left without a key).

Said by the app when it starts (one notification), by `myimages config show`, and next to the bindings
concerned in the help (? or F1). This module needs no Textual: it reads the bindings as plain data, from
tui/binding_table.py for `config show` (which starts without Textual) or as the app's classes declare them
now (help_screen.binding_table()) in the app. `python -m tui.keymap_check` writes binding_table.py again from
the classes; tests/test_settings.py fails when it no longer matches them.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Mapping, Sequence

Row = tuple[str, str, str]  # a binding: (its id, or "" when it has none; its action; its keys, "f,F")
Table = Mapping[str, Sequence[Row]]  # "module.Class" -> the bindings it offers (its own and its bases')

# The large view does to the image it shows what the gallery does to the card under the cursor: a binding of its
# with the same action as the gallery's binding of the same name ("viewer.favorite", "gallery.favorite") takes the
# keys the keymap gives the gallery's, unless the keymap names it too (NEWUSER11: after "gallery.favorite" =
# "ctrl+f" the large view still took f). The large view of the trash and of the duplicates view (picture_screen.py,
# "picture.next") likewise follows the gallery's large view ("viewer.next").
FOLLOWS = {"viewer": "gallery", "picture": "viewer"}


def with_followers(keymap: Mapping[str, str], table: Table | None = None) -> dict[str, str]:
    """`keymap` and the bindings that follow a binding it rebinds (`FOLLOWS`), given the same keys."""
    if table is None:
        from .binding_table import BINDINGS

        table = BINDINGS
    actions = {binding_id: action for rows in table.values() for binding_id, action, _ in rows if binding_id}
    followed = dict(keymap)
    more = True
    while more:  # a follower's follower (picture after viewer after gallery) takes what its leader took
        more = False
        for binding_id, action in actions.items():
            screen, _, name = binding_id.partition(".")
            leader = f"{FOLLOWS[screen]}.{name}" if screen in FOLLOWS else ""
            if leader in followed and binding_id not in followed and actions.get(leader) == action:
                followed[binding_id] = followed[leader]
                more = True
    return followed


def keys_of(keys: str) -> list[str]:
    return [key.strip() for key in keys.split(",") if key.strip()]


def clashes(keymap: Mapping[str, str], rows: Sequence[Row]) -> dict[str, list[str]]:
    """The keys of one class the keymap gives to two of its bindings: {key: the bindings' names (id, else
    action), the rebound one first}. A clash the class has without the keymap is the class's own business."""
    holders: dict[str, dict[str, None]] = {}  # key -> the bindings (id, else action) it runs
    for binding_id, action, keys in rows:
        name = binding_id or action
        for key in keys_of(keymap.get(binding_id, keys) if binding_id else keys):
            holders.setdefault(key, {})[name] = None
    return {key: sorted(names, key=lambda n: n not in keymap)
            for key, names in holders.items() if len(names) > 1 and any(name in keymap for name in names)}


def winner(keymap: Mapping[str, str], names: Sequence[str]) -> str | None:
    """Which of a clash's bindings a key runs: the one the keymap gave it (Textual takes the key from the
    others), or None when the keymap gave it to several."""
    rebound = [name for name in names if name in keymap]
    return rebound[0] if len(rebound) == 1 else None


def clash_sentence(key: str, names: Sequence[str], keymap: Mapping[str, str]) -> str:
    runs = winner(keymap, names)
    if runs is None:
        return f'[keymap] "{key}" is given to both {" and ".join(names)}: only one runs.'
    others = " and ".join(name for name in names if name != runs)
    return f'[keymap] "{key}" is given to both {" and ".join(names)}: it runs {runs}; {others} no longer has it.'


def keymap_problems(keymap: Mapping[str, str], table: Table | None = None) -> list[str]:
    """One sentence per problem: the unknown ids together, then each key given to two actions of one class.
    `table`: the bindings to check against (default: binding_table.py's, read without Textual)."""
    if not keymap:
        return []
    if table is None:
        from .binding_table import BINDINGS

        table = BINDINGS
    problems = []
    unknown = sorted(set(keymap) - {binding_id for rows in table.values() for binding_id, _, _ in rows})
    if unknown:
        problems.append(f"[keymap] {', '.join(repr(k) for k in unknown)}: no key has that id (? shows each "
                        "key's id); the others apply.")
    keymap = with_followers(keymap, table)  # "gallery.favorite" = "d" takes d from the large view's Delete too
    seen: set[tuple[str, frozenset[str]]] = set()
    for name in sorted(table):
        for key, names in clashes(keymap, table[name]).items():
            if (key, frozenset(names)) not in seen:  # a subclass repeats its base's
                seen.add((key, frozenset(names)))
                problems.append(clash_sentence(key, names, keymap))
    return problems


def table_source(table: Table) -> str:
    """binding_table.py's text for `table`."""
    lines = ['"""Every binding the app\'s screens and widgets offer, as plain data: `myimages config show` checks a',
             "[keymap] with it without importing Textual (tui/keymap_check.py). Written by",
             "`python -m tui.keymap_check` from the classes; tests/test_settings.py fails when it no longer matches",
             'them. Do not edit by hand."""',
             "",
             "BINDINGS: dict[str, list[tuple[str, str, str]]] = {  # class -> (id, action, keys) of its bindings"]
    for name in sorted(table):
        lines.append(f"    {name!r}: [")
        lines.extend(f"        {tuple(row)!r}," for row in table[name])
        lines.append("    ],")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    from .help_screen import binding_table

    path = Path(__file__).with_name("binding_table.py")
    text = table_source(binding_table())
    if path.exists() and path.read_text(encoding="utf-8") == text:
        print(f"{path} is up to date.")
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"Wrote {path}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
