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

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from PIL import Image

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
    """A guidance value as compact text: 7.0 -> "7", 8.5 -> "8.5"."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (int, float)):
        return f"{value:g}"
    text = _str(value).strip()
    try:
        return f"{float(text):g}"
    except ValueError:
        return text[:40]


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
    params = data.get("params")
    return Metadata(
        prompt=_str(data.get("prompt")),
        negative_prompt=_str(data.get("negative_prompt")),
        model=_str(data.get("model")),
        text_accuracy=_str(data.get("text_accuracy")),
        generated_at=_str(data.get("generated_at")),
        params=_safe_params(params) if isinstance(params, dict) else {},
        source="myimages",
    )


# --- ComfyUI ------------------------------------------------------------------

_SAMPLER = re.compile(r"sampler", re.IGNORECASE)
_TEXT_KEYS = ("text", "text_g", "t5xxl", "clip_l", "text_l", "prompt")


def _link(value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int)):
        return str(value[0])
    return None


def _walk(graph: dict, stack: list[str]) -> Iterator[dict]:
    """The inputs of each node taken from `stack`, once each; callers push more ids onto it."""
    seen: set[str] = set()
    while stack and len(seen) < MAX_GRAPH_NODES:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        node = graph.get(node_id)
        if isinstance(node, dict) and isinstance(node.get("inputs"), dict):
            yield node["inputs"]


def _comfy_texts(graph: dict, start: str | None) -> list[str]:
    """Texts of the prompt nodes reachable from a conditioning link."""
    texts: list[str] = []
    stack = [start] if start else []
    for inputs in _walk(graph, stack):
        found = [inputs[k] for k in _TEXT_KEYS if isinstance(inputs.get(k), str) and inputs[k].strip()]
        if found:
            texts.append(found[0].strip())
            continue
        if any(isinstance(inputs.get(k), list) for k in _TEXT_KEYS):
            # text fed from another node (a primitive or a string node)
            stack.extend(t for t in (_link(inputs.get(k)) for k in _TEXT_KEYS) if t)
            continue
        for key, value in reversed(list(inputs.items())):
            target = _link(value)
            if target and key not in ("clip", "model", "vae", "image", "pixels", "mask"):
                stack.append(target)
    return texts


def _comfy_model(graph: dict, start: str | None) -> str:
    stack = [start] if start else []
    for inputs in _walk(graph, stack):
        for key in ("ckpt_name", "unet_name", "model_name"):
            if isinstance(inputs.get(key), str):
                return inputs[key]
        target = _link(inputs.get("model"))
        if target:
            stack.append(target)
    return ""


def _sampler_depth(graph: dict, node_id: str) -> int:
    """How many samplers come before this one through its latent input."""
    depth, seen = 0, set()
    current = node_id
    while current and current not in seen and len(seen) < MAX_GRAPH_NODES:
        seen.add(current)
        node = graph.get(current)
        if not isinstance(node, dict) or not isinstance(node.get("inputs"), dict):
            break
        if current != node_id and _SAMPLER.search(_str(node.get("class_type"))):
            depth += 1
        inputs = node["inputs"]
        current = _link(inputs.get("latent_image")) or _link(inputs.get("samples")) or _link(inputs.get("latent"))
    return depth


def parse_comfyui(chunks: dict[str, str]) -> Metadata | None:
    graph = _json(chunks.get("prompt", ""))
    if not isinstance(graph, dict) or not graph:
        return None
    graph = {str(k): v for k, v in list(graph.items())[:MAX_GRAPH_NODES]}
    if not any(isinstance(n, dict) and "class_type" in n for n in graph.values()):
        return None
    samplers = [
        node_id
        for node_id, node in graph.items()
        if isinstance(node, dict)
        and _SAMPLER.search(_str(node.get("class_type")))
        and isinstance(node.get("inputs"), dict)
        and "positive" in node["inputs"]
    ]
    prompt, negative, model, cfg = "", "", "", ""
    params: dict[str, Any] = {}
    if samplers:
        final = max(samplers, key=lambda s: (_sampler_depth(graph, s), s))
        inputs = graph[final]["inputs"]
        prompt = "\n".join(dict.fromkeys(_comfy_texts(graph, _link(inputs.get("positive")))))
        negative = "\n".join(dict.fromkeys(_comfy_texts(graph, _link(inputs.get("negative")))))
        model = _comfy_model(graph, _link(inputs.get("model")))
        cfg = _number(inputs.get("cfg")) if "cfg" in inputs else ""
        params = {k: v for k, v in inputs.items() if not isinstance(v, (list, dict))}
    if not prompt:
        encoders = [
            _str(n["inputs"].get("text"))
            for n in graph.values()
            if isinstance(n, dict) and isinstance(n.get("inputs"), dict)
            and "CLIPTextEncode" in _str(n.get("class_type"))
        ]
        prompt = max(encoders, key=len, default="").strip()
    if not model:
        for node in graph.values():
            if isinstance(node, dict) and isinstance(node.get("inputs"), dict):
                name = node["inputs"].get("ckpt_name") or node["inputs"].get("unet_name")
                if isinstance(name, str):
                    model = name
                    break
    return Metadata(prompt=prompt, negative_prompt=negative, model=model, text_accuracy=cfg,
                    params=_safe_params(params), source="comfyui")


# --- Fooocus ------------------------------------------------------------------

def parse_fooocus(chunks: dict[str, str]) -> Metadata | None:
    scheme = chunks.get("fooocus_scheme", "")
    text = chunks.get("parameters", "")
    if scheme == "a1111" and text:
        meta = parse_a1111(chunks)
        if meta:
            meta.source = "fooocus"
        return meta
    data = _json(text) if text.lstrip().startswith("{") else None
    if not isinstance(data, dict) or (scheme != "fooocus" and "fooocus" not in _str(data.get("version")).lower()
                                      and data.get("metadata_scheme") != "fooocus"):
        return None
    return Metadata(
        prompt=_str(data.get("prompt")),
        negative_prompt=_str(data.get("negative_prompt")),
        model=_str(data.get("base_model")),
        text_accuracy=_number(data.get("guidance_scale")),
        params=_safe_params(data),
        source="fooocus",
    )


# --- NovelAI ------------------------------------------------------------------

def parse_novelai(chunks: dict[str, str]) -> Metadata | None:
    if chunks.get("Software", "").strip() != "NovelAI" and "Comment" not in chunks:
        return None
    comment = _json(chunks.get("Comment", ""))
    if chunks.get("Software", "").strip() != "NovelAI" and not (isinstance(comment, dict) and "uc" in comment):
        return None
    comment = comment if isinstance(comment, dict) else {}
    prompt = chunks.get("Description") or _str(comment.get("prompt"))
    return Metadata(
        prompt=prompt,
        negative_prompt=_str(comment.get("uc")),
        model=chunks.get("Source", ""),
        text_accuracy=_number(comment.get("scale")) if "scale" in comment else "",
        params=_safe_params(comment),
        source="novelai",
    )


# --- InvokeAI -----------------------------------------------------------------

_DREAM_OPTION = re.compile(r"\s-(\w+)\s+(\S+)")


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
    data = _json(chunks.get("sd-metadata", ""))
    if isinstance(data, dict):
        image = data.get("image") if isinstance(data.get("image"), dict) else {}
        prompt = image.get("prompt")
        if isinstance(prompt, list):
            prompt = ", ".join(_str(p.get("prompt")) for p in prompt if isinstance(p, dict))
        positive, negative = _split_brackets(_str(prompt))
        return Metadata(
            prompt=positive,
            negative_prompt=negative,
            model=_str(data.get("model_weights") or data.get("model")),
            text_accuracy=_number(image.get("cfg_scale")) if "cfg_scale" in image else "",
            params=_safe_params(data),
            source="invokeai",
        )
    dream = chunks.get("Dream", "")
    if dream and len(dream) <= MAX_CHUNK:
        match = re.match(r'\s*"(.*)"(.*)$', dream, re.DOTALL)
        prompt_text, rest = (match.group(1), match.group(2)) if match else (dream, "")
        options = {k: v for k, v in _DREAM_OPTION.findall(" " + rest)}
        positive, negative = _split_brackets(prompt_text)
        return Metadata(prompt=positive, negative_prompt=negative, text_accuracy=options.get("C", ""),
                        params=options, source="invokeai")
    return None


def _split_brackets(text: str) -> tuple[str, str]:
    """InvokeAI 2 writes the negative prompt in square brackets inside the prompt."""
    negatives = re.findall(r"\[([^\[\]]*)\]", text)
    positive = re.sub(r"\s*\[[^\[\]]*\]", "", text).strip()
    return positive, ", ".join(n.strip() for n in negatives)


# --- SwarmUI ------------------------------------------------------------------

def parse_swarmui(chunks: dict[str, str]) -> Metadata | None:
    text = chunks.get("parameters", "")
    if not text.lstrip().startswith("{"):
        return None
    data = _json(text)
    if not isinstance(data, dict) or not isinstance(data.get("sui_image_params"), dict):
        return None
    p = data["sui_image_params"]
    return Metadata(
        prompt=_str(p.get("prompt")),
        negative_prompt=_str(p.get("negativeprompt")),
        model=_str(p.get("model")),
        text_accuracy=_number(p.get("cfgscale")) if "cfgscale" in p else "",
        params=_safe_params(p),
        source="swarmui",
    )


# --- Easy Diffusion -----------------------------------------------------------

def parse_easy_diffusion(chunks: dict[str, str]) -> Metadata | None:
    prompt = chunks.get("prompt")
    if not prompt or _json(prompt) is not None and prompt.lstrip().startswith("{"):
        return None
    if not any(k in chunks for k in ("num_inference_steps", "guidance_scale", "use_stable_diffusion_model",
                                     "negative_prompt", "sampler_name")):
        return None
    return Metadata(
        prompt=prompt,
        negative_prompt=chunks.get("negative_prompt", ""),
        model=chunks.get("use_stable_diffusion_model", ""),
        text_accuracy=_number(chunks.get("guidance_scale")) if "guidance_scale" in chunks else "",
        params={k: v[:10_000] for k, v in chunks.items() if k not in ("prompt", "negative_prompt")},
        source="easydiffusion",
    )


# --- Automatic1111 / Forge ----------------------------------------------------

_PAIR = re.compile(r'\s*([\w ][\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def _a1111_pairs(line: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for key, value in _PAIR.findall(line):
        value = value.strip()
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                value = value.strip('"')
        pairs[key.strip()] = _str(value)
    return pairs


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
    return Metadata(
        prompt=prompt.strip(),
        negative_prompt=negative.strip(),
        model=params.get("Model", ""),
        text_accuracy=_number(params["CFG scale"]) if "CFG scale" in params else "",
        params=params,
        source="a1111",
    )


PARSERS: list[tuple[str, Callable[[dict[str, str]], Metadata | None]]] = [
    ("myimages", parse_own),
    ("comfyui", parse_comfyui),
    ("fooocus", parse_fooocus),
    ("novelai", parse_novelai),
    ("invokeai", parse_invokeai),
    ("swarmui", parse_swarmui),
    ("easydiffusion", parse_easy_diffusion),
    ("a1111", parse_a1111),
]


def parse_chunks(chunks: dict[str, str]) -> Metadata:
    """The metadata of the first format that recognises the chunks, else empty."""
    for _name, parser in PARSERS:
        try:
            meta = parser(chunks)
        except (RecursionError, ValueError, TypeError, AttributeError, KeyError, IndexError):
            meta = None  # a parser bug on odd input never stops an import
        if meta is not None:
            return meta
    return Metadata()


# --- reading the chunks out of an image ---------------------------------------

def _decode_user_comment(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, (bytes, bytearray)):
        return ""
    data = bytes(raw)
    head, body = data[:8], data[8:]
    if head.startswith(b"UNICODE"):
        for encoding in ("utf-16-be", "utf-16-le"):
            try:
                text = body.decode(encoding)
            except UnicodeDecodeError:
                continue
            if text and all(ch.isprintable() or ch in "\n\r\t" for ch in text[:200]):
                return text
        return body.decode("utf-16-be", errors="replace")
    if head.startswith(b"ASCII"):
        return body.decode("latin-1")
    return data.decode("utf-8", errors="replace")


def _clean(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = _str(value)
    return text.replace("\x00", "")


def read_chunks(image: Image.Image) -> dict[str, str]:
    """Text chunks of a loaded image (PNG text, JPEG/WebP EXIF) as one dict."""
    chunks: dict[str, str] = {}
    text = getattr(image, "text", None)
    if isinstance(text, dict):
        for key, value in text.items():
            chunks[_clean(key)] = _clean(value)
    for key, value in image.info.items():
        if isinstance(key, str) and isinstance(value, (str, bytes)) and key not in chunks \
                and key not in ("exif", "icc_profile", "xmp", "transparency"):
            if isinstance(value, bytes) and key != "comment":
                continue
            chunks[key] = _clean(value)
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - broken EXIF is no metadata, not a failure
        return chunks
    if not exif:
        return chunks
    try:
        comment = exif.get_ifd(0x8769).get(0x9286)
    except Exception:  # noqa: BLE001
        comment = None
    if comment and "parameters" not in chunks:
        chunks["parameters"] = _decode_user_comment(comment).replace("\x00", "")
    for tag in (0x0110, 0x010F, 0x010E):  # ComfyUI WebP: "prompt:{...}", "workflow:{...}"
        value = exif.get(tag)
        if isinstance(value, (str, bytes)):
            value = _clean(value)
            name, sep, rest = value.partition(":")
            if sep and name in ("prompt", "workflow") and name not in chunks:
                chunks[name] = rest
    return chunks


def build_own_chunk(prompt: str, negative_prompt: str, model: str, text_accuracy: str,
                    generated_at: str, params: dict[str, Any]) -> str:
    return json.dumps(
        {
            "prompt": prompt,
            "negative_prompt": negative_prompt,
            "model": model,
            "text_accuracy": text_accuracy,
            "generated_at": generated_at,
            "params": params,
        },
        ensure_ascii=False,
    )


def build_a1111_text(prompt: str, negative_prompt: str, model: str, text_accuracy: str) -> str:
    """The same settings as an Automatic1111 `parameters` text, for other tools."""
    text = prompt
    if negative_prompt:
        text += "\nNegative prompt: " + negative_prompt
    pairs = []
    if text_accuracy:
        pairs.append(f"CFG scale: {text_accuracy}")
    if model:
        pairs.append("Model: " + (json.dumps(model) if any(c in model for c in ",:\n") else model))
    if pairs:
        text += "\n" + ", ".join(pairs)
    return text
