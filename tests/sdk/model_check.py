"""Check a raw JSON answer against the official SDK's model of it: every key the answer has is a field of
the model (so the SDK loses nothing), of the type the model gives it (so the SDK mistypes nothing),
recursively. Fields the model has and the answer leaves out are the test's own business."""

from __future__ import annotations

import importlib
import re

_MODELS = importlib.import_module("huaweicloudsdkecs.v2.model")
VPC_MODELS = importlib.import_module("huaweicloudsdkvpc.v2.model")


def _check(value, type_name: str, where: str, problems: list, models=_MODELS) -> None:
    if value is None:
        return
    if type_name in ("str", "datetime"):
        if not isinstance(value, str):
            problems.append(f"{where}: {value!r} is not a string")
    elif type_name in ("int",):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{where}: {value!r} is not an integer")
    elif type_name in ("float",):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            problems.append(f"{where}: {value!r} is not a number")
    elif type_name in ("bool",):
        if not isinstance(value, bool):
            problems.append(f"{where}: {value!r} is not a boolean")
    elif type_name == "object":
        pass
    elif type_name.startswith("list["):
        inner = type_name[len("list["):-1]
        if not isinstance(value, list):
            problems.append(f"{where}: {value!r} is not a list")
            return
        for i, item in enumerate(value):
            _check(item, inner, f"{where}[{i}]", problems, models)
    elif type_name.startswith("dict("):
        inner = re.match(r"dict\(str, (.*)\)$", type_name).group(1)
        if not isinstance(value, dict):
            problems.append(f"{where}: {value!r} is not an object")
            return
        for key, item in value.items():
            _check(item, inner, f"{where}.{key}", problems, models)
    else:
        model = getattr(models, type_name)
        if not isinstance(value, dict):
            problems.append(f"{where}: {value!r} is not an object ({type_name})")
            return
        by_wire = {wire: attr for attr, wire in model.attribute_map.items()}
        for key, item in value.items():
            attr = by_wire.get(key)
            if attr is None:
                problems.append(f"{where}.{key}: not a field of the SDK model {type_name}")
                continue
            _check(item, model.openapi_types[attr], f"{where}.{key}", problems, models)


def assert_fits_model(answer, model_name: str, skip: tuple = (), models=_MODELS) -> None:
    """Fails listing every key of `answer` the SDK model `model_name` does not know or types otherwise.
    `skip`: top-level keys that are not part of the model's body (none for most answers); `models`: the
    SDK's model module (ECS's unless given, `VPC_MODELS` for the VPC API)."""
    problems: list = []
    body = {k: v for k, v in answer.items() if k not in skip} if isinstance(answer, dict) else answer
    _check(body, model_name, model_name, problems, models)
    assert not problems, "the SDK model does not fit the answer:\n  " + "\n  ".join(problems)
