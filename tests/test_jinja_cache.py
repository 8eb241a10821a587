"""Compiled Jinja kept between dbt runs: same answers, compiled once, never reused across settings or versions."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path

import jinja2
import jinja2.sandbox

from orchestration import jinja_cache
from orchestration.jinja_cache import CodeCache

MACRO = "{% macro greet(who) %}hello {{ who | upper }}{% endmacro %}{{ greet(name) }}"
# dbt renames macros as it parses, so its templates call none of their own
DBT_SOURCE = "{% if name %}hello {{ name | upper }}{% endif %}"


def _render(cache: CodeCache, env: jinja2.Environment, source: str = MACRO, **values: str) -> str:
    code = cache.compile(jinja2.Environment.compile, env, source, None, None, False)
    return env.template_class.from_code(env, code, env.make_globals(None), None).render(**values)


def test_a_template_is_compiled_once_and_renders_as_jinja_does(tmp_path: Path) -> None:
    cache = CodeCache(tmp_path / "code.marshal")
    env = jinja2.Environment()
    expected = env.from_string(MACRO).render(name="ann")
    assert _render(cache, env, name="ann") == expected == "hello ANN"
    assert _render(cache, jinja2.Environment(), name="bob") == "hello BOB"  # a new env, same settings
    assert cache.compiled == 1


def test_the_next_process_reuses_what_this_one_saved(tmp_path: Path) -> None:
    path = tmp_path / "target" / "code.marshal"
    first = CodeCache(path)
    _render(first, jinja2.Environment(), name="ann")
    first.save()
    written = path.stat().st_mtime_ns
    second = CodeCache(path)
    assert _render(second, jinja2.Environment(), name="cy") == "hello CY"
    assert second.compiled == 0
    second.save()  # nothing new: the file is not rewritten
    assert path.stat().st_mtime_ns == written and not list(path.parent.glob(".*.tmp"))


def test_other_settings_or_sources_are_other_entries() -> None:
    plain = jinja2.Environment()
    others = [
        jinja2.sandbox.SandboxedEnvironment(),  # another class: another code generator may apply
        jinja2.Environment(extensions=["jinja2.ext.do"]),
        jinja2.Environment(variable_start_string="[[", variable_end_string="]]"),
        jinja2.Environment(trim_blocks=True),
        jinja2.Environment(autoescape=True),
    ]
    keys = {jinja_cache.key(env, MACRO, None, None, False) for env in [plain, *others]}
    assert len(keys) == 1 + len(others)
    assert jinja_cache.key(plain, MACRO + " ", None, None, False) != jinja_cache.key(
        plain, MACRO, None, None, False
    )
    assert jinja_cache.key(plain, MACRO, "a.sql", None, False) != jinja_cache.key(
        plain, MACRO, None, None, False
    )


def test_a_damaged_or_foreign_file_is_ignored(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.marshal"
    damaged.write_bytes(b"\x00not marshal at all")
    foreign = tmp_path / "foreign.marshal"
    code = jinja2.Environment().compile(MACRO)
    foreign.write_bytes(marshal.dumps((b"another python|another jinja", {"k": code})))
    for path in (damaged, foreign, tmp_path / "absent.marshal"):
        cache = CodeCache(path)
        assert cache.known == {}
        assert _render(cache, jinja2.Environment(), name="di") == "hello DI"


def _dbt_render_twice(path: Path, env: dict[str, str] | None = None) -> list[str]:
    """dbt's own template function in two fresh processes with the cache installed; (output, compiled) each."""
    code = (
        "import sys; from pathlib import Path\n"
        "from orchestration import jinja_cache\n"
        "cache = jinja_cache.install(Path(sys.argv[1]))\n"
        "from dbt_common.clients.jinja import get_template\n"
        f"out = get_template({DBT_SOURCE!r}, {{}}).render({{'name': 'dbt'}})\n"
        "print(out, cache.compiled if cache else 'off')\n"
        "cache and cache.save()\n"
    )
    return [
        subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True, env=env
        ).stdout.strip()
        for _ in range(2)
    ]


def test_dbt_templates_compile_once_across_processes(tmp_path: Path) -> None:
    assert _dbt_render_twice(tmp_path / "code.marshal") == ["hello DBT 1", "hello DBT 0"]


def test_dbt_macro_debugging_turns_the_cache_off(tmp_path: Path) -> None:
    env = os.environ | {"DBT_MACRO_DEBUGGING": "1"}
    assert _dbt_render_twice(tmp_path / "code.marshal", env) == ["hello DBT off", "hello DBT off"]
    assert not (tmp_path / "code.marshal").exists()
