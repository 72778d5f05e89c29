"""What each real generator file must read as: the prompt and model its source project asserts.

Used by tests/test_generators.py and by tests/compare_readers.py (our parsers against sd-parsers).
Files and their sources: tests/fixtures/generators/SOURCES.md and ../shared/fixtures/real-metadata/README.md.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
GENERATORS = HERE / "fixtures" / "generators"
SHARED = HERE.parent.parent / "shared" / "fixtures" / "real-metadata"

P1 = "general, masterpiece, best quality, amazing quality, \n1girl, solo, hatsune miku, #テスト"
P2 = "general, masterpiece, best quality, amazing quality, \n1girl, solo, hatsune miku, テスト"
P3 = "general, masterpiece, best quality, amazing quality, \n1girl, solo, hatsune miku,"
WAI = "waiIllustriousSDXL_v160"
NAI = "1girl, solo, hatsune miku, #テスト, very aesthetic, masterpiece, no text, -0.8::feet::, rating:general"
DREAM = ("professional full body photo of young woman, hyper long brunette hair, elegant hair, wearing a bikini top "
         "and asymmetric short skirt, curvy body, long legs, (imperfect skin), detailed skin, intense freckles, super "
         "long eye lashes, at night, outside, city background, 8k ultra detailed, realistic, high quality, film grain, "
         "low contrast")
ANIMA = ("general, masterpiece, best quality, amazing quality, \n1girl, solo, hatsune miku, holding sign, cowboy shot, "
         "looking at viewer, smile.\nA Beautiful and high quality anime illustrations.\nShe's holding a rectangular "
         "sign out in front of her that reads \"初音ミク\".")

# file -> (prompt, model); prompts compared with surrounding whitespace trimmed.
EXACT: dict[Path, tuple[str, str]] = {
    GENERATORS / "civitai.jpeg": (P1, "WAI-illustrious-SDXL v16.0"),
    GENERATORS / "civitai-hires.jpg": (P1, "urn:air:sdxl:checkpoint:civitai:827184@2514310"),
    GENERATORS / "civitai-upscale.jpg": (P1, "Illustrious"),
    GENERATORS / "comfyui-save-image-extended.jpeg": (P3, WAI + ".safetensors"),
    GENERATORS / "comfyui-save-image-extended.webp": (P3, WAI + ".safetensors"),
    GENERATORS / "comfyui-saveimage-plus.jpg": (P3, WAI + ".safetensors"),
    GENERATORS / "comfyui-comfy-image-saver.jpeg": ("unknown", "JANKUV5NSFWTrainedNoobai_v50"),
    GENERATORS / "forge-classic.jpeg": (P2, WAI),
    GENERATORS / "sd-webui.jpg": (P2, WAI),
    GENERATORS / "sd-next.jpg": (P1, WAI),
    GENERATORS / "swarmui.jpg": (P1, WAI),
    GENERATORS / "sd-webui.webp": (P2, WAI),
    GENERATORS / "forge-neo.webp": (P3, WAI),
    GENERATORS / "novelai-curated.webp": (NAI, "NovelAI Diffusion V4.5 C02D4F98"),
    GENERATORS / "novelai-curated.png": (NAI, "NovelAI Diffusion V4.5 C02D4F98"),
    GENERATORS / "ruined-fooocus.png": (P1, "waiNSFWIllustrious_v150.safetensors"),
    GENERATORS / "huggingface-space.png": (P2, "WAI NSFW illustrious SDXL v16"),
    GENERATORS / "tensorart.png": (P1, "WAI-Nsfw-Illustrious-16"),
    GENERATORS / "stability-matrix.png": (
        "general, masterpiece, best quality, amazing quality, \r\n1girl, solo, hatsune miku, #テスト",
        WAI + ".safetensors"),
    GENERATORS / "krea2.png": ("初音ミクのポートレート。美麗な2Dアニメイラスト。白背景。", "krea2_turbo_int8_convrot.safetensors"),
    GENERATORS / "comfyui-anima.png": (ANIMA, "anima-preview.safetensors"),
    GENERATORS / "automatic1111_stealth.png": ("a circle", "realisticVisionV51_v51VAE"),
    GENERATORS / "img2img_cropped.png": ("photograph of victorian woman with wings, sky clouds, meadow grass",
                                         "v1-5-pruned-emaonly.ckpt"),
    GENERATORS / "invokeai_sdmeta1.png": (DREAM, "deliberateForInvoke_v08"),
    GENERATORS / "sdxl_refiner_prompt_example.png": ("daytime sky nature dark blue galaxy bottle",
                                                     "sd_xl_base_1.0.safetensors"),
    SHARED / "a1111.png": ("photo of a duck", "realistic_realisticVisionV20_v20"),
    SHARED / "a1111-usercomment.jpg": ("photo of a duck", "realistic_realisticVisionV20_v20"),
    SHARED / "invokeai-v3.png": ("digital artwork, oil painting. painterly brushstrokes, holidays,", "juggernautXL"),
    SHARED / "invokeai-dream.png": (DREAM, ""),
    SHARED / "novelai.png": ("masterpiece, best quality,  cat, space, icon", "Stable Diffusion 1D44365E"),
    SHARED / "fooocus.png": ("a smiling goldfish", "juggernautXL_v8Rundiffusion"),
}

# Graphs with several samplers and no exact expectation in their source: the prompt holds a positive text of the
# saved chain (never a negative text, never empty, never a link) and the model is one of the file's checkpoints.
NEGATIVE_START = "(hands), text, error"
CHAINS: dict[Path, tuple[tuple[str, ...], tuple[str, ...]]] = {
    SHARED / "comfyui-multi-sampler.png": (
        ("(masterpiece) (best quality) beautiful landscape", "(best quality) beautiful (HDR:1.2)"),
        ("Anything-V3.0.ckpt", "AbyssOrangeMix2_hard.safetensors")),
    GENERATORS / "noisy_latents_3_subjects_cropped.png": (
        ("(solo) girl", "girl (flat chest", "sky clouds nature", "best quality, intricate details"),
        ("Anything-V3.0.ckpt",)),
    GENERATORS / "unclip_2pass_cropped.png": (
        ("(waifu, anime, exceptional", "beautiful scenery landscape outdoors mountains"),
        ("wd-1-5-beta2-aesthetic-unclip-h-fp32.safetensors", "cardosAnimated_v20.safetensors")),
}


def judge(path: Path, prompt: str, model: str) -> tuple[bool, bool]:
    """(prompt right, model right) for one file's reading."""
    prompt = prompt.strip()
    if path in EXACT:
        want_prompt, want_model = EXACT[path]
        return prompt == want_prompt.strip(), model == want_model
    starts, models = CHAINS[path]
    return (any(text in prompt for text in starts) and NEGATIVE_START not in prompt and not prompt.startswith("["),
            model in models)


ALL_FILES = sorted(list(EXACT) + list(CHAINS))
