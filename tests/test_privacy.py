"""Accounts and privacy: free accounts' images are public, premium accounts' private.

Every store entry point and command is tried as a second account against the
first one's private and public images.
"""
from __future__ import annotations

import json
import shlex

import pytest

from store import grid
from store.background import clean_image
from store.errors import NotFound, NotYours, StoreError
from store.export import export_images
from store.history import SearchHistory
from store.importer import ImportOptions, import_files
from store.library import Library
from store.records import SCOPE_PUBLIC, Filters
from tui.cli import main


@pytest.fixture
def two(tmp_path, make_png, db_url, monkeypatch):
    """alice (premium: private) and carol (free: public), seen by bob."""
    if db_url:
        monkeypatch.setenv("MYIMAGES_DATABASE_URL", db_url)  # for the command line too
    root = tmp_path / "shared"
    alice = Library(root, account="alice", database_url=db_url)
    import_files(alice, [make_png(size=(60, 60))], ImportOptions(prompt="alice secret dragon"))
    alice.set_plan("premium")
    carol = Library(root, account="carol", database_url=db_url)
    import_files(carol, [make_png(size=(60, 60))], ImportOptions(prompt="carol public dragon"))
    bob = Library(root, account="bob", database_url=db_url)
    private_id = alice.page()[0].id
    public_id = carol.page()[0].id
    alice.create_collection("Alice's")
    yield root, alice, carol, bob, private_id, public_id


def test_public_owners_are_the_other_free_accounts_with_images(two):
    """What an empty gallery names (new-user test 7 #27): free accounts other than the acting one, with images
    outside the trash; a premium account's are private, a trashed image is no one's to see."""
    root, alice, carol, bob, private_id, public_id = two
    assert bob.public_owners() == ["carol"] and carol.public_owners() == [] and alice.public_owners() == ["carol"]
    carol.trash([public_id])
    assert bob.public_owners() == []


def test_visibility_follows_the_plan(two):
    root, alice, carol, bob, private_id, public_id = two
    public = Filters(scope=SCOPE_PUBLIC)
    assert [r.id for r in bob.page(public)] == [public_id]
    assert bob.count(public) == 1 and bob.count(Filters(search="dragon", scope=SCOPE_PUBLIC)) == 1
    assert bob.page(public)[0].owner == "carol"
    carol.set_plan("premium")  # every one of carol's images turns private at once
    assert bob.count(public) == 0
    alice.set_plan("free")
    assert [r.id for r in bob.page(public)] == [private_id]
    assert alice.refresh_account().privacy_text == "Free — your images are public"


def test_private_images_do_not_exist_for_others(two, tmp_path):
    root, alice, carol, bob, private_id, public_id = two
    assert bob.count() == 0 and bob.total() == 0 and bob.page() == []
    assert bob.position(private_id) is None
    attempts = [
        lambda: bob.get(private_id),
        lambda: bob.toggle_favorite(private_id),
        lambda: bob.set_favorite([private_id]),
        lambda: bob.delete([private_id]),
        lambda: bob.membership([private_id]),
        lambda: bob.add_to_collection([private_id], bob.create_collection("Mine").id),
        lambda: export_images(bob, [private_id], tmp_path / "out"),
        lambda: clean_image(bob, private_id),
        lambda: grid.cut(bob, private_id, grid.Layout(1, 1, (0, 60), (0, 60)), [(0, 0)], folder=tmp_path / "g"),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound) as exc:
            attempt()
        assert str(exc.value) == f"No image #{private_id}."  # the same as an id that never existed
    assert not (tmp_path / "out").exists() and not (tmp_path / "g").exists()
    assert alice.get(private_id).prompt == "alice secret dragon"


def test_public_images_of_others_are_read_only(two, tmp_path):
    root, alice, carol, bob, private_id, public_id = two
    record = bob.get(public_id)
    assert record.owner == "carol"
    assert export_images(bob, [public_id], tmp_path / "out")[0].exists()
    items = grid.cut(bob, public_id, grid.Layout(1, 1, (0, 60), (0, 60)), [(0, 0)], folder=tmp_path / "g")
    assert len(items.written) == 1
    writes = [
        lambda: bob.toggle_favorite(public_id),
        lambda: bob.set_favorite([public_id]),
        lambda: bob.delete([public_id]),
        lambda: bob.add_to_collection([public_id], bob.create_collection("Loot").id),
        lambda: bob.remove_from_collection([public_id], bob.collection("Loot").id),
        lambda: clean_image(bob, public_id),
        lambda: grid.cut(bob, public_id, grid.Layout(1, 1, (0, 60), (0, 60)), [(0, 0)], save=True),
    ]
    for attempt in writes:
        with pytest.raises(NotYours):
            attempt()
    assert not carol.get(public_id).favorite and carol.total() == 1 and bob.total() == 0


