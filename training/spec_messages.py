"""Validation errors as sentences about the field the person sees.

Pydantic says ``Input should be greater than or equal to 1`` at
``('model', 'layers', 0, 'dense', 'units')``; the builder shows card "Layer 1 (dense)"
with a "units" box. This module turns one into the other: :func:`pointer` makes the
JSON pointer into the submitted document (``/model/layers/0/units``, unchanged from
before), :func:`describe` the sentence ("Layer 1 (dense): units must be at least 1").
It also holds :func:`precheck`, the cheap walk over raw JSON that runs before pydantic
(depth, integer size), so that no input can make validation recurse or overflow.
"""

from __future__ import annotations

import json
import math
from typing import Any

# JSON nested deeper than this is refused before anything recurses into it. The deepest
# legitimate spec (residuals inside residuals, each with an init) stays far below.
MAX_DEPTH = 64
# Integers beyond what a JavaScript number holds exactly are never meaningful in a spec,
# and would overflow float conversion or shape arithmetic further on.
MAX_INT = 2**53 - 1

# The words a person sees for a field, by path without list indices.
LABELS = {
    "/seed": "seed",
    "/name": "name",
    "/mode": "mode",
    "/version": "spec version",
    "/loss": "loss",
    "/data": "data",
    "/data/dataset": "dataset",
    "/data/n_samples": "number of samples",
    "/data/noise": "noise",
    "/data/features": "features",
    "/data/degree": "polynomial degree",
    "/data/n_classes": "number of classes",
    "/data/split": "data split",
    "/data/split/train": "training split",
    "/data/split/val": "validation split",
    "/data/split/test": "test split",
    "/data/normalize": "normalization",
    "/data/label_noise": "label noise",
    "/data/random_labels": "random labels",
    "/data/imbalance": "class imbalance",
    "/data/upload_id": "upload id",
    "/data/classes": "classes",
    "/data/per_class": "samples per class",
    "/augment": "augmentations",
    "/model": "model",
    "/model/layers": "layers",
    "/model/init": "initialization",
    "/model/init/weights": "weight initialization",
    "/model/init/bias": "bias initialization",
    "/model/init/gain": "initialization gain",
    "/model/init/std": "initialization std",
    "/model/init/value": "initialization constant",
    "/optimizer": "optimizer",
    "/optimizer/name": "optimizer",
    "/optimizer/lr": "learning rate",
    "/optimizer/momentum": "momentum",
    "/optimizer/nesterov": "Nesterov",
    "/optimizer/betas": "Adam betas",
    "/optimizer/eps": "epsilon",
    "/optimizer/rho": "rho",
    "/optimizer/alpha": "alpha",
    "/optimizer/weight_decay": "optimizer weight decay",
    "/schedule": "schedule",
    "/schedule/name": "learning-rate schedule",
    "/schedule/warmup_epochs": "warm-up epochs",
    "/schedule/step_size": "schedule step size",
    "/schedule/gamma": "schedule decay factor (gamma)",
    "/schedule/milestones": "milestones",
    "/schedule/min_lr": "minimum learning rate",
    "/schedule/max_lr": "maximum learning rate",
    "/schedule/patience": "plateau patience",
    "/regularization": "regularization",
    "/regularization/l1": "L1 penalty",
    "/regularization/l2": "L2 penalty",
    "/regularization/weight_decay": "weight decay",
    "/regularization/max_norm": "max-norm constraint",
    "/regularization/grad_clip_norm": "gradient clipping norm",
    "/regularization/grad_clip_value": "gradient clipping value",
    "/regularization/label_smoothing": "label smoothing",
    "/regularization/early_stopping": "early stopping",
    "/regularization/early_stopping/metric": "early-stopping metric",
    "/regularization/early_stopping/patience": "early-stopping patience",
    "/regularization/early_stopping/min_delta": "early-stopping minimum change",
    "/regularization/early_stopping/restore_best": "restore best weights",
    "/regularization/swa": "weight averaging (SWA)",
    "/regularization/swa/start_epoch": "SWA start epoch",
    "/regularization/swa/lr": "SWA learning rate",
    "/regularization/swa/every": "epochs between SWA snapshots",
    "/training/repeated_augment": "repeated augmentation (copies per sample)",
    "/training": "training",
    "/training/epochs": "epochs",
    "/training/batch_size": "batch size",
    "/training/device": "device",
    "/training/max_seconds": "time limit (max_seconds)",
    "/monitor": "monitor",
    "/monitor/diagnostics": "diagnostics",
    "/monitor/boundary": "decision boundary",
    "/monitor/diagnostics_every": "diagnostics interval",
    "/monitor/boundary_every": "decision boundary interval",
    "/monitor/boundary_resolution": "decision boundary resolution",
    "/monitor/landscape": "loss landscape",
    "/monitor/landscape/mode": "landscape mode",
    "/monitor/landscape/resolution": "landscape resolution",
    "/monitor/landscape/resolution_y": "landscape rows",
    "/monitor/landscape/span": "landscape span",
    "/monitor/landscape/when": "landscape timing",
    "/monitor/landscape/every_epochs": "landscape interval",
    "/monitor/landscape/eval_samples": "landscape evaluation samples",
    "/monitor/landscape/seed": "landscape seed",
    "/monitor/landscape/checkpoint_every_steps": "landscape checkpoint interval",
    "/lr_finder": "LR range test",
    "/lr_finder/start_lr": "LR range test start",
    "/lr_finder/end_lr": "LR range test end",
    "/lr_finder/steps": "LR range test steps",
    "/lr_finder/beta": "LR range test smoothing (beta)",
    "/lr_finder/diverge_factor": "LR range test divergence factor",
}

