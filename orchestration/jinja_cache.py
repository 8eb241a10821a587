"""Compiled Jinja templates kept between dbt runs, as Python keeps compiled modules in `__pycache__`.

dbt compiles every macro and node it renders from its Jinja source to Python code,
in every run: 220-odd templates per build of this project, 1.2 s of the build's
single busy core (dbt's threads share one interpreter). The sources hardly ever
change between runs, so the code objects are kept in one file under
`dbt_project/target/` and reused whenever the same source is compiled by an
environment configured the same way: the key is the source, the template's name
and file name, and every environment setting that changes the generated code.
Jinja's own bytecode cache (`jinja2.BytecodeCache`) does the same for templates
loaded from files; dbt builds its templates from strings, which that cache never
sees, hence this.

The file is ignored when it was written by another Python or Jinja version, or
cannot be read; `DBT_MACRO_DEBUGGING` (dbt's own debugging aid, which works at
compile time) turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2

from ingestion.atomic import replacing

FORMAT = b"sms-jinja-code-1"
_KEEP_AT_MOST = 5000  # entries; past that, only those of the latest run are kept


def _version() -> bytes:
    """What the code objects depend on besides their key: the interpreter and Jinja."""
    return b"|".join([FORMAT, importlib.util.MAGIC_NUMBER, jinja2.__version__.encode()])


def key(
    env: jinja2.Environment, source: str, name: str | None, filename: str | None, defer_init: bool
) -> str:
    """What identifies one compiled template: its source, names and the settings that shape the code."""
    settings = (
        f"{type(env).__module__}.{type(env).__qualname__}",
        f"{env.code_generator_class.__module__}.{env.code_generator_class.__qualname__}",
        sorted(env.extensions),
        env.autoescape if isinstance(env.autoescape, bool) else repr(env.autoescape),
        env.finalize is not None,
        env.optimized,
        env.is_async,
        env.block_start_string, env.block_end_string,
        env.variable_start_string, env.variable_end_string,
        env.comment_start_string, env.comment_end_string,
        env.line_statement_prefix, env.line_comment_prefix,
        env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
    )  # fmt: skip
    text = repr((settings, source, name, filename, defer_init))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class CodeCache:
    """Code objects by `key`, read from and written back to one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: dict[str, CodeType] = self._read(path)
        self.used: set[str] = set()
        self.compiled = 0  # templates this process had to compile

    @staticmethod
    def _read(path: Path) -> dict[str, CodeType]:
        try:
            header, entries = marshal.loads(path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):  # absent, cut short, not ours
            return {}
        return entries if header == _version() and isinstance(entries, dict) else {}

    def compile(self, original: Any, env: jinja2.Environment, source: str, *args: Any) -> CodeType:
        name, filename, defer_init = args
        k = key(env, source, name, filename, defer_init)
        self.used.add(k)
        code = self.known.get(k)
        if code is None:
            code = self.known[k] = original(env, source, name, filename, False, defer_init)
            self.compiled += 1
        return code

    def save(self) -> None:
        """Write the file back (atomically) when this process compiled anything new."""
        if not self.compiled:
            return
        entries = self.known
        if len(entries) > _KEEP_AT_MOST:
            entries = {k: v for k, v in entries.items() if k in self.used}
        # another build saving at once: the last one wins; a cache that cannot be written
        # is only slower next time
        with contextlib.suppress(OSError), replacing(self.path) as tmp:
            tmp.write_bytes(marshal.dumps((_version(), entries)))


def install(path: Path) -> CodeCache | None:
    """Make every Jinja environment of this process compile through a cache kept at `path`."""
    if os.environ.get("DBT_MACRO_DEBUGGING"):
        return None
    cache = CodeCache(path)
    original = jinja2.Environment.compile

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):  # noqa: ANN001, ANN202, A001
        if raw or not isinstance(source, str):  # Python source text, or an already parsed tree
            return original(self, source, name, filename, raw, defer_init)
        return cache.compile(original, self, source, name, filename, defer_init)

    jinja2.Environment.compile = compile  # type: ignore[method-assign]
    return cache