def test_collections_are_per_account(two):
    root, alice, carol, bob, private_id, public_id = two
    mine = alice.collection("Alice's")
    for attempt in (lambda: bob.collection(mine.id), lambda: bob.rename_collection(mine.id, "x"),
                    lambda: bob.delete_collection(mine.id), lambda: bob.add_to_collection([], mine.id),
                    lambda: bob.page(Filters(collection_id=mine.id))):
        with pytest.raises(NotFound):
            attempt()
    assert bob.collections() == []
    assert bob.create_collection("Alice's").id != mine.id  # names are unique per owner only


def test_favorites_are_their_owners_alone(two, capsys):
    """New-user test 4 item 11: in the public gallery is:fav and the favorites order were the owners' favorites,
    and `info` of another's image said "Favorite: yes"."""
    root, alice, carol, bob, private_id, public_id = two
    carol.set_favorite([public_id])
    public = Filters(scope=SCOPE_PUBLIC)
    assert not bob.get(public_id).favorite and not bob.page(public)[0].favorite and carol.get(public_id).favorite
    for query in ("is:fav", "dragon -is:fav", "sort:favorites"):
        assert "Favorites are yours alone" in bob.search_problem(query, SCOPE_PUBLIC)
        assert bob.search_problem(query) == ""  # in one's own gallery: one's own favorites
    assert bob.ids(Filters(scope=SCOPE_PUBLIC, sort="favorites")) == bob.ids(public)  # not carol's order
    code, out, err = cli(capsys, root, "bob", "list", "--public", "--search", "is:fav")
    assert code == 1 and "Favorites are yours alone" in err and out == ""
    code, out, err = cli(capsys, root, "bob", "list", "--public", "--sort", "favorites")
    assert code == 1 and "Favorites are yours alone" in err
    for option in (["--favorites"], ["--collection", "Mine"]):  # NEWUSER6 §12: it said "only --search and
        code, out, err = cli(capsys, root, "bob", "list", "--public", *option)  # --limit apply" (--sort does too)
        assert code == 1 and out == "" and "--favorites, --non-favorites and --collection do not apply" in err
    code, out, _ = cli(capsys, root, "bob", "info", str(public_id))
    assert "Favorite:        no" in out


def test_plans_and_accounts(two):
    root, alice, carol, bob, *_ = two
    with pytest.raises(StoreError):
        bob.set_plan("gold")
    assert bob.account.plan == "free"
    assert [a.name for a in bob.accounts()] == ["alice", "bob", "carol"]
    assert bob.create_account("dave").plan == "free"
    with pytest.raises(StoreError):
        bob.create_account("dave")


def cli(capsys, root, account, *args):
    code = main([*args, "--library", str(root), "--account", account])
    out, err = capsys.readouterr()
    return code, out, err


def test_command_line_as_another_account(two, capsys, tmp_path):
    root, alice, carol, bob, private_id, public_id = two
    code, out, _ = cli(capsys, root, "bob", "list", "--json")
    assert json.loads(out) == []
    code, out, _ = cli(capsys, root, "bob", "list", "--public", "--json")
    assert [d["id"] for d in json.loads(out)] == [public_id] and json.loads(out)[0]["owner"] == "carol"
    code, out, _ = cli(capsys, root, "bob", "list", "--public")
    assert "carol: carol public dragon" in out and "alice" not in out
    for args in (["info", str(private_id)], ["favorite", str(private_id)], ["delete", str(private_id), "--yes"],
                 ["export", str(private_id), "--to", str(tmp_path / "x")], ["clean", str(private_id)],
                 ["grid", str(private_id), "--save"], ["grid", str(private_id), "--to", str(tmp_path / "x")],
                 ["collection", "add", "Alice's", str(private_id)]):
        code, out, err = cli(capsys, root, "bob", *args)
        assert code == 1 and (f"No image #{private_id}." in err or "No collection" in err), (args, err)
    for args in (["favorite", str(public_id)], ["delete", str(public_id), "--yes"], ["clean", str(public_id)],
                 ["grid", str(public_id), "--save"]):
        code, out, err = cli(capsys, root, "bob", *args)
        assert code == 1 and "belongs to another account" in err, (args, err)
    assert cli(capsys, root, "bob", "info", str(public_id))[0] == 0
    assert cli(capsys, root, "bob", "export", str(public_id), "--to", str(tmp_path / "ok"))[0] == 0
    assert cli(capsys, root, "bob", "grid", str(public_id), "--to", str(tmp_path / "ok"))[0] == 0
    assert not (tmp_path / "x").exists()
    assert alice.total() == 1 and carol.total() == 1 and not carol.get(public_id).favorite


