"""Real files of every generator read right; formats without a real sample checked on built inputs.

The real files and what they must read as: tests/fixtures/generators/SOURCES.md and
tests/generator_expectations.py (the prompt and model their source projects' own tests assert).
"""
from __future__ import annotations

import gzip
import io
import json
from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from store.importer import prepare_bytes
from store.metadata import iso_date, parse_chunks, read_stealth

from .generator_expectations import ALL_FILES, GENERATORS, judge


def read(path):
    _new, meta, chunks = prepare_bytes(path.read_bytes(), path.name)
    return meta, chunks


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_real_file_reads_the_prompt_and_model_its_source_asserts(path):
    meta, _chunks = read(path)
    prompt_right, model_right = judge(path, meta.prompt, meta.model)
    assert prompt_right, meta.prompt[:200]
    assert model_right, meta.model
    assert meta.prompt == meta.prompt.strip() and not meta.prompt.startswith('["')


@pytest.mark.parametrize("name, source", [
    ("civitai.jpeg", "civitai"), ("civitai-hires.jpg", "comfyui"), ("comfyui-saveimage-plus.jpg", "comfyui"),
    ("comfyui-save-image-extended.webp", "comfyui"), ("novelai-curated.webp", "novelai"),
    ("ruined-fooocus.png", "ruinedfooocus"), ("huggingface-space.png", "json"), ("tensorart.png", "tensorart"),
    ("stability-matrix.png", "stabilitymatrix"), ("swarmui.jpg", "swarmui"), ("automatic1111_stealth.png", "a1111"),
    ("invokeai_sdmeta1.png", "invokeai"),
])
def test_each_format_is_recognised_as_itself(name, source):
    assert read(GENERATORS / name)[0].source == source


def test_negative_prompts_come_from_the_negative_side():
    assert read(GENERATORS / "civitai-hires.jpg")[0].negative_prompt == "bad quality, worst quality, worst detail, sketch, censor,"
    assert read(GENERATORS / "krea2.png")[0].negative_prompt == ""  # ConditioningZeroOut: no negative text
    assert read(GENERATORS / "sdxl_refiner_prompt_example.png")[0].negative_prompt == "text, watermark"
    assert read(GENERATORS / "invokeai_sdmeta1.png")[0].negative_prompt == "rendering, glowing eyes, skinny"


def test_texts_stored_in_tEXt_as_utf8_are_decoded_right():
    meta, chunks = read(GENERATORS / "tensorart.png")
    assert "#テスト" in json.loads(chunks["generation_data"])["prompt"]
    assert meta.prompt.endswith("#テスト")


def test_generation_dates_from_the_file():
    assert read(GENERATORS / "civitai.jpeg")[0].generated_at == "2026-01-04T01:27:21.271707+00:00"
    assert read(GENERATORS / "swarmui.jpg")[0].generated_at == "2026-01-03"
    assert read(GENERATORS / "sdxl_refiner_prompt_example.png")[0].generated_at == ""


def test_novelai_stealth_data_when_the_text_chunks_are_gone():
    """NovelAI hides its metadata in the alpha channel too: a copy with the text chunks stripped still reads."""
    with Image.open(GENERATORS / "novelai-curated.png") as image:
        image.load()
        stripped = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    stripped.save(out, "PNG")
    meta, chunks = read_bytes(out.getvalue())
    assert chunks.get("stealth") == "alpha"
    assert meta.source == "novelai" and meta.prompt.startswith("1girl, solo, hatsune miku, #テスト")
    assert meta.model == "NovelAI Diffusion V4.5 C02D4F98"


def read_bytes(data):
    _new, meta, chunks = prepare_bytes(data, "x.png")
    return meta, chunks


def stealth_png(payload: bytes, signature: bytes = b"stealth_pngcomp", size=(40, 40), length: int | None = None):
    bits = np.unpackbits(np.frombuffer(signature + (length if length is not None else len(payload) * 8)
                                       .to_bytes(4, "big") + payload, dtype=np.uint8))
    alpha = np.full(size[0] * size[1], 255, dtype=np.uint8)
    alpha[: len(bits)] = 254 | bits
    rgba = np.zeros((size[1], size[0], 4), dtype=np.uint8)
    rgba[..., 3] = alpha.reshape(size[0], size[1]).T  # bits run down the columns
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    return out.getvalue()


