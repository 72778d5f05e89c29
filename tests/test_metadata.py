"""Reading prompts and settings out of generators' files."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from store.metadata import parse_chunks, read_chunks
from store.importer import prepare_bytes

from .conftest import REAL_METADATA, png_bytes

GENERATORS = Path(__file__).parent / "fixtures" / "generators"


def meta_of(data: bytes):
    new, meta, chunks = prepare_bytes(data, "x.png")
    return meta


@pytest.mark.parametrize(
    "name, prompt_start, model, negative",
    [
        ("a1111.png", "photo of a duck", "realistic_realisticVisionV20_v20", "monochrome"),
        ("a1111-usercomment.jpg", "photo of a duck", "realistic_realisticVisionV20_v20", "monochrome"),
        ("invokeai-v3.png", "digital artwork, oil painting. painterly brushstrokes, holidays,", "juggernautXL", None),
        ("invokeai-dream.png", "professional full body photo of young woman", "", "rendering, glowing eyes, skinny"),
        ("novelai.png", "masterpiece, best quality,  cat, space, icon", "Stable Diffusion 1D44365E", None),
        ("fooocus.png", "a smiling goldfish", "juggernautXL_v8Rundiffusion", None),
        ("edge/text-after-idat.png", "photo of a duck", "realistic_realisticVisionV20_v20", "monochrome"),
    ],
)
def test_real_generator_files(name, prompt_start, model, negative):
    meta = meta_of((REAL_METADATA / name).read_bytes())
    assert meta.prompt.startswith(prompt_start)
    assert meta.model == model
    if negative is not None:
        assert meta.negative_prompt == negative


def test_real_comfyui_file_finds_a_positive_prompt_never_a_negative():
    meta = meta_of((REAL_METADATA / "comfyui-multi-sampler.png").read_bytes())
    assert meta.source == "comfyui"
    assert "beautiful" in meta.prompt and "landscape" in meta.prompt
    assert "(hands), text, error" not in meta.prompt
    assert meta.model in ("Anything-V3.0.ckpt", "AbyssOrangeMix2_hard.safetensors")


def test_a1111_parameters_with_quoted_values_and_multiline_prompt():
    text = ('a castle\non a hill\nNegative prompt: fog,\nrain\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, '
            'Seed: 1, Lora hashes: "a: 1, b: 2", Model: my-model')
    meta = parse_chunks({"parameters": text})
    assert meta.prompt == "a castle\non a hill"
    assert meta.negative_prompt == "fog,\nrain"
    assert meta.model == "my-model"
    assert meta.text_accuracy == "7.5"
    assert meta.params["Lora hashes"] == "a: 1, b: 2"


def test_a1111_without_parameter_line_is_all_prompt():
    meta = parse_chunks({"parameters": "just a prompt: with a colon"})
    assert meta.prompt == "just a prompt: with a colon"
    assert meta.params == {}


def test_comfyui_graph_built_in_test():
    graph = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red fox", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "ugly, blurry, long negative text", "clip": ["1", 1]}},
        "4": {"class_type": "FluxGuidance", "inputs": {"conditioning": ["2", 0], "guidance": 3.5}},
        "5": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["4", 0], "negative": ["3", 0],
                                                   "cfg": 6.0, "seed": 5}},
    }
    meta = parse_chunks({"prompt": json.dumps(graph)})
    assert meta.prompt == "a red fox"
    assert meta.negative_prompt == "ugly, blurry, long negative text"
    assert meta.model == "sdxl.safetensors"
    assert meta.text_accuracy == "6"


def test_comfyui_webp_exif():
    graph = {"5": {"class_type": "KSampler", "inputs": {"positive": ["2", 0], "cfg": 7}},
             "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "webp fox"}}}
    image = Image.new("RGB", (8, 8), "blue")
    exif = Image.Exif()
    exif[0x0110] = "prompt:" + json.dumps(graph)
    out = io.BytesIO()
    image.save(out, "WEBP", exif=exif)
    assert meta_of(out.getvalue()).prompt == "webp fox"


def test_invokeai_v2_sd_metadata():
    data = {"model_weights": "sd-1.5", "image": {"prompt": [{"prompt": "a cat [dog]", "weight": 1}], "cfg_scale": 7}}
    meta = parse_chunks({"sd-metadata": json.dumps(data)})
    assert meta.prompt == "a cat"
    assert meta.negative_prompt == "dog"
    assert meta.model == "sd-1.5"


def test_swarmui_and_easy_diffusion():
    swarm = {"sui_image_params": {"prompt": "swarm prompt", "negativeprompt": "bad", "model": "flux", "cfgscale": 4}}
    meta = parse_chunks({"parameters": json.dumps(swarm)})
    assert (meta.prompt, meta.model, meta.source) == ("swarm prompt", "flux", "swarmui")
    meta = parse_chunks({"prompt": "easy prompt", "negative_prompt": "n", "use_stable_diffusion_model": "m",
                         "guidance_scale": "7.5"})
    assert (meta.prompt, meta.model, meta.text_accuracy, meta.source) == ("easy prompt", "m", "7.5", "easydiffusion")


def test_novelai_built_in_test():
    meta = parse_chunks({"Software": "NovelAI", "Description": "nai prompt", "Source": "NAI Diffusion",
                         "Comment": json.dumps({"uc": "lowres", "scale": 11})})
    assert (meta.prompt, meta.negative_prompt, meta.model, meta.text_accuracy) == (
        "nai prompt", "lowres", "NAI Diffusion", "11")


def test_no_metadata_gives_empty_prompt():
    meta = meta_of(png_bytes())
    assert meta.prompt == "" and meta.model == ""


@pytest.mark.parametrize("chunks", [
    {"prompt": "{" * 100_000},
    {"prompt": "[" * 50_000 + "]" * 50_000},
    {"invokeai_metadata": json.dumps({"positive_prompt": 42, "model": [1, 2]})},
    {"parameters": "x" * 1_000_000},
    {"Comment": "not json", "Software": "NovelAI"},
    {"prompt": json.dumps({"1": {"class_type": "KSampler", "inputs": {"positive": ["1", 0]}}})},
    {"sd-metadata": json.dumps({"image": "not a dict"})},
])
def test_bad_metadata_never_raises(chunks):
    meta = parse_chunks(chunks)
    assert isinstance(meta.prompt, str)


def test_read_chunks_png_text():
    with Image.open(io.BytesIO(png_bytes(text={"parameters": "hello"}))) as image:
        image.load()
        assert read_chunks(image)["parameters"] == "hello"


@pytest.mark.parametrize(
    "path, seed, steps, sampler",
    [
        # InvokeAI 2 wrote its settings as command-line letters (Dream: -S seed, -s steps, -A sampler) or under
        # "image" (sd-metadata); TensorArt names its sampler ksamplerName
        (REAL_METADATA / "invokeai-dream.png", 2980747362, 50, "k_lms"),
        (GENERATORS / "invokeai_sdmeta1.png", 2980747362, 50, "k_lms"),
        (GENERATORS / "tensorart.png", -1, 25, "euler_ancestral"),  # -1: TensorArt's "random"
        (REAL_METADATA / "invokeai-v3.png", 3293022630, 35, "euler"),
        (REAL_METADATA / "a1111.png", 235284042, 15, "UniPC"),
        (REAL_METADATA / "novelai.png", 2253955223, 50, "k_euler_ancestral"),
    ],
    ids=lambda v: v.name if hasattr(v, "name") else None,
)
def test_real_files_give_seed_steps_and_sampler_to_the_query_fields(path, seed, steps, sampler):
    from store.query import as_number, param

    meta = meta_of(path.read_bytes())
    assert as_number(param(meta.params, "seed")) == seed
    assert as_number(param(meta.params, "steps")) == steps
    assert param(meta.params, "sampler") == sampler
