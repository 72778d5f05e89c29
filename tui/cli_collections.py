"""`myimages collection list|create|rename|delete|add|remove`: collections on the command line."""
from __future__ import annotations

import argparse
import json
import sys

from store.text import plural, printable, quoted

from .cli_common import add_targets, all_or_none, confirmed, open_library, target_ids


def add_parsers(sub, common: argparse.ArgumentParser, parser_class) -> None:
    """collection and its actions"""
    p = sub.add_parser("collection", parents=[common], help="list and change collections")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=parser_class)
    c = csub.add_parser("list", parents=[common], help="collections and their sizes")
    c.add_argument("--json", action="store_true", help="print a JSON array: id, name, images, in_trash")
    c = csub.add_parser("create", parents=[common], help="create a collection")
    c.add_argument("name")
    c = csub.add_parser("rename", parents=[common], help="rename a collection")
    c.add_argument("name")
    c.add_argument("new_name")
    c = csub.add_parser("delete", parents=[common], help="delete a collection (its images stay)")
    c.add_argument("name", help="its name, or its id when no collection has that name")
    c.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    for action, text in (("add", "add images to a collection"), ("remove", "take images out of a collection")):
        c = csub.add_parser(action, parents=[common], help=text)
        c.add_argument("name")
        add_targets(c)


def cmd_collection(args: argparse.Namespace) -> int:
    from store.accounts import MAKE, REFUSE

    with open_library(args, create=args.action == "create",
                      unknown_account=REFUSE if args.action == "list" else MAKE) as library:
        if args.action == "list":
            collections = library.collections()
            if args.json:  # for scripts, as list, trash list and source list have it (new-user test 11 #9)
                print(json.dumps([{"id": c.id, "name": c.name, "images": c.count, "in_trash": c.in_trash}
                                  for c in collections], ensure_ascii=False, indent=2))
                return 0
            for c in collections:
                trash = f", {c.in_trash:,} in the trash" if c.in_trash else ""  # not empty (new-user test 8 #6)
                print(f"{c.id:>5}  {printable(c.name)}  ({plural(c.count, 'image')}{trash})")
            if not collections:
                print("No collections yet: `myimages collection create NAME` makes one.", file=sys.stderr)
        elif args.action == "create":
            c = library.create_collection(args.name)
            print(f'Collection {quoted(c.name)} created')
        elif args.action == "rename":
            old = library.collection(args.name)
            c = library.rename_collection(old.id, args.new_name)
            print(f'Collection {quoted(old.name)} renamed to {quoted(c.name)}')
        elif args.action == "delete":
            c = library.collection(args.name)
            trash = c.trash_sentence()
            question = (f'Delete collection #{c.id} {quoted(c.name)}, which holds {plural(c.count, "image")}? '
                        "The images stay in the library." + (f" {trash}" if trash else ""))
            if (c.count or c.in_trash) and not args.yes and not confirmed(question):
                print("Nothing deleted.")
                return 1
            c = library.delete_collection(c.id)
            kept = ("it was empty" if not c.in_trash else "it held only images in the trash") if not c.count else \
                "its image stays in the library" if c.count == 1 else f"its {c.count:,} images stay in the library"
            print(f'Collection {quoted(c.name)} deleted ({kept})' + (f". {trash}" if trash else ""))
        else:
            c = library.collection(args.name)
            ids = target_ids(library, args, f"nothing was {'added to' if args.action == 'add' else 'removed from'} "
                             + quoted(c.name))
            all_or_none(library.require_own, ids, f"nothing was {'added to' if args.action == 'add' else 'removed from'} "
                        + quoted(c.name), known=library.own_existing(ids))
            if args.action == "add":
                n = library.add_to_collection(ids, c.id)
                print(f'{plural(n, "image")} added to {quoted(c.name)}')
            else:
                n = library.remove_from_collection(ids, c.id)
                print(f'{plural(n, "image")} removed from {quoted(c.name)}')
    return 0
