"""One way to configure every stage: dataclass fields, set by a YAML recipe, then by `--field value` options.

    tritonforge data build --config tiny --out out/tiny --synth_train 100
    tritonforge sft --config tiny --max_steps 5
    tritonforge eval --config my_eval.yaml --limit 8

Why one module: an option has one spelling in every stage, and a recipe is found from an installed package
as well as from a source checkout. Every stage gets the same three rules:

* `--config NAME|PATH`: an existing file is used as is; otherwise NAME picks the stage's recipe shipped
  inside the package (stagekit/recipes/STAGE/NAME.yaml), so a plain `pip install` has them too.
* Recipe keys and options are the dataclass field names (TRL/HF style, underscores); an option overrides
  the recipe. TRL's own parser does the work, exactly as for the SFT and GRPO trainer configs.
* Anything unusable (unknown recipe or key, a value of the wrong type) is a `ConfigError`: one line,
  exit 2 from `tritonforge`.

Recipe values are typed here (`typed_recipe`), for every stage: TRL's parser makes them argparse defaults,
and argparse converts only defaults that are strings, so a YAML `max_steps: 1.5` or `synth_train: 1.5`
would reach an int field as a float, and `synth_kinds: matmul` a list field as a string.

TRL is imported only when a stage's options are parsed (registering subcommands stays cheap).
"""

from __future__ import annotations

import argparse
import dataclasses as dc
import functools
import os
import sys
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from stagekit.errors import ConfigError, UserError

# Packaged recipes: stagekit/recipes/<stage>/<name>.yaml (declared as package data in pyproject.toml).
RECIPES_DIR = Path(__file__).resolve().parent / "recipes"
HELP_FLAGS = ("-h", "--help")


def available_recipes(stage: str | None) -> list[str]:
    """Names of the recipes shipped for `stage` (data, sft, grpo); empty for a stage without recipes."""
    folder = RECIPES_DIR / stage if stage else None
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder and folder.is_dir() else []


def resolve_recipe(stage: str | None, value: str | os.PathLike[str]) -> Path:
    """The recipe file `--config value` means for `stage`: an existing path, else a packaged recipe name.

    A path wins over a name so that a local `tiny.yaml` is never silently replaced by the packaged one.
    """
    path = Path(value).expanduser()
    if path.is_file():
        return path
    name = str(value).removesuffix(".yaml")
    names = available_recipes(stage)
    if name in names:
        return RECIPES_DIR / str(stage) / f"{name}.yaml"
    if not names:
        raise ConfigError(f"--config {value}: no such file (no {stage or 'packaged'} recipes ship with tritonforge)")
    raise ConfigError(f"--config {value}: no such file, and not a recipe name (packaged {stage} recipes: "
                      f"{', '.join(names)})")


def read_recipe(path: Path) -> dict[str, Any]:
    """The key: value mapping of a YAML recipe; a malformed file is one ConfigError line."""
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as e:
        raise ConfigError(f"{path}: cannot read recipe ({e.strerror or e})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: a recipe must be a mapping of key: value")
    return loaded


def _field_types(dataclasses: Sequence[type]) -> dict[str, Any]:
    """Field name -> resolved type hint, over the stage's dataclasses (string annotations resolved)."""
    out: dict[str, Any] = {}
    for cls in dataclasses:
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # a hint that does not resolve: such a field is left to its dataclass
            hints = {}
        for f in dc.fields(cls):
            if f.init and f.name in hints:
                out.setdefault(f.name, hints[f.name])
    return out