def test_account_commands(two, capsys):
    root, *_ = two
    assert cli(capsys, root, "bob", "account", "show")[1] == "bob: Free — your images are public\n"
    code, out, _ = cli(capsys, root, "bob", "account", "list")
    assert "* bob  free" in out and "  alice  premium  (images private)" in out
    code, out, err = cli(capsys, root, "bob", "account", "set-plan", "alice", "free")
    assert code == 1 and "only your own plan" in err
    # new-user test 10 #3: an admin setting up a team's second account is told how (README's team set-up)
    assert 'as that account, `myimages --account alice account set-plan alice free`.' in err
    assert cli(capsys, root, "bob", "account", "set-plan", "bob", "premium")[1] == \
        "bob: Premium — your images are private\n"
    assert "created" in cli(capsys, root, "bob", "account", "create", "erin")[1]


def test_a_new_account_name_is_said_not_made_silently(capsys, tmp_path, make_png):
    """NEWUSER4 #17: `--account carol` (a typo, perhaps) made a public account without a word. Scripts keep
    working (a command that adds or changes something still makes it, exit 0); the first account of a new
    library is no news."""
    folder = str(tmp_path / "acc-lib")
    assert main(["import", "--library", folder, str(make_png())]) == 0
    assert "Account" not in capsys.readouterr().err
    assert main(["--account", "carol", "collection", "create", "Mine", "--library", folder]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[0] == ('myimages: Account "carol" is new, made just now: it is free, so its images are '
                                   "public (the other accounts: alice).")
    assert main(["--account", "carol", "list", "--library", folder]) == 0
    assert "Account" not in capsys.readouterr().err  # said once, when made


def accounts_of(root, db_url) -> list[str]:
    with Library(root, account="alice", database_url=db_url) as library:
        return [a.name for a in library.accounts()]


def test_a_command_that_only_reads_makes_no_account(two, capsys, tmp_path, db_url):
    """New-user test 10 #5: `myimages --account alcie list` (a typo) made a permanent public account in the shared
    library. A command that only reads now says there is no such account, names those there are, and exits 1,
    making none; a command that adds or changes something still makes it (README: "when first used")."""
    root, alice, carol, bob, private_id, public_id = two
    before = accounts_of(root, db_url)
    said = ('myimages: There is no account "alcie" in this library (the accounts there are: alice, bob, carol); an '
            "account is made the first time it is used to add or change something (import, favorite, collection "
            "create…), not by a command that only reads; `myimages account create alcie --library "
            f"{shlex.quote(str(root))}` makes it now, adding nothing else.\n")
    for args in (["list"], ["list", "--public", "--json"], ["info", str(public_id)], ["info", str(public_id), "--json"],
                 ["export", str(public_id), "--to", str(tmp_path / "out")], ["collection", "list"], ["trash", "list"],
                 ["source", "list"], ["source", "scan"], ["watch"], ["account", "show"], ["account", "list"],
                 ["duplicates", "--json"]):
        assert cli(capsys, root, "alcie", *args) == (1, "", said), args
    assert cli(capsys, root, "alcie", "doctor")[0] == 0  # it checks the library, as any account, and makes none
    assert accounts_of(root, db_url) == before == ["alice", "bob", "carol"]
    assert not (tmp_path / "out").exists()
    # a command that changes something makes it, and says so, as before
    code, out, err = cli(capsys, root, "dave", "collection", "create", "Mine")
    assert code == 0 and 'Account "dave" is new, made just now' in err
    assert "dave" in accounts_of(root, db_url)
    # the command the sentence names works as written: a new teammate who only wants to read is not stuck
    made = shlex.split(said.split("`")[1])
    assert made[0] == "myimages" and main(made[1:]) == 0
    assert capsys.readouterr().out == 'Account "alcie" created: Free\n'
    code, out, _ = cli(capsys, root, "alcie", "list", "--public", "--json")
    assert code == 0 and [d["id"] for d in json.loads(out)] == [public_id]


def test_account_delete_removes_only_an_account_that_owns_nothing(two, capsys, tmp_path, db_url):
    """New-user test 10 #5: a mistyped account could not be removed. `account delete NAME` removes an account
    with no images (in the trash or not), collections or source folders; otherwise one sentence says what it
    still owns and nothing changes. It makes no account of the one acting either."""
    root, alice, carol, bob, private_id, public_id = two
    assert cli(capsys, root, "alice", "account", "create", "alcie")[0] == 0

    def delete(name, acting="alice"):
        code, out, err = cli(capsys, root, acting, "account", "delete", name)
        return code, (out + err).strip()

    histories = {name: SearchHistory(root, name) for name in ("alcie", "alice")}
    for history in histories.values():
        assert history.add("dragon") and history.path.exists()
    assert delete("alcie", acting="nobody") == (0, 'Account "alcie" deleted (it owned nothing).')
    # its searches went with it (a new "alcie" would have found them); only its own file
    assert not histories["alcie"].path.exists() and histories["alice"].path.exists()
    assert SearchHistory(root, "alice").entries == ["dragon"]
    # creating one as itself: made once, said once (it was made on opening, said so, then "already exists", exit 1)
    assert cli(capsys, root, "alcie", "account", "create", "alcie") == (0, 'Account "alcie" created: Free\n', "")
    assert delete("alcie", acting="alcie") == (0, 'Account "alcie" deleted (it owned nothing).')
    assert accounts_of(root, db_url) == ["alice", "bob", "carol"]  # nor was "nobody" made
    assert delete("alcie") == (1, 'myimages: There is no account "alcie" in this library (the accounts there are: '
                                  "alice, bob, carol): nothing was deleted.")
    assert delete("alice") == (1, 'myimages: Account "alice" still owns 1 image and 1 collection: nothing was deleted '
                                  "(an account is deleted only when it owns nothing).")
    carol.trash([public_id])
    assert delete("carol") == (1, 'myimages: Account "carol" still owns 1 image (1 in the trash): nothing was '
                                  "deleted (an account is deleted only when it owns nothing).")
    folder = tmp_path / "bobs-out"
    folder.mkdir()
    bob.add_source(folder)
    assert delete("bob") == (1, 'myimages: Account "bob" still owns 1 source folder: nothing was deleted (an account '
                                "is deleted only when it owns nothing).")
    assert accounts_of(root, db_url) == ["alice", "bob", "carol"]
    assert alice.count(Filters(search="")) == 1  # nothing of theirs went
    assert carol.trashed_ids() == [public_id] and alice.collections()[0].name == "Alice's"


async def test_the_app_says_a_new_account(tmp_path, make_png):
    from tui.app import MyImagesApp

    from . import ui

    import_files(Library(tmp_path / "acc-lib", account="alice"), [make_png()])
    app = MyImagesApp(Library(tmp_path / "acc-lib", account="bobb"), images="none", downloads=tmp_path / "dl")
    said = ui.notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.wait_until(pilot, lambda: any('Account "bobb" is new' in n for n in said))


def test_a_change_by_an_account_deleted_meanwhile_is_one_sentence(tmp_path, db_url, make_png):
    """An app open as an account that owned nothing, while `account delete` removed it (new-user test 11): its next
    change was "The library database failed: FOREIGN KEY constraint failed." Now one sentence that says what
    happened and what to do; nothing is saved. Fails without (the raw constraint)."""
    root = tmp_path / "lib"
    alice = Library(root, account="alice", database_url=db_url)
    eve = Library(root, account="eve", database_url=db_url)
    try:
        alice.delete_account("eve")
        with pytest.raises(StoreError) as caught:
            eve.create_collection("Mine")
        assert str(caught.value) == (
            "Nothing was saved: what the change refers to was deleted meanwhile (an image or a collection, by another "
            "window or command; or the acting account itself, by `myimages account delete`: open the library again "
            "to act as it).")
        (failed,) = import_files(eve, [make_png()]).failed  # the app's import said the raw constraint too
        assert failed[1].endswith(str(caught.value)), failed
        assert [c.name for c in alice.collections()] == [] and [a.name for a in alice.accounts()] == ["alice"]
    finally:
        eve.close()
        alice.close()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_account_delete_waits_for_a_write_by_that_account_not_yet_committed(tmp_path, db_url):
    """PostgreSQL: a collection made by the account in a transaction still open when `account delete` runs. The
    delete's own check could not see it, and once it committed the account went, and the collection with it
    (ON DELETE CASCADE). Now the delete waits for that write and finds the account owns something."""
    import threading

    import psycopg2

    from store.errors import StoreError

    admin = Library(tmp_path / "lib", account="alice", database_url=db_url)
    Library(tmp_path / "lib", account="dave", database_url=db_url).close()  # owns nothing
    writer = psycopg2.connect(db_url)
    cursor = writer.cursor()
    cursor.execute("INSERT INTO collection (owner_id, name, created_at) "
                   "SELECT id, 'Dave''s', now() FROM account WHERE name = 'dave'")  # not committed yet
    said: list[str] = []

    def delete() -> None:
        try:
            admin.delete_account("dave")
            said.append("deleted")
        except StoreError as exc:
            said.append(str(exc))

    deleting = threading.Thread(target=delete)
    deleting.start()
    deleting.join(0.5)  # it waits for the write's lock on the account's row (with or without this change)
    writer.commit()
    deleting.join(30)
    cursor.execute("SELECT COUNT(*) FROM collection WHERE name = 'Dave''s'")
    assert cursor.fetchone()[0] == 1
    assert said and "still owns" in said[0], said
    writer.close()
    admin.close()
