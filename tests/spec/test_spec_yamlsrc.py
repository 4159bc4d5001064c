"""YAML loading with line tracking: every failure is a ConfigError naming the file and line."""

from __future__ import annotations

from pathlib import Path

from emulator.spec.yamlsrc import close_match_hint, format_path, load_yaml, parse_yaml


def test_lines_of_keys_and_list_items(write):
    path = write("a.yaml", """\
        top: 1
        nested:
          inner: {a: 1, b: 2}
        items:
          - name: x
            value: 3
          - y
        """)
    doc = load_yaml(path)
    assert doc.data == {
        "top": 1, "nested": {"inner": {"a": 1, "b": 2}}, "items": [{"name": "x", "value": 3}, "y"],
    }
    assert doc.lines[("top",)] == 1
    assert doc.lines[("nested", "inner", "b")] == 3
    assert doc.lines[("items", 0)] == 5
    assert doc.lines[("items", 0, "value")] == 6
    assert doc.lines[("items", 1)] == 7
    assert doc.line_for(("nested", "inner", "missing")) == 3
    assert doc.line_for(("nowhere",)) == 1


def test_format_path():
    assert format_path(("mappings", 0, "batch_size")) == "mappings[0].batch_size"
    assert format_path(("a", "b", 2, 3)) == "a.b[2][3]"
    assert format_path(()) == ""


def test_keys_are_kept_as_written(write):
    doc = load_yaml(write("a.yaml", "on: 1\n1: yes\nnull: x\n"))
    assert doc.data == {"on": 1, "1": True, "null": "x"}


def test_scalars_keep_yaml_types(write):
    doc = load_yaml(write("a.yaml", "i: 3\nf: 1.5\nb: true\nn: null\nd: 2024-01-01T00:00:00Z\ns: '3'\n"))
    assert doc.data["i"] == 3 and doc.data["f"] == 1.5 and doc.data["b"] is True and doc.data["n"] is None
    assert doc.data["d"].year == 2024 and doc.data["s"] == "3"


def test_malformed_yaml_names_file_and_line(write, expect_error):
    path = write("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n")
    err = expect_error(lambda: load_yaml(path), file=path, message="invalid YAML", hint="indentation")
    assert err.line in (2, 3)


def test_tab_indentation_has_a_hint(write, expect_error):
    path = write("tabs.yaml", "a:\n\tb: 1\n")
    expect_error(lambda: load_yaml(path), line=2, message="invalid YAML", hint="tab")


def test_duplicate_key_names_key_and_line(write, expect_error):
    path = write("dup.yaml", "streams:\n  clicks: {}\n  clicks: {shards: 2}\n")
    expect_error(lambda: load_yaml(path), line=3, key="streams.clicks", message="duplicate key 'clicks'",
                 hint="once")


def test_duplicate_key_inside_list_item(write, expect_error):
    path = write("dup.yaml", "mappings:\n  - source: a\n    function: f\n    source: b\n")
    expect_error(lambda: load_yaml(path), line=4, key="mappings[0].source", message="duplicate key")


def test_merge_keys_may_override(write):
    doc = load_yaml(write("m.yaml", "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n"))
    assert doc.data["use"] == {"x": 1, "y": 3}


def test_top_level_list_is_refused(write, expect_error):
    path = write("list.yaml", "- a\n- b\n")
    expect_error(lambda: load_yaml(path), line=1, message="a list", hint="mapping")


def test_top_level_scalar_is_refused(write, expect_error):
    expect_error(lambda: load_yaml(write("s.yaml", "just text\n")), message="single value")


def test_empty_file_is_refused(write, expect_error):
    expect_error(lambda: load_yaml(write("e.yaml", "# nothing\n")), line=1, message="empty")


def test_two_documents_are_refused(write, expect_error):
    expect_error(lambda: load_yaml(write("two.yaml", "a: 1\n---\nb: 2\n")), message="invalid YAML",
                 hint="one YAML document")


def test_unknown_tag_is_refused(write, expect_error):
    expect_error(lambda: load_yaml(write("t.yaml", "a: !!python/name:os.system x\n")), line=1,
                 message="invalid YAML")
    expect_error(lambda: load_yaml(write("t2.yaml", "a: !!set {x: null}\n")), line=1, key="a",
                 message="unsupported YAML tag")


def test_recursive_alias_is_refused(write, expect_error):
    expect_error(lambda: load_yaml(write("r.yaml", "a: &x [1, *x]\n")), message="refers to itself")


def test_complex_key_is_refused(write, expect_error):
    expect_error(lambda: load_yaml(write("k.yaml", "? [a, b]\n: 1\n")), message="key must be a plain value")


def test_missing_file(tmp_path: Path, expect_error):
    missing = tmp_path / "nope.yaml"
    expect_error(lambda: load_yaml(missing, what="pipeline file"), file=missing,
                 message="pipeline file not found", hint="relative to the current directory")


def test_directory_lists_yaml_files(tmp_path: Path, write, expect_error):
    write("dir/pipeline.yaml", "a: 1\n")
    expect_error(lambda: load_yaml(tmp_path / "dir"), message="is not a file", hint="pipeline.yaml")


def test_non_utf8_file(tmp_path: Path, expect_error):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: caf\xe9\n".encode("latin-1"))
    expect_error(lambda: load_yaml(path), message="not UTF-8")


def test_parse_yaml_from_text():
    doc = parse_yaml("a:\n  b: 1\n", file="inline.yaml")
    assert doc.data == {"a": {"b": 1}} and doc.lines[("a", "b")] == 2 and doc.file == Path("inline.yaml")


def test_close_match_hint():
    assert close_match_hint("batchsize", ["batch_size", "enabled"], list_with_match=False) == (
        "did you mean 'batch_size'?"
    )
    assert close_match_hint("zzz", ["a", "b"], what="allowed keys") == "allowed keys: a, b"
    assert close_match_hint("x", []) is None


def test_scalar_that_yaml_cannot_build(write, expect_error):
    path = write("d.yaml", "a:\n  when: 2024-13-45\n")
    expect_error(lambda: load_yaml(path), line=2, key="a.when", message="month must be in 1..12",
                 hint="quote it")
