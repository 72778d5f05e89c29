"""Card sizes: the default fits 4 cards at 80×24 and bigger thumbnails at 160×48; + and - change the size
(small, medium, large), remembered in the settings file; selecting a card never moves the cards."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.app import MyImagesApp
from widgets.card import MONTHS, ImageCard
from widgets.card_grid import CardGrid

from . import ui

SIZES = [(80, 24), (160, 48)]


def make_app(library, tmp_path):
    return MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")


def grid(app) -> CardGrid:
    return app.screen.query_one("#grid", CardGrid)


def capacity(app) -> int:
    return grid(app).columns * grid(app).rows


def thumb_width(app) -> int:
    return app.screen.query_one("#card-0", ImageCard).thumb_box[0]


@pytest.mark.parametrize("size", SIZES)
async def test_default_size_fits_four_cards_at_80x24_and_uses_a_large_terminal(small_library, tmp_path, size):
    app = make_app(small_library, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        assert grid(app).card_size == "medium"
        if size == (80, 24):
            assert capacity(app) >= 4
        else:
            assert capacity(app) >= 8 and thumb_width(app) >= 24  # not 16×8 thumbnails any more
        card = app.screen.query_one("#card-0", ImageCard)
        assert card.region.bottom <= app.screen.query_one("KeyBar").region.y
        assert all(icon in ui.screen_text(app) for icon in ("♡", "📁"))  # every button on the card


@pytest.mark.parametrize("size", SIZES)
async def test_plus_and_minus_go_through_three_sizes_and_are_remembered(small_library, tmp_path, size):
    app = make_app(small_library, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        medium = (capacity(app), thumb_width(app))
        await pilot.press("minus")
        await ui.wait_until(pilot, lambda: grid(app).card_size == "small")
        await pilot.pause()
        small = (capacity(app), thumb_width(app))
        await pilot.press("plus", "plus")
        await ui.wait_until(pilot, lambda: grid(app).card_size == "large")
        await pilot.pause()
        large = (capacity(app), thumb_width(app))
        assert small[0] > medium[0] > large[0]  # more cards, smaller ones
        assert small[1] < medium[1] < large[1]  # bigger thumbnails
        said = ui.notices(app)
        await pilot.press("plus")  # no size above large: said, nothing changes
        await ui.wait_until(pilot, lambda: said)
        assert grid(app).card_size == "large" and "already large" in said[0]
        settings_file = Path(os.environ["MYIMAGES_CONFIG"])
        await ui.wait_until(pilot, lambda: settings_file.exists()
                            and 'card_size = "large"' in settings_file.read_text(encoding="utf-8"))
    again = make_app(small_library, tmp_path)
    async with again.run_test(size=size) as pilot:
        await ui.settle(pilot, again)
        assert grid(again).card_size == "large" and (capacity(again), thumb_width(again)) == large


@pytest.mark.parametrize("size", SIZES)
async def test_selecting_a_card_does_not_move_the_cards(small_library, tmp_path, size):
    app = make_app(small_library, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        before = [card.region for card in app.screen.query(ImageCard)]
        await pilot.press("space")
        bar = app.screen.query_one("#bulk-bar")
        await ui.wait_until(pilot, lambda: bar.display and bar.region.height == 1)
        await pilot.pause()
        assert [card.region for card in app.screen.query(ImageCard)] == before
        line = next(line for line in ui.screen_lines(app) if "1 selected" in line)
        assert "Delete Selected" in line
        await pilot.press("escape")
        await ui.wait_until(pilot, lambda: not bar.display)
        assert [card.region for card in app.screen.query(ImageCard)] == before


@pytest.mark.parametrize("size", SIZES)
async def test_a_card_draws_its_border_and_padding_as_textual_does(small_library, tmp_path, size):
    """A card frames its own lines (issue 11: Textual's line-by-line framing was half of a screen of new cards'
    drawing time): the cells must be Textual's, whatever the card's state, size and theme."""
    from textual.geometry import Region
    from textual.widget import Widget

    app = make_app(small_library, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        cards = [card for card in app.screen.query(ImageCard) if card.record is not None]

        def check(what: str) -> None:
            for card in cards:
                width, height = card.outer_size
                for crop in (Region(0, 0, width, height), Region(2, 1, width - 3, height - 2)):
                    card.refresh()  # Textual's own drawing, fresh
                    theirs = [list(strip) for strip in Widget.render_lines(card, crop)]
                    mine = [list(strip) for strip in card.render_lines(crop)]
                    assert mine == theirs, f"{what}: card {card.slot} at {crop}"

        check("plain and current")
        await pilot.press("space")  # selected (double border) and current
        await ui.wait_until(pilot, lambda: cards[0].selected)
        await pilot.press("right")
        await ui.settle(pilot, app)
        check("selected")
        await pilot.press("minus")  # small cards: no padding beside the picture
        await ui.wait_until(pilot, lambda: grid(app).card_size == "small")
        await ui.settle(pilot, app)
        cards = [card for card in app.screen.query(ImageCard) if card.record is not None]
        check("small")
        app.theme = "textual-light"
        await ui.settle(pilot, app)
        check("light theme")


async def test_an_empty_card_draws_as_the_grid_under_it_and_answers_no_pointer(small_library, tmp_path):
    """A card bound to no image (the result's last row) stays in the layout and draws what is under it, so
    filling or emptying it never asks Textual for a new layout of the whole screen (issue 11); the pointer on
    it shows no button and no tooltip."""
    app = make_app(small_library, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await ui.settle(pilot, app)
        cards = list(app.screen.query(ImageCard))
        empty = [card for card in cards if card.record is None]
        assert len(cards) > 3 and len(empty) == len(cards) - 3
        lines = ui.screen_lines(app)
        for card in empty:
            box = card.region
            assert all(not lines[y][box.x:box.right].strip() for y in range(box.y, box.bottom)), card.slot
            assert card.visible  # drawn blank, not hidden (hiding it is a layout of the whole screen)
        card = empty[0]
        await pilot.hover(card, offset=card.action_offset("favorite"))
        await pilot.pause()
        assert card.tooltip is None and card.shown_actions  # the buttons exist, laid out, but none answers


@pytest.mark.parametrize("size", SIZES)
async def test_small_cards_show_the_day_and_month_where_the_full_date_does_not_fit(small_library, tmp_path, size):
    """NEWUSER5 §11: small cards at 80×24 cut the date to "2026-11-…" (the day gone); they show "26 Nov"."""
    app = make_app(small_library, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        card = app.screen.query_one("#card-0", ImageCard)
        when = card.record.generated_at
        iso, short = when.strftime("%Y-%m-%d"), f"{when.day} {MONTHS[when.month - 1]}"

        def header() -> str:
            box = card.region
            return ui.screen_lines(app)[box.y + 1][box.x:box.right]

        assert iso in header()  # medium cards: the whole date
        await pilot.press("minus")
        await ui.wait_until(pilot, lambda: grid(app).card_size == "small")
        await ui.settle(pilot, app)
        line = header()
        assert "…" not in line
        assert (iso in line) if card.content_size.width > len(iso) + 1 else line.rstrip(" │").endswith(f" {short}")
        if size == (80, 24):
            assert short in line


async def test_a_card_size_switch_mounts_no_widget_and_restyles_no_card(small_library, tmp_path, monkeypatch):
    """Small cards at 160×48 are 40, medium ones 10: the cards another size shows stay mounted, hidden, so that
    a switch mounts none (issue 11: mounting 30 cards, their styles and component classes, was half of the 53-87
    ms the UI thread stalled for), and narrow cards lose their padding by their own style, set where it changes,
    not by a class on the grid that restyled every card (the other third)."""
    app = make_app(small_library, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await ui.settle(pilot, app)
        g = grid(app)
        g.focus()
        await ui.wait_until(pilot, lambda: len(app.screen.query(ImageCard)) == 40)  # the spares, after a paint
        await ui.settle(pilot, app)
        widgets = set(app.screen.query("*"))
        restyled: list = []
        update_nodes = app.stylesheet.update_nodes

        def restyle(nodes, animate=False):
            nodes = list(nodes)
            restyled.extend(nodes)
            return update_nodes(nodes, animate=animate)

        monkeypatch.setattr(app.stylesheet, "update_nodes", restyle)
        for key, size, shown in (("minus", "small", 40), ("plus", "medium", 10), ("minus", "small", 40)):
            await pilot.press(key)
            await ui.wait_until(pilot, lambda size=size: g.card_size == size)
            await ui.settle(pilot, app)
            assert set(app.screen.query("*")) == widgets, size  # nothing mounted, nothing removed
            cards = [card for card in app.screen.query(ImageCard) if card.display]
            assert len(cards) == capacity(app) == shown and all(card.region for card in cards), size
            assert all(card.record is None for card in app.screen.query(ImageCard) if not card.display)
            assert (size == "small") == all(card.styles.padding.left == 0 for card in cards)
        assert not [node for node in restyled if isinstance(node, ImageCard)]


@pytest.mark.parametrize("size", SIZES)
async def test_cards_of_a_new_size_are_laid_out_with_their_thumbnails_drawn(small_library, tmp_path, monkeypatch,
                                                                           size):
    """The first switch to small cards painted them without their pictures, then again as each came (three frames,
    110-180 ms from the key to every picture at 1,000,000 images, against 26-35 ms once they were drawn). Now the
    thumbnails a new size shows are drawn in a worker first: when the cards are laid out at a size, every card's
    thumbnail at that size is ready, and the box it was drawn for is the card's. Fails without (laid out first,
    drawn after)."""
    from widgets import card_grid
    from widgets.thumbnails import fit_cells, grid_picture

    monkeypatch.setattr(card_grid, "THUMBNAILS_TOLD_AFTER", 10.0)  # (every one, however loaded the machine)
    laid_out: list[tuple[str, bool]] = []
    real = CardGrid._layout_cards

    def layout(self) -> None:
        real(self)
        box = self.thumb_box_at(self.card_size)
        records = [card.record for card in self._cards if card.record is not None]
        laid_out.append((self.card_size, bool(records) and all(
            self.strips.drawn((grid_picture(r), *fit_cells(*box, r.width, r.height))) for r in records)))

    monkeypatch.setattr(CardGrid, "_layout_cards", layout)
    app = make_app(small_library, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        g = grid(app)
        g.focus()
        laid_out.clear()
        for key, name in (("minus", "small"), ("plus", "medium"), ("plus", "large"), ("minus", "medium")):
            await pilot.press(key)
            await ui.wait_until(pilot, lambda name=name: g.card_size == name)
            await ui.settle(pilot, app)
            cards = [card for card in app.screen.query(ImageCard) if card.display and card.record is not None]
            assert cards and all(card.thumb_box == g.thumb_box_at(name) for card in cards), (name, size)
        assert laid_out == [("small", True), ("medium", True), ("large", True), ("medium", True)], laid_out
