#!/usr/bin/env bash
# Mutation testing with mutmut (configured in pyproject.toml [tool.mutmut]).
#
#   bench/mutation.sh                         every configured module, the whole fast lane
#   bench/mutation.sh core/metrics.py tests/core/test_metrics.py
#                                             one module, only the tests named (any pytest
#                                             args: --deselect a wall-clock-bound test)
#   bench/mutation.sh --recheck core/metrics.py tests/core/test_new.py
#                                             after writing tests: run only those tests against
#                                             that module's survivors (bench/mutation_recheck.py)
#   bench/mutation.sh --tui tui/widgets/metrics/spark.py tests/tui/test_spark.py
#                                             a widget module: its tests are in the TUI lane
#                                             (tests/tui/ is marked `tui`), which the fast
#                                             lane's `-m "not tui and not engine"` deselects
#
# It works in a scratch copy per module (.mutation/<module>/, git-ignored) so the worktree
# never holds mutants/ and one module's verdicts survive the next module's run. The test
# selection is narrowed there: on a loaded 2-core machine the whole fast lane per mutant
# is too slow. mutmut itself runs, per mutant, only the selected tests that call the
# mutated function, fastest first, stopping at the first failure.
# Prints "killed/total (score %)" per module, then each survivor and its diff line.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
mutmut="$(dirname "$py")/mutmut"
recheck=0
lanes=fast
if [ "${1:-}" = "--tui" ]; then lanes=all; shift; fi
if [ "${1:-}" = "--recheck" ]; then recheck=1; shift; fi
module=${1:-}
[ $# -gt 0 ] && shift
tests=("$@")
slug=${module:-all}
slug=${slug//\//_}
work=${MUTATION_DIR:-$root/.mutation/${slug%.py}}

select_tests() {  # $1: pyproject.toml; $2: "replace"; then the module and the tests
"$py" - "$@" <<'PY'
import json, re, sys
path, mode, module, tests = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
text = open(path, encoding="utf-8").read()
if module:
    text = re.sub(r"^only_mutate = .*$", "only_mutate = " + json.dumps([module]), text, flags=re.M)
if tests:
    line = re.search(r"^pytest_add_cli_args_test_selection = (.*)$", text, flags=re.M)
    chosen = tests if mode == "replace" else json.loads(line.group(1)) + tests
    text = text.replace(line.group(0), "pytest_add_cli_args_test_selection = " + json.dumps(chosen))
open(path, "w", encoding="utf-8").write(text)
PY
}

verdicts() {  # $1: "score" prints killed/total per module; "diffs" each survivor's changed lines
"$py" - "$1" <<'PY'
import ast, difflib, json, pathlib, sys
KILLED = {1, 3}
# mutmut counts a timeout (36, ±24, 152, 255) as killed too: the mutant made the tests
# hang, which pytest-timeout fails in a real run.
TIMEOUT = {36, 24, -24, 152, 255}
for meta in sorted(pathlib.Path("mutants").rglob("*.py.meta")):
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    if not codes:
        continue
    survivors = [name for name, code in codes.items() if code == 0]
    if sys.argv[1] == "diffs":
        # From the mutants file itself: `mutmut show` per survivor takes seconds each.
        source = meta.with_suffix("").read_text()
        functions = {node.name: ast.get_source_segment(source, node) or "" for node in ast.walk(ast.parse(source))
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for name in survivors:
            mutant = name.rsplit(".", 1)[1]
            original = functions.get(mutant.rsplit("__mutmut_", 1)[0] + "__mutmut_orig", "")
            print(f"  survived: {name}")
            for line in difflib.unified_diff(original.splitlines()[1:], functions.get(mutant, "").splitlines()[1:],
                                             lineterm="", n=0):
                if line[:1] in "+-" and line[:3] not in ("+++", "---"):
                    print("      " + line[0] + " " + line[1:].strip())
        continue
    killed = sum(1 for c in codes.values() if c in KILLED or c in TIMEOUT)
    other = len(codes) - killed - len(survivors)
    module = str(meta.relative_to("mutants"))[: -len(".meta")]
    print(f"{module:45} {killed:4}/{len(codes):<4} killed ({100 * killed / len(codes):5.1f} %)"
          f"  {len(survivors)} survived, {other} no tests/not checked")
PY
}

if [ "$recheck" = 1 ]; then
  [ -d "$work/mutants" ] || { echo "no earlier run in $work: run without --recheck first" >&2; exit 1; }
  # Only the new tests, against only the survivors: see bench/mutation_recheck.py.
  "$py" "$root/bench/mutation_recheck.py" "$work" "${tests[@]}"
  cd "$work"
else
  mkdir -p "$work"
  rm -rf "$work/mutants"
  for part in core tui tests pyproject.toml; do
    rm -rf "${work:?}/$part"
    cp -r "$root/$part" "$work/$part"
  done
  find "$work" -name __pycache__ -prune -exec rm -rf {} +
  # tests/conftest.py calls core.providers.http.import_sdks() as it is imported: with
  # http.py mutated, mutmut's forced-fail check (every mutated function raises) fails the
  # conftest's import, pytest exits 4 and mutmut aborts the run. In the copy the call may
  # fail; the tests that use the SDKs still call the mutated code.
  sed -i 's/^import_sdks()$/try:\n    import_sdks()\nexcept Exception:  # see bench\/mutation.sh\n    pass/' "$work/tests/conftest.py"
  select_tests "$work/pyproject.toml" replace "$module" "${tests[@]}"
  # Only in the copy: the tests named are the selection, whatever lane they are in.
  if [ "$lanes" = all ]; then
    sed -i 's/^pytest_add_cli_args = \["-m", "not tui and not engine", /pytest_add_cli_args = [/' "$work/pyproject.toml"
    grep -q '^pytest_add_cli_args = \["-p"' "$work/pyproject.toml" || { echo "--tui: no lane filter to drop in $work/pyproject.toml" >&2; exit 1; }
  fi
  cd "$work"
  "$mutmut" run --max-children "${MUTMUT_CHILDREN:-2}" > mutmut-run.log 2>&1 || {
    echo "mutmut run failed; see $work/mutmut-run.log" >&2; tail -n 20 mutmut-run.log >&2; exit 1; }
fi

verdicts score
verdicts diffs
