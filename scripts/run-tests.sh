#!/usr/bin/env bash
# Runs every check of `make test` and ends with one line counting them:
#   N passed, N failed
# A pytest suite counts each of its tests; every other step (a linter, a
# molecule converge, an idempotence run) counts as one check. Full logs go
# to .cache/logs/; a failing step prints its tail.
#
#   scripts/run-tests.sh [lint] [app] [molecule] [SCENARIO...]   (default: all)
#
# `molecule` runs the scenarios side by side (SERIAL=1: one after the other).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
LOGS="$ROOT/.cache/logs"
RESULTS="$ROOT/.cache/results"
mkdir -p "$LOGS" "$RESULTS"
export FLASKY_TEST_LOG_DIR="$LOGS"   # test_secrets.py reads the converge output
rm -f "$RESULTS"/*.xml "$RESULTS"/*.counts
PASSED=0
FAILED=0
FAILED_STEPS=()

# Count a junit XML file's tests into the totals. A report that cannot be
# read (missing, empty, cut short, not JUnit, no test in it) is one failure:
# a test run that crashed before writing its report must never look clean.
count_junit() {
  local xml=$1 out t f e s
  if ! out=$(python3 - "$xml" 2>&1 <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
    if root.tag not in ("testsuite", "testsuites"):
        raise ValueError(f"root element <{root.tag}> is not JUnit")
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tot = [sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")]
    if tot[0] == 0:
        raise ValueError("it holds no test")
except Exception as exc:  # any unreadable report: say why, count a failure
    sys.exit(f"{type(exc).__name__}: {exc}")
print(*tot)
PY
); then
    REPORT_PROBLEM="unreadable report $xml (counted as 1 failure): $out"
    FAILED=$((FAILED + 1))
    return 1
  fi
  read -r t f e s <<<"$out"
  PASSED=$((PASSED + t - f - e - s))
  FAILED=$((FAILED + f + e + s))   # a skipped check proves nothing: it counts as failed
  [ $((f + e + s)) = 0 ]
}

# step NAME JUNIT_XML_OR_- COMMAND...
step() {
  local name=$1 xml=$2; shift 2
  local log="$LOGS/$name.log" start rc
  start=$(date +%s)
  printf '==> %-40s ' "$name"
  "$@" >"$log" 2>&1
  rc=$?
  local failed_before=$FAILED report_ok=0
  REPORT_PROBLEM=
  if [ "$xml" != - ]; then
    count_junit "$xml" || report_ok=1
  elif [ $rc = 0 ]; then
    PASSED=$((PASSED + 1))
  fi
  # A failing step adds at least one failure whatever its report says (a
  # crash after a green report, a report from tests that never ran).
  [ $rc != 0 ] && [ "$FAILED" = "$failed_before" ] && FAILED=$((FAILED + 1))
  [ $rc = 0 ] && [ $report_ok != 0 ] && rc=report
  printf '%s (%ss)\n' "$([ $rc = 0 ] && echo ok || echo FAILED)" "$(( $(date +%s) - start ))"
  [ -z "$REPORT_PROBLEM" ] || echo "    $REPORT_PROBLEM"
  if [ $rc != 0 ]; then
    FAILED_STEPS+=("$name")
    echo "---- last lines of $log ----"
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -v '^\s*│\?\s*$' | tail -n "${TAIL_LINES:-150}"
    echo "---- end of $log ----"
  fi
  return 0
}

last_failed() {
  [ ${#FAILED_STEPS[@]} -gt 0 ] && [ "${FAILED_STEPS[${#FAILED_STEPS[@]}-1]}" = "$1" ]
}

scenario_has_check() {
  python3 -c 'import sys, yaml; sys.exit(0 if "check" in (yaml.safe_load(open(sys.argv[1])).get("scenario") or {}).get("test_sequence", []) else 1)' \
    "molecule/$1/molecule.yml"
}

molecule_scenario() {
  local s=$1
  # Leftover hosts of an earlier run (interrupted, or kept) would hide a
  # broken create or a first-run-only bug: always start from fresh hosts.
  molecule destroy -s "$s" >"$LOGS/molecule-$s-cleanup.log" 2>&1 || true
  # Each stage is its own check, so a failure says where. A stage whose
  # prerequisite failed does not run, and counts as failed.
  local ok=0
  step "molecule-$s-create" - molecule create -s "$s"
  last_failed "molecule-$s-create" && ok=1
  # Check mode on the fresh hosts (a scenario opts in with `check` in its
  # test_sequence): site.yml --check --diff may report changes, never fail.
  if [ $ok = 0 ] && scenario_has_check "$s"; then
    step "molecule-$s-check" - molecule converge -s "$s" -- --check --diff
  fi
  if [ $ok = 0 ]; then
    step "molecule-$s-converge" - molecule converge -s "$s"
    last_failed "molecule-$s-converge" && ok=1
  fi
  if [ $ok = 0 ]; then
    step "molecule-$s-idempotence" - molecule idempotence -s "$s"
    MOLECULE_JUNIT="$RESULTS/molecule-$s.xml" step "molecule-$s-verify" "$RESULTS/molecule-$s.xml" molecule verify -s "$s"
  else
    echo "==> molecule-$s: idempotence and verify not run (an earlier stage failed)"
    FAILED=$((FAILED + 2))
  fi
  [ -n "${KEEP_HOSTS:-}" ] || step "molecule-$s-destroy" - molecule destroy -s "$s"
}

# The scenarios share nothing (their own containers, networks, internet
# host, logs), so they run side by side: most of a scenario's time is spent
# waiting (on apt, on timers, on paced load), and the two-core machine has
# room for the other. Each writes its lines and counts to files, printed
# and added up when all are done. SERIAL=1 runs them one after the other.
side_by_side() {
  local s pids=()
  scripts/testhost.sh key >/dev/null   # made once, before the scenarios race to make it
  echo "==> scenarios side by side: $* (progress: .cache/logs/scenario-<name>.out)"
  for s in "$@"; do
    (
      PASSED=0; FAILED=0; FAILED_STEPS=()
      molecule_scenario "$s"
      echo "$PASSED $FAILED ${FAILED_STEPS[*]}" >"$RESULTS/scenario-$s.counts"
    ) >"$LOGS/scenario-$s.out" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  for s in "$@"; do
    cat "$LOGS/scenario-$s.out"
    local p f steps
    if read -r p f steps <"$RESULTS/scenario-$s.counts" 2>/dev/null; then
      PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
      [ -z "$steps" ] || FAILED_STEPS+=($steps)
    else
      # A scenario whose runner died before counting is a failure, never a pass.
      echo "==> molecule-$s: no counts written (the runner died): 1 failure"
      FAILED=$((FAILED + 1)); FAILED_STEPS+=("molecule-$s")
    fi
  done
}

WHAT=("$@")
[ ${#WHAT[@]} = 0 ] && WHAT=(lint controller app molecule)
for w in "${WHAT[@]}"; do
  case "$w" in
    lint)
      step yamllint - yamllint -s .
      step ansible-lint - ansible-lint --offline --profile production
      step role-docs - .venv/bin/python scripts/role-docs.py --check
      ;;
    controller)
      # The project's own controller plugins (the Mitogen strategy and its fallbacks).
      step controller-pytest "$RESULTS/controller.xml" .venv/bin/python -m pytest -q -p no:cacheprovider \
        --junit-xml="$RESULTS/controller.xml" tests
      ;;
    app)
      if [ -d app/tests ]; then
        step app-pytest "$RESULTS/app.xml" scripts/app-test.sh --junit-xml="$RESULTS/app.xml"
      fi
      ;;
    molecule)
      scenarios=()
      for d in molecule/*/molecule.yml; do scenarios+=("$(basename "$(dirname "$d")")"); done
      if [ "${SERIAL:-}" ] || [ ${#scenarios[@]} = 1 ]; then
        for s in "${scenarios[@]}"; do molecule_scenario "$s"; done
      else
        side_by_side "${scenarios[@]}"
      fi
      ;;
    *) molecule_scenario "$w" ;;
  esac
done

echo
if [ ${#FAILED_STEPS[@]} -gt 0 ]; then
  echo "failed steps: ${FAILED_STEPS[*]} (logs in .cache/logs/)"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