def test_stealth_pnginfo_uncompressed_and_hostile_lengths():
    text = b"a fox\nNegative prompt: fog\nSteps: 5, Sampler: Euler, CFG scale: 4, Model: m1"
    meta, _ = read_bytes(stealth_png(text, b"stealth_pnginfo"))
    assert (meta.prompt, meta.model, meta.text_accuracy) == ("a fox", "m1", "4")
    meta, _ = read_bytes(stealth_png(gzip.compress(text)))
    assert meta.prompt == "a fox"
    for length in (0, 2**32 - 1, 10**6):  # lengths past the image: nothing, no error
        assert read_bytes(stealth_png(text, b"stealth_pnginfo", length=length))[0].prompt == ""
    assert read_bytes(stealth_png(b"not gzip at all"))[0].prompt == ""
    with Image.open(io.BytesIO(stealth_png(b"", b"stealth_nothing"))) as image:
        assert read_stealth(image.convert("RGBA")) == ""


# --- formats without a real sample in the public repositories we searched: built inputs -----------

def test_draw_things_xmp_user_comment_and_description():
    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmp:CreatorTool="Draw Things" '
           'exif:UserComment="{&quot;c&quot;:&quot;a red fox&quot;,&quot;uc&quot;:&quot;blur&quot;,'
           '&quot;model&quot;:&quot;flux_1_schnell_q5p.ckpt&quot;,&quot;scale&quot;:3.5}">'
           '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">a red fox\nNegative prompt: blur\nSteps: 4, '
           'Sampler: Euler A, Guidance Scale: 3.5, Model: flux_1_schnell_q5p.ckpt</rdf:li></rdf:Alt></dc:description>'
           '</rdf:Description></rdf:RDF></x:xmpmeta>')
    image = Image.new("RGB", (8, 8))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=_itxt("XML:com.adobe.xmp", xmp))
    meta, _ = read_bytes(out.getvalue())
    assert (meta.prompt, meta.negative_prompt, meta.model, meta.text_accuracy, meta.source) == (
        "a red fox", "blur", "flux_1_schnell_q5p.ckpt", "3.5", "drawthings")


def _itxt(key, value):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt(key, value)
    return info


def test_midjourney_and_general_xmp_description():
    xmp = ('<x:xmpmeta><rdf:RDF><rdf:Description><dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
           'a lighthouse at dusk --ar 16:9 --v 6.1 Job ID: 0c3a2f1e-1b2c-4d5e-8f90-123456789abc</rdf:li></rdf:Alt>'
           '</dc:description><xmp:CreateDate>2025-03-04T05:06:07Z</xmp:CreateDate></rdf:Description></rdf:RDF>'
           '</x:xmpmeta>')
    image = Image.new("RGB", (8, 8))
    out = io.BytesIO()
    image.save(out, "JPEG", xmp=xmp.encode())
    meta, _ = read_bytes(out.getvalue())
    assert (meta.prompt, meta.model, meta.generated_at) == (
        "a lighthouse at dusk --ar 16:9 --v 6.1", "Midjourney v6.1", "2025-03-04T05:06:07+00:00")
    plain = parse_chunks({"xmp:description": "a watercolour cat"})
    assert (plain.prompt, plain.model, plain.source) == ("a watercolour cat", "", "xmp")


def test_no_metadata_no_made_up_prompt():
    """A C2PA-only file (ChatGPT, Gemini), a camera's comment: nothing to read, nothing invented."""
    assert parse_chunks({"Comment": "GIMPで再保存しただけ"}).prompt == ""
    assert parse_chunks({"exif:Software": "Adobe Photoshop", "exif:DateTime": "2024:01:02 03:04:05"}).prompt == ""


def test_a_cameras_image_description_is_no_prompt():
    image = Image.new("RGB", (8, 8))
    exif = Image.Exif()
    exif[0x010E] = "OLYMPUS DIGITAL CAMERA"
    exif[0x010F] = "OLYMPUS"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    assert read_bytes(out.getvalue())[0].prompt == ""


def test_exif_date_time_original():
    image = Image.new("RGB", (8, 8))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2024:08:07 12:30:00"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    assert read_bytes(out.getvalue())[0].generated_at == "2024-08-07T12:30:00"