def _typed(key: str, value: Any, hint: Any) -> Any:
    """One recipe value checked and converted to `hint`, as argparse converts an option's string. Only the
    plain types (bool, int, float, str, a list of them, optional or not) are checked: other hints (enums,
    unions of several types, dicts) are left to the dataclass, as TRL leaves them."""
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{key}: expected {expected}, got {value!r}")

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _typed(key, value, inner[0]) if len(inner) == 1 else value
    if origin is list or hint is list:
        if isinstance(value, str):
            value = [value]  # one item, as `--field value` gives
        if not isinstance(value, list):
            raise bad("a list")
        return [_typed(key, v, args[0]) for v in value] if args else value
    if hint is bool:
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        if not isinstance(value, bool):
            raise bad("true/false")
        return value
    if hint in (int, float):
        if isinstance(value, bool):
            raise bad("a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise bad(hint.__name__) from None
        if hint is int and not number.is_integer():
            raise bad("an integer")
        return int(number) if hint is int else number
    if hint is str:
        if value is None or isinstance(value, (dict, list)):
            raise bad("a string")
        return str(value)
    return value


def typed_recipe(dataclasses: Sequence[type], recipe: dict[str, Any], where: str) -> dict[str, Any]:
    """The recipe with each value of a field converted to the field's type; a value that cannot be is one
    ConfigError line naming `where` and the key. Keys of no field stay as they are (reported as unknown)."""
    hints = _field_types(dataclasses)
    return {k: _typed(f"{where}: {k}", v, hints[k]) if k in hints else v for k, v in recipe.items()}


@functools.cache
def _parser_class() -> type:
    """TRL's parser with argparse's exit-on-error replaced by a ConfigError (one line, the caller's exit code)."""
    from trl import TrlParser

    class StageParser(TrlParser):
        def error(self, message: str) -> Any:  # argparse would print the usage and exit itself
            raise ConfigError(f"{self.prog}: {message}")

    return StageParser


def stage_parser(dataclasses: Sequence[type], prog: str, stage: str | None = None,
                 description: str | None = None) -> argparse.ArgumentParser:
    """The parser of one stage's options; its help also says how `--config` is resolved for `stage`."""
    names = available_recipes(stage) if stage else []
    epilog = ("--config NAME|PATH: a YAML recipe over the fields above (" +
              (f"packaged: {', '.join(names)}" if names else "a file path") + "); options given after it win.")
    return _parser_class()(list(dataclasses), prog=prog, description=description, epilog=epilog,
                           allow_abbrev=False)


def _split_config(argv: list[str]) -> tuple[str | None, list[str]]:
    """(the --config value, the other arguments); `--config=X` is accepted too."""
    rest: list[str] = []
    value: str | None = None
    it = iter(argv)
    for arg in it:
        if arg == "--config":
            value = next(it, None)
            if value is None:
                raise ConfigError("--config needs a recipe name or a YAML file path")
        elif arg.startswith("--config="):
            value = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return value, rest


def parse_config(dataclasses: Sequence[type], argv: Iterable[str], *, prog: str, stage: str | None = None,
                 leading: str | None = None) -> tuple[Any, ...]:
    """Instances of `dataclasses` from `--config NAME|PATH` (optional) plus `--field value` options.

    `stage` names the packaged recipe folder (data, sft, grpo); `leading` is a list/str field that may also
    be given as the first, positional arguments (`eval compare DIR1 DIR2`, `generate REF.py`).
    """
    config, args = _split_config(list(argv))
    if leading and args and not args[0].startswith("-"):
        args.insert(0, f"--{leading}")
    parser = stage_parser(dataclasses, prog, stage)
    if config is not None:
        path = resolve_recipe(stage, config)
        recipe = read_recipe(path)
        env = recipe.pop("env", {})  # TRL's convention: environment variables a recipe needs
        if not isinstance(env, dict):
            raise ConfigError(f"{path}: env must be a mapping of NAME: value")
        os.environ.update({str(k): str(v) for k, v in env.items()})
        unknown = parser.set_defaults_with_config(**typed_recipe(dataclasses, recipe, str(path)))  # type: ignore[attr-defined]
        if unknown:
            keys = ", ".join(a.removeprefix("--") for a in unknown[::2])
            raise ConfigError(f"{path}: unknown key(s) {keys} (`{prog} --help` lists the valid ones)")
    try:
        parsed = parser.parse_args_into_dataclasses(args=args, return_remaining_strings=True)  # type: ignore[attr-defined]
    except UserError:  # ConfigError, or a stage's own error from a dataclass's __post_init__: as raised
        raise
    except (ValueError, TypeError) as e:  # a trainer config's own validation (TRL, transformers)
        raise ConfigError(f"{prog}: bad configuration: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    *objs, remaining = parsed
    if remaining:
        raise ConfigError(f"{prog}: unknown option(s) {' '.join(remaining)} (`{prog} --help` lists the valid ones)")
    return tuple(objs)


def add_stage_command(subparsers: argparse._SubParsersAction, name: str, *, help: str,
                      run: Callable[[list[str]], int], show_help: Callable[[list[str]], None],
                      description: str | None = None) -> argparse.ArgumentParser:
    """A subcommand whose arguments all go, unparsed, to `run(argv)` (which parses them with `parse_config`).

    argparse only routes: with no option prefix of its own ("+"), it cannot reject `--max_steps` as
    unknown, and `--help` reaches `show_help(argv)`, which prints the fields of the dataclasses.
    """
    p = subparsers.add_parser(name, help=help, description=description or help, add_help=False, prefix_chars="+")
    p.add_argument("args", nargs=argparse.REMAINDER, help="--config RECIPE, then options: --field value ...")

    def dispatch(ns: argparse.Namespace) -> int:
        argv = list(ns.args)
        if any(a in HELP_FLAGS for a in argv):
            show_help(argv)
            return 0
        return run(argv)

    p.set_defaults(func=dispatch)
    return p


def run_standalone(register: Callable[[argparse._SubParsersAction], Any], argv: list[str] | None = None) -> int:
    """A stage module run as a script (`python -m eval.cli ...`, `accelerate launch -m grpo.cli ...`): the
    `tritonforge` dispatch and its one-line error handling, with only that stage's commands registered."""
    from stagekit.errors import exit_code

    parser = argparse.ArgumentParser(prog="tritonforge")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return exit_code(lambda: args.func(args))


def print_stage_help(dataclasses: Sequence[type], prog: str, stage: str | None = None,
                     description: str | None = None) -> None:
    """`--help` of a stage: every field, its default and its help text, then how --config is resolved."""
    stage_parser(dataclasses, prog, stage, description).print_help(sys.stdout)
