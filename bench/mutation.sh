#!/usr/bin/env bash
# Mutation testing with mutmut (configured in pyproject.toml [tool.mutmut]).
#
#   bench/mutation.sh                         every configured module, the whole fast lane
#   bench/mutation.sh core/metrics.py tests/core/test_metrics.py
#                                             one module, only the tests named after it
#
# It works in a scratch copy (.mutation/, git-ignored) so the worktree never holds
# mutants/, and narrows [tool.mutmut] there when a module is given: on a loaded 2-core
# machine the whole fast lane per mutant is too slow for one module at a time.
# Prints "killed/total (score %)" per module; survivors are listed by
# `cd .mutation && ../.venv/bin/mutmut results` and shown by `mutmut show NAME`.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=${MUTATION_DIR:-$root/.mutation}
py=${PYTHON:-$root/.venv/bin/python}
module=${1:-}
[ $# -gt 0 ] && shift
tests=("$@")

mkdir -p "$work"
rm -rf "$work/mutants"
for part in core tui tests pyproject.toml; do
  rm -rf "${work:?}/$part"
  cp -r "$root/$part" "$work/$part"
done
find "$work" -name __pycache__ -prune -exec rm -rf {} +

"$py" - "$work/pyproject.toml" "$module" "${tests[@]}" <<'PY'
import json, re, sys
path, module, tests = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(path, encoding="utf-8").read()
if module:
    text = re.sub(r"^only_mutate = .*$", "only_mutate = " + json.dumps([module]), text, flags=re.M)
if tests:
    text = re.sub(r"^pytest_add_cli_args_test_selection = .*$",
                  "pytest_add_cli_args_test_selection = " + json.dumps(tests), text, flags=re.M)
open(path, "w", encoding="utf-8").write(text)
PY

cd "$work"
"$(dirname "$py")/mutmut" run --max-children "${MUTMUT_CHILDREN:-2}" > mutmut-run.log 2>&1 || {
  echo "mutmut run failed; see $work/mutmut-run.log" >&2; tail -n 20 mutmut-run.log >&2; exit 1; }

# Each mutated file's verdicts sit in mutants/<path>.meta as {"exit_code_by_key": {name: code}};
# mutmut counts exit code 1 or 3 as killed, and a timeout (36, ±24, 152, 255) as killed too
# (the mutant made the tests hang, which fails them under pytest-timeout in a real run).
"$py" - <<'PY'
import json, pathlib
KILLED = {1, 3}
TIMEOUT = {36, 24, -24, 152, 255}
for meta in sorted(pathlib.Path("mutants").rglob("*.py.meta")):
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    if not codes:
        continue
    killed = sum(1 for c in codes.values() if c in KILLED or c in TIMEOUT)
    survived = sum(1 for c in codes.values() if c == 0)
    other = len(codes) - killed - survived
    module = str(meta.relative_to("mutants"))[: -len(".meta")]
    print(f"{module:45} {killed:4}/{len(codes):<4} killed ({100 * killed / len(codes):5.1f} %)"
          f"  {survived} survived, {other} no tests/not checked")
PY
