"""The schema's checks as the Snakefile runs them beyond Snakemake's validate: each experiment's
overrides validated as the config that experiment sees, its errors naming it."""

from __future__ import annotations

import copy
import difflib
import math

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from unet.config.experiments import ConfigError, experiment_config

NULLS = ("null", "Null", "NULL", "~")  # YAML's null, which --config's nested values keep as text
# YAML 1.1's booleans, as PyYAML reads `enabled: no` in a config file
BOOLEANS = {True: ("true", "yes", "on"), False: ("false", "no", "off")}


def check_schema(config: dict, schema: dict) -> None:
    """Raise ConfigError `<key path>: <what is wrong>` for the first key the schema refuses,
    a mistyped key with the name it is closest to: Snakemake's validate says the same below
    the whole schema and config (thousands of lines), this says it alone."""
    _check_finite(config, "")
    error = best_match(Draft202012Validator(schema).iter_errors(config))
    if error is not None:
        raise ConfigError(_message(error, schema))


def _check_finite(value, path: str) -> None:
    """Raise ConfigError for YAML's .nan or .inf anywhere in `value`: nan passes every
    minimum and maximum (it compares false to all), and no key means infinity."""
    if isinstance(value, list):
        value = dict(enumerate(value))
    for key, item in value.items() if isinstance(value, dict) else ():
        _check_finite(item, f"{path}.{key}" if path else str(key))
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path}: {value} is not a finite number; give a number (for a "
                          "limit that a key can turn off, its description says which value "
                          "does, e.g. train.max_minutes 0)")


def check_experiment_schemas(config: dict, schema: dict) -> None:
    """Raise ConfigError `experiments.<name>: <key path>: <what is wrong>` for the first
    experiment whose overrides the schema refuses (Snakemake's validate named neither)."""
    validator = Draft202012Validator(schema)
    for name in config["experiments"]:
        try:
            _check_finite(config["experiments"][name] or {}, "")
        except ConfigError as err:
            raise ConfigError(f"experiments.{name}: {err}") from None
        error = best_match(validator.iter_errors(experiment_config(config, name)))
        if error is None:
            continue
        raise ConfigError(f"experiments.{name}: {_message(error, schema, override=True)}")


def _message(error, schema: dict, override: bool = False) -> str:
    """`<key path>: <what is wrong>`; an unknown key named with its path and the key it is
    closest to, or the keys its section takes; a value of the wrong form with what it takes."""
    path = ".".join(str(p) for p in error.absolute_path)
    # dataset.local, url and kaggle refuse unknown keys as unevaluatedProperties: they take
    # the layout's keys through a $ref, which their own properties extend
    unknown_key = ("additionalProperties", "unevaluatedProperties")
    if error.validator in unknown_key and isinstance(error.instance, dict):
        known = list(_resolved(error.schema, schema).get("properties", {}))
        unknown = [k for k in error.instance if k not in known]
        if known and unknown:
            fix = _unknown_key_fix(str(unknown[0]), known, path, schema, override)
            return f"{f'{path}: ' if path else ''}unknown key '{unknown[0]}'; {fix}"
    if error.validator == "type" and error.instance is None and error.validator_value == "object":
        return _null_section(path, _resolved(error.schema, schema))
    # A pattern alone is a regular expression, not what to write: the key's description says;
    # so for a 0 below an exclusive minimum (meant as "none": split.val_fraction) why it cannot.
    zero = error.validator == "exclusiveMinimum" and error.instance == 0
    what = _description(error, schema) if error.validator == "pattern" or zero else None
    return f"{path or '(top level)'}: {error.message}" + (f"; {what}" if what else "")


def _null_section(path: str, node: dict) -> str:
    """What to write for a section set to null (`train: {patch: null}`, meant as "off"): a
    section is set key by key, so name its keys: `enabled` where it has one, and those that
    take null (train.patch.size: null trains on whole images), for what null means there."""
    keys = node.get("properties", {})
    nullable = [f"{path}.{k}: null" for k, sub in keys.items() if isinstance(sub, dict)
                and "null" in ([sub["type"]] if isinstance(sub.get("type"), str)
                               else sub.get("type", ()))]
    off = f"; {path}.enabled: false turns it off" if "enabled" in keys else ""
    # A top-level section's nullable keys (train.init_from) switch nothing off: not offered.
    take = (f"; of its keys these take null ({', '.join(nullable)}): config/schema.yaml says "
            "what null means for each" if nullable and "." in path else "")
    return (f"{path}: null where a section of keys goes ({', '.join(keys)}): set the key you "
            f"mean{off}{take}; a section left out keeps what another config file sets, else "
            "its defaults")


def _description(error, schema: dict) -> str | None:
    """The description of the schema that refused `error`, else of the key holding it (a
    list's items, e.g. image_extensions' patterned strings, have none of their own)."""
    if error.schema.get("description"):
        return error.schema["description"]
    node, found = schema, None
    for part in error.absolute_path:
        node = _resolved(node, schema)
        node = node.get("items") if isinstance(part, int) else node.get("properties", {}).get(
            part, node.get("additionalProperties"))
        if not isinstance(node, dict):
            return found
        found = node.get("description", found)
    return found