_BOUNDS = {"greater_than_equal": ("ge", "at least"), "greater_than": ("gt", "greater than"),
           "less_than_equal": ("le", "at most"), "less_than": ("lt", "less than")}
_EXPECTS = {  # pydantic error type → what the field wanted
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "int_parsing_size": "a whole number", "float_type": "a number", "float_parsing": "a number",
    "finite_number": "a finite number", "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "text", "list_type": "a list", "dict_type": "an object",
    "model_type": "an object", "model_attributes_type": "an object", "none_required": "null",
}


def is_index(token: str) -> bool:
    """A list index in a pointer ('3'); not any unicode digit ('²'.isdigit() is true)."""
    return token.isascii() and token.isdigit()


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def split_pointer(path: str) -> list[str]:
    return [unescape(t) for t in path.split("/")[1:]] if path else []


def join_pointer(parts: list) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pointer(loc: tuple, doc: Any) -> str:
    """JSON pointer for a pydantic error location, dropping the names pydantic adds.

    Pydantic puts the tag of a discriminated union (``('augment', 0, 'mixup', 'alpha')``)
    and the member of a plain union (``(..., 'padding', 'int')``) into the location;
    the document has no such keys.
    """
    parts: list = []
    node = doc
    for item in loc:
        if isinstance(item, str):
            if isinstance(node, dict) and item not in node and node.get("type") == item:
                continue  # discriminator tag
            if item.startswith(("function-", "tagged-union[", "list[", "literal[", "union[")):
                continue
            if parts and not isinstance(node, (dict, list)):
                continue  # a union member's name below a scalar value
        parts.append(item)
        if isinstance(node, dict):
            node = node.get(item)
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            node = node[item]
        else:
            node = None
    return join_pointer(parts)


