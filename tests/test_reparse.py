"""Where the generation date came from, and `myimages reparse`: old imports read again with today's parsers."""
from __future__ import annotations

import json
from datetime import datetime

from store.importer import ImportOptions, import_files
from store.models import Image as ImageRow
from tui.cli import main

from .generator_expectations import GENERATORS


def test_import_records_where_the_date_came_from(library, tmp_path):
    for name in ("civitai.jpeg", "sdxl_refiner_prompt_example.png"):
        (tmp_path / name).write_bytes((GENERATORS / name).read_bytes())
    report = import_files(library, [tmp_path / "civitai.jpeg", tmp_path / "sdxl_refiner_prompt_example.png"])
    civitai, comfy = (library.get(i) for _p, i in report.imported)
    assert civitai.params["_date_from"] == "file" and "(from the file)" in dict(civitai.info_rows())["Generated"]
    assert comfy.params["_date_from"] == "modified"
    assert "modified time" in dict(comfy.info_rows())["Generated"]
    given = import_files(library, [GENERATORS / "krea2.png"], ImportOptions(prompt="mine", generated_at=datetime(2020, 1, 1)))
    record = library.get(given.imported[0][1])
    assert record.params["_date_from"] == "given" and record.params["_given"] == ["prompt"]


def test_reparse_updates_what_old_parsers_read_and_nothing_set_by_hand(library, capsys):
    report = import_files(library, [GENERATORS / "krea2.png", GENERATORS / "tensorart.png", GENERATORS / "civitai.jpeg"],
                          ImportOptions(collection="Keep"))
    krea, tensor, civitai = (i for _p, i in report.imported)
    library.set_favorite([krea])
    # what the parsers before this change stored
    ImageRow.update(prompt='["30:28", 0]', model="old").where(ImageRow.id == krea).execute()
    ImageRow.update(model="EMS-1401459-EMS.safetensors", params="{}").where(ImageRow.id == tensor).execute()
    ImageRow.update(prompt="typed by hand",
                    params=json.dumps({"_given": ["prompt"], "_date_from": "given"})).where(ImageRow.id == civitai).execute()
    before = library.get(civitai).generated_at
    from store.reparse import reparse

    seen = []
    result = reparse(library, None, progress=lambda done, total: seen.append((done, total)))
    assert sorted(result.updated) == sorted([krea, tensor, civitai]) and not result.failed
    assert seen[-1] == (3, 3)
    k, t, c = library.get(krea), library.get(tensor), library.get(civitai)
    assert k.prompt.startswith("初音ミク") and k.model == "krea2_turbo_int8_convrot.safetensors"
    assert k.favorite and k.collections == ["Keep"]
    assert t.model == "WAI-Nsfw-Illustrious-16" and t.params["_format"] == "tensorart"
    assert c.prompt == "typed by hand" and c.model == "WAI-illustrious-SDXL v16.0" and c.generated_at == before
    assert reparse(library, [krea]).unchanged == 1  # a second pass changes nothing


def test_reparse_reads_a_linked_image_where_its_file_is(library, tmp_path):
    """An image linked from a source folder has no copy in the library: reparse failed on every one ("its stored
    file is missing") while its file was there. It reads the file in the source folder."""
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "krea.png").write_bytes((GENERATORS / "krea2.png").read_bytes())
    library.add_source(folder)
    (image,) = library.page()
    ImageRow.update(prompt='["30:28", 0]', model="old").where(ImageRow.id == image.id).execute()
    from store.reparse import reparse

    result = reparse(library, [image.id])
    assert result.updated == [image.id] and not result.failed
    assert library.get(image.id).model == "krea2_turbo_int8_convrot.safetensors"
    (folder / "krea.png").unlink()
    (failed,) = reparse(library, [image.id]).failed
    assert "is not there" in failed[1]


def test_reparse_command(tmp_path, capsys):
    folder = tmp_path / "lib"
    assert main(["import", "--library", str(folder), str(GENERATORS / "img2img_cropped.png")]) == 0
    assert main(["reparse", "--library", str(folder), "--all"]) == 0
    assert "0 updated, 1 unchanged, 0 failed" in capsys.readouterr().out
    assert main(["reparse", "--library", str(folder), "1"]) == 0
    assert main(["reparse", "--library", str(folder)]) != 0
    assert "Give image ids or --all" in capsys.readouterr().err
