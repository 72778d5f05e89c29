"""Reading the prompt and generation settings that generators store in files.

Each parser takes the text chunks of a file (a dict of str to str) and returns a
`Metadata`, or None when the file is not in its format. Parsers never raise on
bad input: every failure is "not this format". See
`../shared/reference/png-metadata.md` for where each generator puts what.

The detection order avoids mis-detection: this app's own key, ComfyUI (`prompt`
holding JSON), Fooocus, NovelAI, InvokeAI, SwarmUI, Easy Diffusion (`prompt`
holding plain text), Automatic1111 (`parameters` text).

"Text accuracy" is how closely the generator followed the prompt text; for
Stable Diffusion tools that is the guidance (CFG) scale, so that is what we read.
"""
from __future__ import annotations

import html
import json
import math
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterator, Protocol

import numpy as np
from PIL import Image, PngImagePlugin

OWN_KEY = "myimages"
MAX_CHUNK = 2_000_000  # characters; larger chunks are ignored, not parsed
MAX_GRAPH_NODES = 5_000


@dataclass
class Metadata:
    prompt: str = ""
    negative_prompt: str = ""
    model: str = ""
    text_accuracy: str = ""
    generated_at: str = ""  # ISO 8601 text as found, parsed by the importer
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # which format it came from: "a1111", "comfyui", ...
    note: str = ""  # what could not be read, in words ("prompt too large: not read (…)"), kept as params["_note"]