def show(value: Any) -> str:
    """A short rendering of what the person sent, as JSON spells it."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, int):
        if abs(value) < 10**15:
            return str(value)
        digits = math.floor((abs(value).bit_length() - 1) * math.log10(2)) + 1  # str() refuses > 4300 digits
        return f"a number of about {digits} digits"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 40 else value[:40] + "…", ensure_ascii=False)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _node(doc: Any, parts: list[str]) -> Any:
    node = doc
    for p in parts:
        if isinstance(node, dict):
            node = node.get(p)
        elif isinstance(node, list) and is_index(p) and int(p) < len(node):
            node = node[int(p)]
        else:
            return None
    return node


def _type_of(item: Any) -> str | None:
    t = item.get("type") if isinstance(item, dict) else None
    return t if isinstance(t, str) and len(t) <= 30 else None


def _words(key: str) -> str:
    return key.replace("_", " ")


def subject(path: str, doc: Any) -> tuple[str, str]:
    """``(card, field)``: the card a person sees ("Layer 2 (conv2d)") and the field on it.

    Either may be empty; outside layer and augmentation cards the card is empty and the
    field carries the whole name ("learning rate").
    """
    parts = split_pointer(path)
    if len(parts) >= 3 and parts[:2] == ["model", "layers"] and is_index(parts[2]):
        names, i = [], 2
        prefix = ["model", "layers"]
        while i < len(parts) and is_index(parts[i]):
            kind = _type_of(_node(doc, prefix + [parts[i]]))
            word = "Layer" if not names else "layer"
            names.append(f"{word} {int(parts[i]) + 1}" + (f" ({kind})" if kind else ""))
            prefix = prefix + [parts[i]]
            if i + 2 < len(parts) and parts[i + 1] == "layers" and is_index(parts[i + 2]):
                prefix = prefix + ["layers"]
                i += 2
            else:
                i += 1
        rest = parts[i:]
        return ", ".join(names), _field_words(rest, layer=True)
    if len(parts) >= 2 and parts[0] == "augment" and is_index(parts[1]):
        kind = _type_of(_node(doc, parts[:2]))
        return f"Augmentation {int(parts[1]) + 1}" + (f" ({kind})" if kind else ""), _field_words(parts[2:], layer=True)
    key = "/" + "/".join(p for p in parts if not is_index(p))
    items = [p for p in parts if is_index(p)]
    label = LABELS.get(key)
    if label is None:
        known = [p for p in parts if not is_index(p)]
        label = " ".join(_words(p) for p in known) if known else "the spec"
    if items and is_index(parts[-1]):
        label += f" (item {int(items[-1]) + 1})"
    return "", label


def _field_words(rest: list[str], layer: bool) -> str:
    words = []
    for p in rest:
        if is_index(p):
            words.append(f"(item {int(p) + 1})")
        elif p == "init" and layer:
            words.append("initialization")
        else:
            words.append(_words(p))
    return " ".join(words)


def _sentence(card: str, field: str, predicate: str) -> str:
    if card and field:
        return f"{card}: {field} {predicate}"
    if card:
        return f"{card}: {predicate}"
    text = f"{field} {predicate}"
    return text[:1].upper() + text[1:]


def describe(err: dict, path: str, doc: Any) -> str:
    """One pydantic error as a sentence about the field as the user sees it."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    card, field = subject(path, doc)
    if kind == "extra_forbidden":
        parts = split_pointer(path)
        owner_card, owner_field = subject(join_pointer(parts[:-1]), doc)
        where = owner_card or (owner_field[:1].upper() + owner_field[1:] if parts[:-1] else "The spec")
        if owner_card and owner_field:
            where = f"{owner_card}: {owner_field}"
        return f'{where} has no field "{parts[-1] if parts else ""}"'
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        card = card.rsplit(" (", 1)[0] if card.endswith(")") else card  # the "type" is what is wrong
        tags = str(ctx.get("expected_tags", "")).replace("'", "")
        if kind == "union_tag_not_found":
            return _sentence(card, field, 'needs a "type"' + (f", one of {tags}" if tags else ""))
        return _sentence(card, field, f"has an unknown type {show(ctx.get('tag', value))}; expected one of {tags}")
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return _sentence(card, field, f"must be {words} {_num(ctx.get(key))}")
    if kind in _EXPECTS:
        return _sentence(card, field, f"must be {_EXPECTS[kind]}, got {show(value)}")
    if kind in ("literal_error", "enum"):
        return _sentence(card, field, f"must be {ctx.get('expected')}, got {show(value)}")
    if kind == "too_short":
        return _sentence(card, field, f"needs at least {ctx.get('min_length')} item{_s(ctx.get('min_length'))}")
    if kind == "too_long":
        return _sentence(card, field, f"can hold at most {ctx.get('max_length')} item{_s(ctx.get('max_length'))}")
    if kind == "string_too_long":
        return _sentence(card, field, f"must be at most {ctx.get('max_length')} characters long")
    if kind == "string_too_short":
        return _sentence(card, field, f"must be at least {ctx.get('min_length')} characters long")
    if kind == "string_pattern_mismatch":
        return _sentence(card, field, "may contain only letters, digits, '_' and '-' (at most 40)")
    if kind == "missing":
        return _sentence(card, field, "is required")
    if kind in ("value_error", "assertion_error"):
        msg = str(ctx.get("error") or err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        where = f"{card}, {field}" if card and field else _cap(card or field)
        return f"{where}: {msg}"
    return _sentence(card, field, f"is invalid: {err['msg']}")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _s(n: Any) -> str:
    return "" if n == 1 else "s"


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def merge_union(errors: list[dict]) -> list[dict]:
    """Errors that share a path (one per member of a union) become one.

    A bound violated by the matching member ("padding must be at most 10") is the
    useful one; otherwise the members' expectations are listed together.
    """
    out: list[dict] = []
    by_path: dict[str, list[dict]] = {}
    for e in errors:
        if e["path"] in by_path:
            by_path[e["path"]].append(e)
        else:
            by_path[e["path"]] = [e]
            out.append(e)
    merged = []
    for e in out:
        group = by_path[e["path"]]
        if len(group) == 1:
            merged.append(e)
            continue
        bound = [g for g in group if g["_type"] in _BOUNDS]
        if bound:
            merged.append(bound[0])
            continue
        wants = []
        for g in group:
            want = _EXPECTS.get(g["_type"]) or (str(g["_ctx"].get("expected")) if g["_type"] == "literal_error" else None)
            if want and want not in wants:
                wants.append(want)
        card, field = e["_subject"]
        merged.append({**e, "message": _sentence(card, field, f"must be {', '.join(wants[:-1])} or {wants[-1]}"
                                                              f", got {show(e['_input'])}" if len(wants) > 1 else
                                                 f"must be {''.join(wants)}, got {show(e['_input'])}")})
    return merged


def bad_text(text: str) -> str:
    """Why a string cannot be stored (PostgreSQL refuses NUL; UTF-8 refuses lone surrogates), or ''."""
    if "\x00" in text:
        return "must not contain the NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid unicode text"
    return ""


def precheck(doc: Any) -> list[dict[str, str]]:
    """Depth, integer size and text of raw JSON data, walked iteratively (never recursion).

    Returns errors with JSON-pointer paths; empty when the document is safe to hand to
    pydantic. Walking stops at the first too-deep branch (its contents are not read).
    """
    errors: list[dict[str, str]] = []
    stack: list[tuple[Any, tuple, int]] = [(doc, (), 0)]
    while stack and len(errors) < 20:
        node, parts, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth >= MAX_DEPTH:
                errors.append({"path": join_pointer(list(parts)),
                               "message": f"The spec is nested more than {MAX_DEPTH} levels deep here"})
                continue
            items = node.items() if isinstance(node, dict) else enumerate(node)
            children = [(v, parts + (k,), depth + 1) for k, v in items]
            if isinstance(node, dict):
                for k in node:
                    problem = bad_text(k)
                    if problem:
                        errors.append({"path": join_pointer(list(parts)), "message": f"A field name {problem}"})
            stack.extend(reversed(children))
        elif isinstance(node, str) and bad_text(node):
            card, field = subject(join_pointer(list(parts)), doc)
            errors.append({"path": join_pointer(list(parts)), "message": _sentence(card, field, bad_text(node))})
        elif isinstance(node, int) and not isinstance(node, bool) and abs(node) > MAX_INT:
            card, field = subject(join_pointer(list(parts)), doc)
            errors.append({"path": join_pointer(list(parts)),
                           "message": _sentence(card, field, f"is far too large ({show(node)})")})
    return errors


def polish(errors: list[dict[str, str]], doc: Any) -> list[dict[str, str]]:
    """Messages written by rules elsewhere (shapes, combinations) as the UI names things.

    A message about a layer or an augmentation gets its card ("Layer 3 (conv2d): ...")
    unless it already names one; every message starts with a capital.
    """
    out = []
    for e in errors:
        text = e["message"]
        card, field = subject(e["path"], doc)
        if card and not text.startswith(("Layer ", "Augmentation ")):
            text = f"{card}: {text}"
        elif not card and field and text[:1].islower() and not text.lower().startswith(field.lower()):
            text = f"{_cap(field)}: {text}"  # "Loss: cross_entropy needs a classification dataset"
        out.append({**e, "message": _cap(text)})
    return out


def first_per_path(errors: list[dict[str, str]], later: list[dict[str, str]]) -> list[dict[str, str]]:
    """``later`` errors (a deeper check) only where ``errors`` said nothing about that path yet."""
    seen = {e["path"] for e in errors}
    out = list(errors)
    for e in later:
        if e["path"] not in seen:
            seen.add(e["path"])
            out.append(e)
    return out