def test_comfyui_envelope_in_exif_make_with_capital_and_space():
    graph = {"5": {"class_type": "KSampler", "inputs": {"positive": ["2", 0], "model": ["1", 0], "cfg": 7}},
             "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
             "2": {"class_type": "CLIPTextEncode", "inputs": {"text": ["3", 0]}},
             "3": {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "  a webp fox  "}}}
    image = Image.new("RGB", (8, 8))
    exif = Image.Exif()
    exif[0x010F] = "Prompt: " + json.dumps(graph)
    out = io.BytesIO()
    image.save(out, "WEBP", exif=exif)
    meta, _ = read_bytes(out.getvalue())
    assert (meta.prompt, meta.model, meta.text_accuracy) == ("a webp fox", "m.safetensors", "7")


def test_comfyui_text_through_concat_and_switch_never_a_link():
    graph = {
        "9": {"class_type": "KSampler", "inputs": {"positive": ["30:6", 0]}},
        "30:6": {"class_type": "CLIPTextEncode", "inputs": {"text": ["30:7", 0]}},
        "30:7": {"class_type": "Text Switch", "inputs": {"select": 2, "input1": "one", "input2": ["30:8", 0]}},
        "30:8": {"class_type": "Text Concatenate", "inputs": {"text_a": "a cat", "text_b": ["30:9", 0],
                                                             "delimiter": ", ", "clean_whitespace": "true"}},
        "30:9": {"class_type": "PrimitiveString", "inputs": {"value": "in a hat"}},
    }
    assert parse_chunks({"prompt": json.dumps(graph)}).prompt == "a cat, in a hat"
    graph["30:9"] = {"class_type": "Unknown", "inputs": {}}
    graph["30:7"]["inputs"]["input2"] = ["30:9", 0]
    assert parse_chunks({"prompt": json.dumps(graph)}).prompt == "one"  # the other branch, never '["30:9", 0]'
    graph["30:7"] = {"class_type": "Unknown", "inputs": {"x": ["30:9", 0]}}
    assert parse_chunks({"prompt": json.dumps(graph)}).prompt == ""


def test_invokeai_1_blend_is_shown_as_typed():
    chunks = {"sd-metadata": json.dumps({"model_id": "stable-diffusion-1.4", "app_version": "v1.15",
                                         "image": {"prompt": [{"prompt": "a cat", "weight": 0.5},
                                                              {"prompt": "a dog", "weight": 0.5}], "cfg_scale": 7.5}}),
              "Dream": '"a cat:0.5 a dog:0.5" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms'}
    meta = parse_chunks(chunks)
    assert (meta.prompt, meta.model, meta.text_accuracy) == ("a cat:0.5 a dog:0.5", "stable-diffusion-1.4", "7.5")


def test_easy_diffusion_display_keys_and_json():
    meta = parse_chunks({"Prompt": "a castle", "Negative Prompt": "fog", "Stable Diffusion model": "sd-v1-4",
                         "Guidance Scale": "7.5", "Steps": "25"})
    assert (meta.prompt, meta.negative_prompt, meta.model, meta.text_accuracy) == ("a castle", "fog", "sd-v1-4", "7.5")
    meta = parse_chunks({"parameters": json.dumps({"prompt": "a castle", "use_stable_diffusion_model": "sd-v1-4",
                                                   "guidance_scale": 7.5})})
    assert (meta.prompt, meta.model, meta.text_accuracy) == ("a castle", "sd-v1-4", "7.5")


@pytest.mark.parametrize("text, iso", [
    ("2026-01-04T01:27:21.2717070Z", "2026-01-04T01:27:21.271707+00:00"), ("2024:08:07 12:30:00", "2024-08-07T12:30:00"),
    ("2024-08-07", "2024-08-07"), ("2024-13-45", ""), ("yesterday", ""), ("9" * 10_000, ""),
])
def test_iso_date(text, iso):
    assert iso_date(text) == iso
    if iso:
        datetime.fromisoformat(iso)


def test_hostile_xmp_and_user_comments_stay_total():
    for xmp in ("<dc:description>" * 50_000, 'dc:description="' + "x" * 100_000, "<rdf:li>" * 10_000):
        image = Image.new("RGB", (4, 4))
        out = io.BytesIO()
        image.save(out, "PNG", pnginfo=_itxt("XML:com.adobe.xmp", xmp))
        assert isinstance(read_bytes(out.getvalue())[0].prompt, str)
    for comment in (b"UNICODE\x00" + b"\x00" * 1001, b"ASCII\x00\x00\x00{", b"\xff" * 100):
        image = Image.new("RGB", (4, 4))
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9286] = comment
        out = io.BytesIO()
        image.save(out, "JPEG", exif=exif)
        assert isinstance(read_bytes(out.getvalue())[0].prompt, str)