def _str(value: Any) -> str:
    """Any JSON value as text; non-strings where strings are expected are tolerated."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False)[:10_000]
    except (TypeError, ValueError, RecursionError):
        return ""


def _number(value: Any) -> str:
    """A guidance value as compact text: 7.0 -> "7", 8.5 -> "8.5"; nan or inf (a file's odd number) -> "", as
    not recorded."""
    if isinstance(value, bool) or value is None:
        return ""
    text = _str(value).strip()
    try:
        number = float(value if isinstance(value, (int, float)) else text)
    except (ValueError, OverflowError):
        return text[:40]
    return f"{number:g}" if math.isfinite(number) else ""


def _json(text: str) -> Any:
    if not text or len(text) > MAX_CHUNK:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _safe_params(data: Any) -> dict[str, Any]:
    """Keep a dict of parameters that can be stored as JSON again."""
    if not isinstance(data, dict):
        return {}
    try:
        text = json.dumps(data, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return {}
    if len(text) > 200_000:
        return {"note": "parameters too large to keep"}
    return json.loads(text)


# --- this app -----------------------------------------------------------------

def parse_own(chunks: dict[str, str]) -> Metadata | None:
    data = _json(chunks.get(OWN_KEY, ""))
    if not isinstance(data, dict):
        return None
    params = _safe_params(data.get("params"))
    # a file this app wrote (an export) is a copy: of the image with this content hash when it says ("?": an export
    # of an older version, which did not say); duplicates keep the original before it (NEWUSER7 #28)
    params["_export_of"] = _str(data.get("export_of")) or "?"
    return Metadata(
        prompt=_str(data.get("prompt")),
        negative_prompt=_str(data.get("negative_prompt")),
        model=_str(data.get("model")),
        text_accuracy=_str(data.get("text_accuracy")),
        generated_at=_str(data.get("generated_at")),
        params=params,
        source="myimages",
    )


# --- ComfyUI ------------------------------------------------------------------

_SAMPLER = re.compile(r"sampler", re.IGNORECASE)
_TEXT_KEYS = ("text", "text_g", "t5xxl", "clip_l", "text_l", "prompt")
# Inputs that never lead to prompt text: walking them would only find other branches' encoders.
_NOT_TEXT = frozenset(("clip", "model", "vae", "image", "images", "pixels", "mask", "control_net", "clip_vision",
                       "clip_vision_output", "style_model", "upscale_model", "samples", "latent", "latent_image"))
# Where a sampler's input image comes from, in the order to follow them back to the first pass.
_LATENT_KEYS = ("latent_image", "samples", "latent", "samples_to", "pixels", "image")
# Nodes whose text output is made at run time (an LLM) and so is not in the file.
_GENERATED_TEXT = re.compile(r"generate|llm|ollama|gpt|gemini|florence|caption|chat", re.IGNORECASE)
_LITERAL_KEYS = ("populated_text", "value", "text", "string", "String", "Text", "prompt", "positive",
                 "text_positive", "wildcard_text", "source", "input")
MAX_TEXT_DEPTH = 64


def _link(value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int)) \
            and not isinstance(value[0], bool) and isinstance(value[1], int):
        return str(value[0])
    return None


def _inputs(graph: dict, node_id: str | None) -> dict:
    node = graph.get(node_id) if node_id is not None else None
    if isinstance(node, dict) and isinstance(node.get("inputs"), dict):
        return node["inputs"]
    return {}


def _class(graph: dict, node_id: str | None) -> str:
    node = graph.get(node_id) if node_id is not None else None
    return _str(node.get("class_type")) if isinstance(node, dict) else ""


def _walk(graph: dict, stack: list[str]) -> Iterator[tuple[str, dict]]:
    """(id, inputs) of each node taken from `stack`, once each; callers push more ids onto it."""
    seen: set[str] = set()
    while stack and len(seen) < MAX_GRAPH_NODES:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        inputs = _inputs(graph, node_id)
        if inputs:
            yield node_id, inputs


def _value(graph: dict, value: Any, seen: set[str]) -> Any:
    """A literal input, or the literal a primitive node linked to it holds."""
    target = _link(value)
    if target is None:
        return value
    if target in seen or len(seen) > MAX_TEXT_DEPTH:
        return None
    seen.add(target)
    inputs = _inputs(graph, target)
    for key in ("value", "boolean", "int", "number"):
        if key in inputs:
            return _value(graph, inputs[key], seen)
    return None


def _text(graph: dict, value: Any, seen: set[str]) -> str:
    """The text an input carries: a literal, or what the string nodes linked to it make of their inputs.

    Follows primitive, string, concatenation and switch nodes; a link itself is never returned.
    """
    if isinstance(value, str):
        return value
    target = _link(value)
    if target is None or target in seen or len(seen) > MAX_TEXT_DEPTH:
        return ""
    seen.add(target)
    kind = _class(graph, target)
    inputs = _inputs(graph, target)
    if not inputs or _GENERATED_TEXT.search(kind):
        return ""
    lowered = kind.lower()
    if "switch" in lowered:
        choice = _value(graph, inputs.get("switch", inputs.get("boolean", inputs.get("select"))), set())
        keys = [k for k in inputs if k not in ("switch", "boolean", "select")]
        if choice is True or choice is False:
            first = "on_true" if choice else "on_false"
            keys.sort(key=lambda k: k != first)
        elif isinstance(choice, int):
            keys.sort(key=lambda k: not k.endswith(str(choice)))
        for key in keys:  # a branch made at run time (an LLM) is not in the file: the other branch is
            text = _text(graph, inputs[key], seen)
            if text.strip():
                return text
        return ""
    if "concat" in lowered or "join" in lowered or "combine" in lowered:
        delimiter = inputs.get("delimiter", inputs.get("separator", ""))
        parts = [_text(graph, v, seen) for k, v in inputs.items()
                 if k not in ("delimiter", "separator", "clean_whitespace")
                 and k.lower().startswith(("string", "text", "str", "input", "prompt", "value"))]
        return (delimiter if isinstance(delimiter, str) else "").join(p for p in parts if p.strip())
    for key in _LITERAL_KEYS:
        if key in inputs:
            text = _text(graph, inputs[key], seen)
            if text.strip():
                return text
    return ""


def _comfy_texts(graph: dict, start: str | None) -> list[str]:
    """Texts of the prompt nodes reachable from a conditioning link."""
    texts: list[str] = []
    stack = [start] if start else []
    for node_id, inputs in _walk(graph, stack):
        if "zeroout" in _class(graph, node_id).lower():
            continue  # conditioning zeroed: no prompt behind it counts
        found = ""
        for key in _TEXT_KEYS:
            if key in inputs:
                found = _text(graph, inputs[key], set()).strip()
                if found:
                    break
        if found:
            texts.append(found)
            continue
        for key, value in reversed(list(inputs.items())):
            target = _link(value)
            if target and key not in _NOT_TEXT and key not in _TEXT_KEYS:
                stack.append(target)
    return texts


def _comfy_model(graph: dict, start: str | None) -> str:
    stack = [start] if start else []
    for _node_id, inputs in _walk(graph, stack):
        for key in ("ckpt_name", "unet_name", "model_name", "base_ckpt_name", "model_path"):
            if isinstance(inputs.get(key), str) and inputs[key].strip():
                return inputs[key]
        target = _link(inputs.get("model"))
        if target:
            stack.append(target)
            continue
        stack.extend(t for t in (_link(v) for k, v in reversed(list(inputs.items()))
                                 if k not in ("clip", "vae", "switch", "boolean", "select")) if t)
    return ""


def _previous_sampler(graph: dict, node_id: str, samplers: set[str]) -> str | None:
    """The sampler whose output this sampler's input image comes from (through at most 64 other nodes)."""
    current: str | None = node_id
    for _ in range(64):
        inputs = _inputs(graph, current)
        current = next((t for t in (_link(inputs.get(k)) for k in _LATENT_KEYS) if t), None)
        if current is None or current in samplers:
            return current
    return None


def _sampler_chains(graph: dict, samplers: set[str]) -> tuple[str, list[str]]:
    """The last sampler of the longest chain of passes, and that chain (last first). Linear in the samplers."""
    previous = {s: _previous_sampler(graph, s, samplers) for s in samplers}
    depth: dict[str, int] = {}
    for sampler in sorted(samplers):
        path, on_path = [], set()
        current: str | None = sampler
        while current is not None and current not in depth and current not in on_path:
            path.append(current)
            on_path.add(current)
            current = previous.get(current)
        base = depth.get(current, 0) if current is not None else 0
        for node in reversed(path):
            base += 1
            depth[node] = base
    final = max(samplers, key=lambda s: (depth[s], s))
    chain, seen = [], set()
    current = final
    while current is not None and current not in seen:
        seen.add(current)
        chain.append(current)
        current = previous.get(current)
    return final, chain


def _conditioning(graph: dict, sampler: str) -> tuple[str | None, str | None, str | None, Any]:
    """(positive, negative, model, cfg) of a sampler, through its guider when it has one."""
    inputs = _inputs(graph, sampler)
    if "positive" not in inputs:
        guider = _inputs(graph, _link(inputs.get("guider")))
        if guider:
            inputs = guider
    positive = _link(inputs.get("positive")) or _link(inputs.get("conditioning")) or _link(inputs.get("cond1"))
    return positive, _link(inputs.get("negative")), _link(inputs.get("model")), inputs.get("cfg")


def _is_graph(data: Any) -> bool:
    return isinstance(data, dict) and any(isinstance(n, dict) and "class_type" in n for n in data.values())


def parse_comfyui(chunks: dict[str, str]) -> Metadata | None:
    graph = _json(chunks.get("prompt", ""))
    if not _is_graph(graph):
        return None
    extra = graph.get("extraMetadata")  # Civitai's generator: what the user asked for
    extra = _json(extra) if isinstance(extra, str) else extra
    extra = extra if isinstance(extra, dict) else {}
    graph = {str(k): v for k, v in list(graph.items())[:MAX_GRAPH_NODES] if isinstance(v, dict)}
    samplers = {
        node_id for node_id, node in graph.items()
        if _SAMPLER.search(_str(node.get("class_type"))) and isinstance(node.get("inputs"), dict)
        and ("positive" in node["inputs"] or "guider" in node["inputs"])
    }
    prompt, negative, model, cfg = "", "", "", ""
    params: dict[str, Any] = {}
    if samplers:
        final, chain = _sampler_chains(graph, samplers)
        # The first pass of the chain that made the image: SDXL's base (not its refiner), a hires fix's
        # first pass; later passes with no text of their own fall back to it too.
        tried: set[str | None] = set()
        for sampler in chain[::-1][:8]:  # bounded: each try walks the conditioning
            positive, negative_link, model_link, cfg_value = _conditioning(graph, sampler)
            if positive in tried:
                continue
            tried.add(positive)
            prompt = "\n".join(dict.fromkeys(_comfy_texts(graph, positive)))
            if prompt:
                negative = "\n".join(dict.fromkeys(_comfy_texts(graph, negative_link)))
                model = _comfy_model(graph, model_link)
                cfg = _number(cfg_value) if cfg_value is not None and not isinstance(cfg_value, list) else ""
                params = {k: v for k, v in graph[sampler]["inputs"].items() if not isinstance(v, (list, dict))}
                break
        else:
            _positive, _negative, model_link, _cfg = _conditioning(graph, final)
            model = _comfy_model(graph, model_link)
    if not prompt and isinstance(extra.get("prompt"), str):
        prompt, negative = extra["prompt"], _str(extra.get("negativePrompt"))
        cfg = cfg or (_number(extra["cfgScale"]) if "cfgScale" in extra else "")
    if not prompt:
        encoders = [n["inputs"]["text"] for n in graph.values()
                    if isinstance(n.get("inputs"), dict) and isinstance(n["inputs"].get("text"), str)
                    and "CLIPTextEncode" in _str(n.get("class_type"))]
        prompt = max(encoders, key=len, default="")
    if not model:
        for node in graph.values():
            if isinstance(node.get("inputs"), dict):
                name = node["inputs"].get("ckpt_name") or node["inputs"].get("unet_name")
                if isinstance(name, str):
                    model = name
                    break
    if not model and isinstance(extra.get("baseModel"), str):
        model = extra["baseModel"]
    return Metadata(prompt=prompt, negative_prompt=negative, model=model, text_accuracy=cfg,
                    params=_safe_params(params), source="comfyui")


# --- Stability Matrix, Tensor.Art: their own JSON beside a ComfyUI graph --------

def parse_stability_matrix(chunks: dict[str, str]) -> Metadata | None:
    data = _json(chunks.get("parameters-json", ""))
    if not isinstance(data, dict):
        return None
    graph = parse_comfyui(chunks) or Metadata()
    prompt = data.get("PositivePrompt")  # what the user typed: preferred to the graph's text
    return Metadata(
        prompt=prompt if isinstance(prompt, str) else graph.prompt,
        negative_prompt=_str(data.get("NegativePrompt")) if "NegativePrompt" in data else graph.negative_prompt,
        model=_str(data.get("ModelName")) or graph.model,
        text_accuracy=_number(data["CfgScale"]) if "CfgScale" in data else graph.text_accuracy,
        params=_safe_params(data),
        source="stabilitymatrix",
    )


def parse_tensorart(chunks: dict[str, str]) -> Metadata | None:
    data = _json(chunks.get("generation_data", ""))
    if not isinstance(data, dict):
        return None
    graph = parse_comfyui(chunks) or Metadata()
    base: dict[str, Any] = data["baseModel"] if isinstance(data.get("baseModel"), dict) else {}
    # the graph's checkpoint is an internal "EMS-…" file name; the model's own name is in baseModel
    model = _str(base.get("modelFileName") or base.get("label")) or graph.model
    prompt = data.get("prompt")
    return Metadata(
        prompt=prompt if isinstance(prompt, str) else graph.prompt,
        negative_prompt=_str(data.get("negativePrompt")) or graph.negative_prompt,
        model=model,
        text_accuracy=_number(data["cfgScale"]) if "cfgScale" in data else graph.text_accuracy,
        params=_safe_params(data),
        source="tensorart",
    )


# --- JSON in `parameters`: Fooocus, RuinedFooocus, Hugging Face Spaces, others ------

def _json_parameters(chunks: dict[str, str]) -> dict | None:
    text = chunks.get("parameters", "")
    data = _json(text) if text.lstrip().startswith("{") else None
    return data if isinstance(data, dict) else None


def parse_fooocus(chunks: dict[str, str]) -> Metadata | None:
    scheme = chunks.get("fooocus_scheme", "")
    if scheme == "a1111" and chunks.get("parameters"):
        meta = parse_a1111(chunks)
        if meta:
            meta.source = "fooocus"
        return meta
    data = _json_parameters(chunks)
    if data is None:
        return None
    if _str(data.get("software")).lower() == "ruinedfooocus" or ("Prompt" in data and "base_model_name" in data):
        return Metadata(
            prompt=_str(data.get("Prompt")),
            negative_prompt=_str(data.get("Negative")),
            model=_str(data.get("base_model_name")),
            text_accuracy=_number(data["cfg"]) if "cfg" in data else "",
            params=_safe_params(data),
            source="ruinedfooocus",
        )
    if scheme != "fooocus" and "fooocus" not in _str(data.get("version")).lower() \
            and data.get("metadata_scheme") != "fooocus":
        return None
    return Metadata(
        prompt=_str(data.get("prompt")),
        negative_prompt=_str(data.get("negative_prompt")),
        model=_str(data.get("base_model")),
        text_accuracy=_number(data.get("guidance_scale")),
        params=_safe_params(data),
        source="fooocus",
    )


_JSON_PROMPT = ("prompt", "Prompt", "positive_prompt", "positivePrompt", "c")
_JSON_NEGATIVE = ("negative_prompt", "Negative Prompt", "negativePrompt", "negative", "Negative", "uc")
_JSON_MODEL = ("Model", "model", "base_model", "base_model_name", "use_stable_diffusion_model",
               "Stable Diffusion model", "model_name", "sd_model", "ckpt_name")
_JSON_CFG = ("guidance_scale", "Guidance Scale", "cfg_scale", "cfgScale", "cfg", "scale")


def _first(data: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = data.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and _str(value).strip():
            return value
        if isinstance(value, dict) and key in ("model", "Model"):  # {"name": …} as InvokeAI writes it
            name = value.get("name") or value.get("model_name")
            if isinstance(name, str):
                return name
    return None


def _from_json(data: dict, source: str) -> Metadata | None:
    prompt = _first(data, _JSON_PROMPT)
    if not isinstance(prompt, str):
        return None
    cfg = _first(data, _JSON_CFG)
    return Metadata(prompt=prompt, negative_prompt=_str(_first(data, _JSON_NEGATIVE) or ""),
                    model=_str(_first(data, _JSON_MODEL) or ""), text_accuracy=_number(cfg) if cfg is not None else "",
                    params=_safe_params(data), source=source)


def parse_json_parameters(chunks: dict[str, str]) -> Metadata | None:
    """Hugging Face Spaces, Easy Diffusion's JPEG/WebP and other tools writing a flat JSON object."""
    data = _json_parameters(chunks)
    return _from_json(data, "json") if data is not None else None


# --- NovelAI ------------------------------------------------------------------

def parse_novelai(chunks: dict[str, str]) -> Metadata | None:
    software = chunks.get("Software", "").strip()
    if software != "NovelAI" and "Comment" not in chunks:
        return None
    comment = _json(chunks.get("Comment", ""))
    if software != "NovelAI" and not (isinstance(comment, dict) and "uc" in comment):
        return None
    comment = comment if isinstance(comment, dict) else {}
    prompt = chunks.get("Description") or chunks.get("exif:ImageDescription") or _str(comment.get("prompt"))
    return Metadata(
        prompt=prompt,
        negative_prompt=_str(comment.get("uc")),
        model=chunks.get("Source", "") or chunks.get("exif:Software", ""),
        text_accuracy=_number(comment.get("scale")) if "scale" in comment else "",
        params=_safe_params(comment),
        source="novelai",
    )


# --- InvokeAI -----------------------------------------------------------------

_DREAM_OPTION = re.compile(r"\s-(\w+)\s+(\S+)")


# InvokeAI 2's command-line options in a Dream string, by the names other generators use for them
_DREAM_NAMES = {"s": "steps", "S": "seed", "W": "width", "H": "height", "C": "cfg_scale", "A": "sampler"}
# the settings InvokeAI 2's sd-metadata keeps under "image", raised to the top like every other generator's
_SD_METADATA_SETTINGS = ("seed", "steps", "sampler", "width", "height", "cfg_scale")


def _dream(text: str) -> tuple[str, dict[str, str]]:
    match = re.match(r'\s*"(.*)"(.*)$', text, re.DOTALL)
    prompt_text, rest = (match.group(1), match.group(2)) if match else (text, "")
    return prompt_text, {_DREAM_NAMES.get(k, k): v for k, v in _DREAM_OPTION.findall(" " + rest[:10_000])}


def parse_invokeai(chunks: dict[str, str]) -> Metadata | None:
    data = _json(chunks.get("invokeai_metadata", ""))
    if isinstance(data, dict):
        model = data.get("model")
        name = _str(model.get("name") or model.get("model_name")) if isinstance(model, dict) else _str(model)
        return Metadata(
            prompt=_str(data.get("positive_prompt")),
            negative_prompt=_str(data.get("negative_prompt")),
            model=name,
            text_accuracy=_number(data.get("cfg_scale")) if "cfg_scale" in data else "",
            params=_safe_params(data),
            source="invokeai",
        )
    dream = chunks.get("Dream", "")
    dream = dream if len(dream) <= MAX_CHUNK else ""
    data = _json(chunks.get("sd-metadata", ""))
    if isinstance(data, dict):
        image: dict[str, Any] = data["image"] if isinstance(data.get("image"), dict) else {}
        prompt = image.get("prompt")
        if isinstance(prompt, list):
            parts = [_str(p.get("prompt")) for p in prompt if isinstance(p, dict)]
            # a blend ("a cat:0.5 a dog:0.5") is shown as typed, which only the Dream string keeps
            prompt = _dream(dream)[0] if len(parts) > 1 and dream else ", ".join(parts)
        positive, negative = _split_brackets(_str(prompt))
        params = _safe_params(data)
        for key in _SD_METADATA_SETTINGS:
            if key in image and key not in params:
                params[key] = _safe_params({key: image[key]}).get(key)
        return Metadata(
            prompt=positive,
            negative_prompt=negative,
            model=_str(data.get("model_weights") or data.get("model_id") or data.get("model")),
            text_accuracy=_number(image.get("cfg_scale")) if "cfg_scale" in image else "",
            params=params,
            source="invokeai",
        )
    if dream:
        prompt_text, options = _dream(dream)
        positive, negative = _split_brackets(prompt_text)
        return Metadata(prompt=positive, negative_prompt=negative, text_accuracy=options.get("cfg_scale", ""),
                        params=options, source="invokeai")
    return None


def _split_brackets(text: str) -> tuple[str, str]:
    """InvokeAI 2 writes the negative prompt in square brackets inside the prompt."""
    negatives = re.findall(r"\[([^\[\]]*)\]", text)
    positive = re.sub(r"\s*\[[^\[\]]*\]", "", text).strip()
    return positive, ", ".join(n.strip() for n in negatives)


# --- SwarmUI ------------------------------------------------------------------

def parse_swarmui(chunks: dict[str, str]) -> Metadata | None:
    data = _json_parameters(chunks)
    if data is None or not isinstance(data.get("sui_image_params"), dict):
        return None
    p = data["sui_image_params"]
    extra: dict[str, Any] = data["sui_extra_data"] if isinstance(data.get("sui_extra_data"), dict) else {}
    return Metadata(
        prompt=_str(p.get("prompt")),
        negative_prompt=_str(p.get("negativeprompt")),
        model=_str(p.get("model")),
        text_accuracy=_number(p.get("cfgscale")) if "cfgscale" in p else "",
        generated_at=_str(extra.get("date") or p.get("date")),  # sui_extra_data since 0.9.5
        params=_safe_params(p),
        source="swarmui",
    )


# --- Easy Diffusion -----------------------------------------------------------

_EASY_KEYS = ("num_inference_steps", "guidance_scale", "use_stable_diffusion_model", "negative_prompt", "sampler_name",
              "Stable Diffusion model", "Guidance Scale", "Negative Prompt", "Sampler", "Steps")


def parse_easy_diffusion(chunks: dict[str, str]) -> Metadata | None:
    prompt = chunks.get("prompt") or chunks.get("Prompt")
    if not prompt or prompt.lstrip().startswith("{") and _json(prompt) is not None:
        return None
    if not any(k in chunks for k in _EASY_KEYS):
        return None
    cfg = chunks.get("guidance_scale", chunks.get("Guidance Scale"))
    return Metadata(
        prompt=prompt,
        negative_prompt=chunks.get("negative_prompt", chunks.get("Negative Prompt", "")),
        model=chunks.get("use_stable_diffusion_model", chunks.get("Stable Diffusion model", "")),
        text_accuracy=_number(cfg) if cfg is not None else "",
        params={k: v[:10_000] for k, v in chunks.items()
                if k not in ("prompt", "Prompt", "negative_prompt", "Negative Prompt") and not k.startswith(("exif:", "xmp:"))},
        source="easydiffusion",
    )


# --- Draw Things, and XMP in general (Midjourney, DALL·E, photo tools) -----------

def parse_draw_things(chunks: dict[str, str]) -> Metadata | None:
    data = _json(chunks.get("xmp:UserComment", ""))
    if isinstance(data, dict) and isinstance(data.get("c"), str):
        meta = _from_json(data, "drawthings")
        if meta:
            meta.model = _str(data.get("model"))
            return meta
    if "draw things" in chunks.get("xmp:CreatorTool", "").lower() and chunks.get("xmp:description"):
        meta = parse_a1111({"parameters": chunks["xmp:description"]})
        if meta:
            meta.source = "drawthings"
        return meta
    return None


_MIDJOURNEY_JOB = re.compile(r"\s*Job ID:\s*[0-9a-fA-F-]{8,}\s*$")
_MIDJOURNEY_VERSION = re.compile(r"--(v|version|niji)\s+([\d.]+)")


def parse_description(chunks: dict[str, str]) -> Metadata | None:
    """A prompt in XMP dc:description or a PNG Description (Midjourney, DALL·E and others)."""
    text = chunks.get("xmp:description") or chunks.get("Description") or ""
    if not text.strip() or len(text) > MAX_CHUNK:
        return None
    if "\nSteps: " in text or "Negative prompt:" in text:
        meta = parse_a1111({"parameters": text})
        if meta:
            meta.source = "xmp"
        return meta
    model = ""
    job = _MIDJOURNEY_JOB.search(text)
    if job or "midjourney" in (chunks.get("Author", "") + chunks.get("xmp:CreatorTool", "")).lower():
        text = text[:job.start()] if job else text
        version = _MIDJOURNEY_VERSION.search(text)
        model = "Midjourney" + (f" {'niji' if version.group(1) == 'niji' else 'v'}{version.group(2)}" if version else "")
    return Metadata(prompt=text, model=model or chunks.get("xmp:Model", ""), source="xmp" if not model else "midjourney")


# --- Automatic1111 / Forge ----------------------------------------------------

_PAIR = re.compile(r'\s*([\w ][\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')
_JSON_VALUE = re.compile(r"(Civitai resources|Civitai metadata|Hashes|Lora hashes json):\s*(?=[\[{])")


def _a1111_pairs(line: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    json_values: dict[str, Any] = {}
    decoder = json.JSONDecoder()
    for match in list(_JSON_VALUE.finditer(line))[:5]:  # JSON values hold commas: take them out first
        try:
            value, end = decoder.raw_decode(line, match.end())
        except (ValueError, RecursionError):
            continue
        json_values[match.group(1)] = value
        line = line[:match.start()] + " " * (end - match.start()) + line[end:]
    for key, value in _PAIR.findall(line):
        value = value.strip()
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                value = value.strip('"')
        pairs[key.strip()] = _str(value)
    pairs.update((k, _str(v)) for k, v in json_values.items())
    return pairs


def _civitai_model(pairs: dict[str, str]) -> str:
    resources = _json(pairs.get("Civitai resources", ""))
    for item in resources if isinstance(resources, list) else []:
        if isinstance(item, dict) and _str(item.get("type")).lower() == "checkpoint" and item.get("modelName"):
            return " ".join(_str(item.get(k)) for k in ("modelName", "modelVersionName") if item.get(k))
    return ""


def parse_a1111(chunks: dict[str, str]) -> Metadata | None:
    text = chunks.get("parameters", "")
    if not text or len(text) > MAX_CHUNK or text.lstrip().startswith("{"):
        return None
    lines = text.strip().split("\n")
    params: dict[str, str] = {}
    if len(lines) > 1 or text.count(":") >= 3:
        candidate = _a1111_pairs(lines[-1])
        if len(candidate) >= 3:
            params = candidate
            lines = lines[:-1]
    body = "\n".join(lines)
    prompt, _, negative = body.partition("Negative prompt:")
    lower = {k.lower(): v for k, v in params.items()}
    cfg = lower.get("cfg scale")
    return Metadata(
        prompt=prompt.strip(),
        negative_prompt=negative.strip(),
        model=lower.get("model", "") or _civitai_model(params),
        text_accuracy=_number(cfg) if cfg is not None else "",
        generated_at=lower.get("created date", ""),
        params=params,
        source="civitai" if "Civitai resources" in params or "Created Date" in params else "a1111",
    )


PARSERS: list[tuple[str, Callable[[dict[str, str]], Metadata | None]]] = [
    ("myimages", parse_own),
    ("stabilitymatrix", parse_stability_matrix),
    ("tensorart", parse_tensorart),
    ("comfyui", parse_comfyui),
    ("fooocus", parse_fooocus),
    ("novelai", parse_novelai),
    ("invokeai", parse_invokeai),
    ("swarmui", parse_swarmui),
    ("easydiffusion", parse_easy_diffusion),
    ("drawthings", parse_draw_things),
    ("json", parse_json_parameters),
    ("a1111", parse_a1111),
    ("description", parse_description),
]

DATE_KEYS = ("exif:DateTimeOriginal", "xmp:CreateDate", "Creation Time", "date:create", "exif:DateTime")


def iso_date(text: str) -> str:
    """A date as ISO 8601 text `datetime.fromisoformat` reads, or "" when it is not one.

    Accepts EXIF's "2024:08:07 12:30:00", a trailing Z, and more than six fraction digits (Civitai writes seven).
    """
    text = (text or "").strip()[:64]
    match = re.match(r"(\d{4})[:-](\d{2})[:-](\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$",
                     text)
    if not match:
        return ""
    year, month, day, clock, fraction, zone = match.groups()
    result = f"{year}-{month}-{day}"
    if clock:
        result += "T" + clock + (fraction[:7] if fraction else "")
        if zone:
            result += "+00:00" if zone == "Z" else zone if ":" in zone else zone[:3] + ":" + zone[3:]
    try:
        datetime.fromisoformat(result)
    except ValueError:
        return ""
    return result


def too_large_note(chunks: dict[str, str]) -> str:
    """Why a file's prompt was not read when one of its metadata chunks is over MAX_CHUNK (no parser reads such a
    text: a prompt of millions of characters would weigh on every search and every card), else ""."""
    size = max((len(chunks[key]) for key in METADATA_KEYS if len(chunks.get(key) or "") > MAX_CHUNK), default=0)
    return (f"prompt too large: not read ({size:,} characters of metadata; at most {MAX_CHUNK:,} are read)"
            if size else "")


def parse_chunks(chunks: dict[str, str]) -> Metadata:
    """The metadata of the first format that recognises the chunks, else empty; texts trimmed, date as ISO."""
    meta = Metadata()
    for _name, parser in PARSERS:
        try:
            found = parser(chunks)
        except (RecursionError, ValueError, TypeError, AttributeError, KeyError, IndexError):
            found = None  # a parser bug on odd input never stops an import
        if found is not None:
            meta = found
            break
    meta.prompt, meta.negative_prompt = meta.prompt.strip(), meta.negative_prompt.strip()
    meta.model, meta.text_accuracy = meta.model.strip(), meta.text_accuracy.strip()
    meta.generated_at = iso_date(meta.generated_at)
    if not meta.prompt:
        meta.note = too_large_note(chunks)
    for key in DATE_KEYS:
        if not meta.generated_at and chunks.get(key):
            meta.generated_at = iso_date(chunks[key])
    return meta


# --- reading the chunks out of an image ---------------------------------------

def _decode_user_comment(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, (bytes, bytearray)):
        return ""
    data = bytes(raw)[:4 * MAX_CHUNK]
    head, body = data[:8], data[8:]
    if head.startswith(b"UNICODE"):
        # UTF-16 of mostly ASCII text: the zero bytes say which byte order it is
        order = "utf-16-be" if body[0::2].count(0) > body[1::2].count(0) else "utf-16-le"
        return body[: len(body) // 2 * 2].decode(order, errors="replace")
    if head.startswith(b"ASCII") or head.startswith(b"\x00" * 8):
        return body.decode("utf-8", errors="replace")
    return data.decode("utf-8", errors="replace")


def _repair(text: str) -> str:
    """UTF-8 that a reader decoded as Latin-1 (PNG tEXt, EXIF ASCII written by many tools), decoded right."""
    if text.isascii():  # most prompts: nothing to repair (and a scan of 100,000 files reads many)
        return text
    if not any("\x80" <= ch <= "\xff" for ch in text) or any(ch > "\xff" for ch in text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def _clean(value: Any, repair: bool = True) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = _str(value).replace("\x00", "")
    return _repair(text) if repair else text


def _user_comment(text: str, chunks: dict[str, str]) -> None:
    """An EXIF UserComment: A1111 text, a ComfyUI graph, or a JSON envelope of other chunks."""
    data = _json(text) if text.lstrip().startswith("{") else None
    if _is_graph(data):  # Civitai's generator: the graph itself
        chunks.setdefault("prompt", text)
        return
    if isinstance(data, dict) and any(isinstance(data.get(k), dict) for k in ("prompt", "workflow")):
        for key in ("prompt", "workflow"):  # ComfyUI save nodes: {"prompt": {…}, "workflow": {…}}
            if isinstance(data.get(key), dict):
                chunks.setdefault(key, json.dumps(data[key]))
        return
    if isinstance(data, dict) and any(k in data for k in ("Comment", "Software", "Source", "Description")):
        for key, value in list(data.items())[:50]:  # NovelAI WebP: its PNG chunks as one JSON object
            chunks.setdefault(_clean(key), _clean(value))
        return
    chunks.setdefault("parameters", text)


_EXIF_ENVELOPE = re.compile(r"\s*(prompt|workflow)\s*:\s*", re.IGNORECASE)


def _read_exif(image: ChunkSource, chunks: dict[str, str]) -> None:
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - broken EXIF is no metadata, not a failure
        return
    if not exif:
        return
    try:
        sub = exif.get_ifd(0x8769)
    except Exception:  # noqa: BLE001
        sub = {}
    comment = sub.get(0x9286) or exif.get(0x9286)  # UserComment: the Exif sub-IFD, or IFD0 (SaveImage+)
    if comment:
        _user_comment(_decode_user_comment(comment).replace("\x00", ""), chunks)
    for tag in (0x0110, 0x010F, 0x010E):  # Model, Make, ImageDescription: "Prompt: {…}", "workflow:{…}"
        value = exif.get(tag)
        if not isinstance(value, (str, bytes)):
            continue
        value = _clean(value)
        match = _EXIF_ENVELOPE.match(value)
        if match and value[match.end():].lstrip().startswith("{"):
            chunks.setdefault(match.group(1).lower(), value[match.end():])
        elif tag == 0x010E and value.strip():  # a camera's "OLYMPUS DIGITAL CAMERA" is no prompt: NovelAI only
            chunks.setdefault("exif:ImageDescription", value.strip())
    for tag, key in ((0x0131, "exif:Software"), (0x0132, "exif:DateTime")):
        if isinstance(exif.get(tag), (str, bytes)):
            chunks.setdefault(key, _clean(exif[tag]).strip())
    if isinstance(sub.get(0x9003), (str, bytes)):
        chunks.setdefault("exif:DateTimeOriginal", _clean(sub[0x9003]).strip())


def _xmp_field(xmp: str, name: str) -> str:
    """One XMP property as text: an attribute `name="…"` or an element (its first rdf:li when a list)."""
    attribute = xmp.find(name + '="')
    if attribute >= 0:
        start = attribute + len(name) + 2
        end = xmp.find('"', start)
        return html.unescape(xmp[start:end]) if end > 0 else ""
    start = xmp.find("<" + name)
    if start < 0:
        return ""
    start = xmp.find(">", start) + 1
    end = xmp.find("</" + name, start)
    if start <= 0 or end < 0:
        return ""
    inner = xmp[start:end]
    item = inner.find("<rdf:li")
    if item >= 0:
        item = inner.find(">", item) + 1
        inner = inner[item:inner.find("</rdf:li", item)] if item > 0 and inner.find("</rdf:li", item) >= 0 else ""
    return html.unescape(inner.strip())


def _read_xmp(xmp: str, chunks: dict[str, str]) -> None:
    if not xmp or len(xmp) > MAX_CHUNK:
        return
    for name, key in (("dc:description", "xmp:description"), ("exif:UserComment", "xmp:UserComment"),
                      ("xmp:CreatorTool", "xmp:CreatorTool"), ("xmp:CreateDate", "xmp:CreateDate"),
                      ("photoshop:DateCreated", "xmp:CreateDate"), ("tiff:Model", "xmp:Model")):
        value = _xmp_field(xmp, name)
        if value.strip():
            chunks.setdefault(key, value.strip())


STEALTH_SIGNATURES = {b"stealth_pnginfo": False, b"stealth_pngcomp": True}


def read_stealth(image: Image.Image) -> str:
    """Metadata hidden in the alpha channel's lowest bits (A1111's and NovelAI's "stealth" PNG info), or "".

    Bits run down each column, left to right: a 15-byte signature, a 32-bit length in bits, the data
    (gzip for `stealth_pngcomp`).
    """
    if image.mode not in ("RGBA", "LA"):
        return ""
    width, height = image.size
    if width * height < 152:
        return ""

    def bits(count: int) -> Any:  # only the columns needed: a large image's alpha is never copied whole
        columns = min(width, -(-count // height))
        part = image.crop((0, 0, columns, height)).getchannel("A").transpose(Image.Transpose.TRANSPOSE)
        return np.frombuffer(part.tobytes(), dtype=np.uint8)[:count] & 1

    signature = np.packbits(bits(120)).tobytes()
    if signature not in STEALTH_SIGNATURES:
        return ""
    header = bits(152)
    length = int.from_bytes(np.packbits(header[120:152]).tobytes(), "big")
    if length <= 0 or length > width * height - 152 or length > 8 * MAX_CHUNK:
        return ""
    data = np.packbits(bits(152 + length)[152:]).tobytes()
    if STEALTH_SIGNATURES[signature]:
        try:
            data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, MAX_CHUNK)
        except zlib.error:
            return ""
    return data.decode("utf-8", errors="replace")


METADATA_KEYS = _METADATA_KEYS = (  # chunks that hold generation metadata (sources.py reads PNGs by them too)
    "parameters", "prompt", "Comment", "Description", "invokeai_metadata", "sd-metadata", "Dream",
    OWN_KEY, "generation_data", "parameters-json", "xmp:description", "xmp:UserComment",
)


class ChunkSource(Protocol):
    """What `read_chunks` reads of an image besides its pixels: a Pillow image is one; so is a PNG's chunks read
    from its bytes (store/sources.py), which may also have a `text` dict."""

    @property
    def info(self) -> dict: ...

    def getexif(self) -> Image.Exif: ...


def read_chunks(image: ChunkSource, pixels: Image.Image | None = None) -> dict[str, str]:
    """Text chunks of a loaded image (PNG text, EXIF, XMP, stealth alpha data) as one dict.

    The stealth data is read from `pixels`, or from `image` when it is a Pillow image."""
    chunks: dict[str, str] = {}
    text = getattr(image, "text", None)
    if isinstance(text, dict):
        for key, value in text.items():
            # tEXt is Latin-1 by the PNG standard, but generators write UTF-8 into it; iTXt is UTF-8 already
            chunks[_clean(key)] = _clean(value, repair=not isinstance(value, PngImagePlugin.iTXt))
    for key, value in image.info.items():
        if isinstance(key, str) and isinstance(value, (str, bytes)) and key not in chunks \
                and key not in ("exif", "icc_profile", "xmp", "transparency"):
            if isinstance(value, bytes) and key != "comment":
                continue
            chunks[key] = _clean(value)
    xmp = image.info.get("xmp") or chunks.pop("XML:com.adobe.xmp", "")
    _read_xmp(_clean(xmp, repair=False) if isinstance(xmp, (str, bytes)) else "", chunks)
    _read_exif(image, chunks)
    if pixels is None and isinstance(image, Image.Image):
        pixels = image
    if not any(k in chunks for k in _METADATA_KEYS) and pixels is not None:
        try:
            hidden = read_stealth(pixels)
        except Exception:  # noqa: BLE001 - odd pixel data is no metadata
            hidden = ""
        if hidden:
            data = _json(hidden) if hidden.lstrip().startswith("{") else None
            if isinstance(data, dict):
                for key, value in list(data.items())[:50]:  # NovelAI: its PNG chunks as one JSON object
                    chunks.setdefault(_clean(key), _clean(value, repair=False))
            else:
                chunks["parameters"] = hidden
            chunks["stealth"] = "alpha"
    return chunks


def build_own_chunk(prompt: str, negative_prompt: str, model: str, text_accuracy: str,
                    generated_at: str, params: dict[str, Any], export_of: str = "") -> str:
    return json.dumps(
        {
            "prompt": prompt,
            "negative_prompt": negative_prompt,
            "model": model,
            "text_accuracy": text_accuracy,
            "generated_at": generated_at,
            "params": params,
            **({"export_of": export_of} if export_of else {}),
        },
        ensure_ascii=False,
    )


def build_a1111_text(prompt: str, negative_prompt: str, model: str, text_accuracy: str, *,
                     steps: object = None, sampler: object = None, seed: object = None,
                     size: tuple[int, int] | None = None) -> str:
    """The same settings as an Automatic1111 `parameters` text, for other tools (A1111's PNG Info, Civitai),
    in A1111's order: every setting the library knows, whichever generator wrote the image."""
    text = prompt
    if negative_prompt:
        text += "\nNegative prompt: " + negative_prompt
    pairs = []
    for name, value in (("Steps", steps), ("Sampler", sampler), ("CFG scale", text_accuracy), ("Seed", seed),
                        ("Size", f"{size[0]}x{size[1]}" if size and all(size) else None), ("Model", model)):
        if value not in (None, ""):
            shown = str(value)
            pairs.append(f"{name}: " + (json.dumps(shown) if any(c in shown for c in ",:\n") else shown))
    if pairs:
        text += "\n" + ", ".join(pairs)
    return text