def _unknown_key_fix(key: str, known: list[str], path: str, schema: dict,
                     override: bool = False) -> str:
    """What to write for `key`, unknown at `path`: the key of its level it is a misspelling
    of, or the sections that have a key of that name (`epochs` beside `train:` belongs under
    it), or both; else the keys the level takes. In an experiment's `override`, only the
    sections an experiment overrides."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    places = _places(key, schema)
    if override:
        sections = schema["properties"]["experiments"]["additionalProperties"]["properties"]
        places = [p for p in places if p.split(".")[0] in sections]
    if path.startswith("experiments."):  # an override: only its sections, under its name
        places = [f"{path}.{p}" for p in places if p.split(".")[0] in known]
    elif path:  # a section below this one, if it has the key, is where it goes
        places = [p for p in places if p.startswith(f"{path}.")] or places
    sure = close and difflib.SequenceMatcher(None, key, close[0]).ratio() >= 0.8
    if close and (sure or not places):
        return f"did you mean '{close[0]}'?"
    shown = [p.removeprefix(f"{path}.") if path.startswith("experiments.") else p
             for p in places]
    where = " and ".join([", ".join(shown[:-1]), shown[-1]] if len(shown) > 1 else shown)
    if close and path and not path.startswith("experiments."):
        return f"did you mean '{close[0]}'? It is also a key of {where}"
    if len(places) == 1:
        return f"it is a key of {where}: write it there ({places[0]}.{key})"
    if places:
        return f"it is a key of {where}: write it under the one you mean"
    return f"{path or 'the top level'} takes {', '.join(sorted(known))}"


def _places(key: str, schema: dict, node: dict | None = None, prefix: str = "") -> list[str]:
    """The sections (dotted paths) of the schema with a key named `key`, sorted; the
    experiments' overrides left out (they repeat model, train, predict and crf)."""
    node = _resolved(schema if node is None else node, schema)
    found = [prefix] if prefix and key in node.get("properties", {}) else []
    for name, sub in node.get("properties", {}).items():
        if isinstance(sub, dict) and not (name == "experiments" and not prefix):
            found += _places(key, schema, sub, f"{prefix}.{name}".lstrip("."))
    return sorted(found)


def coerce_numbers(config: dict, schema: dict) -> None:
    """Turn, in place, strings that parse as numbers into numbers where the schema wants a
    number or an integer and takes no string: PyYAML reads 1e-3 as a string (YAML 1.1 wants
    1.0e-3), and `--config train='{lr: 0.01}'` parses nested values as strings, null too: null
    and ~ become None where the schema takes null. Keys that take strings (ids, paths) are
    otherwise left as written. Experiments' overrides follow their sections."""
    _walk(config, schema, schema)
    experiments = config.get("experiments")
    # not a mapping (a list of names, an override that is a list): the schema names the key
    for override in experiments.values() if isinstance(experiments, dict) else ():
        for section, values in override.items() if isinstance(override, dict) else ():
            if section in schema["properties"]:
                _walk(values, schema["properties"][section], schema)


def _resolved(node: dict, root: dict) -> dict:
    """`node` with a local `$ref` (#/$defs/...) merged in, its own properties first."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target = root
    for part in ref[2:].split("/"):
        target = target[part]
    target = _resolved(target, root)
    properties = {**target.get("properties", {}), **node.get("properties", {})}
    return {**target, **node, "properties": properties}


def _walk(value, node: dict, root: dict) -> None:
    node = _resolved(node, root)
    if _branch(value, node, root):
        return
    if isinstance(value, dict):
        extra = node.get("additionalProperties")
        for key, item in value.items():
            sub = node.get("properties", {}).get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                value[key] = _number(item, _resolved(sub, root), root)
                _walk(value[key], sub, root)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, item in enumerate(value):
            value[i] = _number(item, _resolved(node["items"], root), root)
            _walk(value[i], node["items"], root)


def _branch(value, node: dict, root: dict) -> bool:
    """Walk a list (dict) `value` in the anyOf/oneOf branch of `node` it is valid in once
    walked (masks.colors' item: one [r, g, b] or a list of them); True if `node` has such
    branches (then `value` is done), False if it has none."""
    branches = node.get("anyOf", node.get("oneOf"))
    if not branches or not isinstance(value, (list, dict)):
        return False
    for branch in branches:
        trial = copy.deepcopy(value)
        _walk(trial, branch, root)
        if Draft202012Validator({**branch, "$defs": root.get("$defs", {})}).is_valid(trial):
            if isinstance(value, list):
                value[:] = trial
            else:
                value.clear()
                value.update(trial)
            break
    return True


def _number(value, node: dict, root: dict | None = None):
    """`value` as a number (or true/false, or None) if it is a string that parses as one and
    `node` wants a number (a boolean, null), not that string; else `value`. With anyOf or
    oneOf (masks.values' integer or list), the first branch that takes it as one decides."""
    for branch in node.get("anyOf", node.get("oneOf", ())) if isinstance(value, str) else ():
        number = _number(value, _resolved(branch, root or {}), root)
        if number is not value:
            return number
    types = node.get("type")
    types = [types] if isinstance(types, str) else types or []
    if isinstance(value, str) and value in NULLS and "null" in types:
        return None  # a group_by regex, an init_from file or a roi named 'null': meant null
    if isinstance(value, str) and _wants_boolean(value, node, types):
        return value.lower() in BOOLEANS[True]
    if not isinstance(value, str) or "string" in types or not {"number", "integer"} & set(types):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    if not math.isfinite(number):  # nan passes every minimum
        return value
    written_whole = "." not in value and "e" not in value.lower()  # 5, not 5.0 or 1e3
    if number.is_integer() and ("integer" in types or written_whole):
        return int(number)
    return number if "number" in types else value


def _wants_boolean(value: str, node: dict, types: list) -> bool:
    """A YAML boolean word, true or false, yes or no, on or off (--config's nested values),
    where the schema wants a boolean: a key of type boolean, or of [string, boolean] or no
    type whose enum lists true/false but not the string (train.augment.flip: true, false,
    horizontal, vertical)."""
    booleans = "boolean" in types or any(e is True or e is False for e in node.get("enum", ()))
    if not booleans or value.lower() not in BOOLEANS[True] + BOOLEANS[False]:
        return False
    return "string" not in types or ("enum" in node and value not in node["enum"])
