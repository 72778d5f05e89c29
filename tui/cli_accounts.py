"""`myimages account show|list|create|set-plan|delete`: accounts and their plans on the command line."""
from __future__ import annotations

import argparse
import json
import shlex

from store.text import printable

from .cli_common import UserError, open_library


def add_parsers(sub, common: argparse.ArgumentParser, parser_class) -> None:
    """account and its actions"""
    p = sub.add_parser("account", parents=[common], help="accounts and their plans (free: public, premium: private)")
    asub = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=parser_class)
    asub.add_parser("show", parents=[common], help="the acting account and its plan")
    a = asub.add_parser("list", parents=[common], help="every account of the library")
    a.add_argument("--json", action="store_true", help="print a JSON array: name, plan, public, you (the acting one)")
    a = asub.add_parser("create", parents=[common], help="create a free account (a command that only reads makes "
                                                         "none: a new teammate who only reads makes theirs so)")
    a.add_argument("name")
    a = asub.add_parser("set-plan", parents=[common], help="change your plan: free or premium")
    a.add_argument("name")
    a.add_argument("plan", choices=["free", "premium"])
    a = asub.add_parser("delete", parents=[common],
                        help="remove an account that owns nothing (a mistyped --account): no images, in the trash or "
                             "not, no collections, no source folders; otherwise it says what it still owns")
    a.add_argument("name")


def cmd_account(args: argparse.Namespace) -> int:
    from store.accounts import MAKE, REFUSE, STAND_IN

    # show and list only read: an unknown --account is said, not made; create and delete need no account of their
    # own (`--account zed account create zed` made zed on opening, said so, then "already exists", exit 1)
    unknown = STAND_IN if args.action in ("create", "delete") else REFUSE if args.action in ("show", "list") else MAKE
    with open_library(args, create=args.action == "create", unknown_account=unknown) as library:
        me = library.account
        if args.action == "show":
            print(f"{printable(me.name)}: {me.privacy_text}")
        elif args.action == "list" and args.json:  # for scripts (new-user test 11 #9)
            print(json.dumps([{"name": a.name, "plan": a.plan, "public": a.public, "you": a.id == me.id}
                              for a in library.accounts()], ensure_ascii=False, indent=2))
        elif args.action == "list":
            for account in library.accounts():
                mark = "*" if account.id == me.id else " "
                print(f"{mark} {printable(account.name)}  {account.plan}  "
                      f"({'images public' if account.public else 'images private'})")
        elif args.action == "delete":
            library.delete_account(args.name)
            print(f'Account "{printable(" ".join(args.name.split()))}" deleted (it owned nothing).')
        elif args.action == "create":
            account = library.create_account(args.name)
            print(f'Account "{printable(account.name)}" created: {account.privacy_text.split(" — ")[0]}')
        else:
            if " ".join(args.name.split()) != me.name:
                name = printable(" ".join(args.name.split()))  # the way to it, for the one setting up a team
                raise UserError(f'You can change only your own plan (you are "{printable(me.name)}"): as that account, '
                                f'`myimages --account {shlex.quote(name)} account set-plan {shlex.quote(name)} {args.plan}`.')
            account = library.set_plan(args.plan)
            print(f"{printable(account.name)}: {account.privacy_text}")
    return 0
