#!/usr/bin/env bash
# Run `make <tier>` for each tier given, print each one's time, stop at the first red one.
set -uo pipefail
declare -a report=()
total_start=$SECONDS
summary() {
  echo
  echo "==> tier times"
  printf '    %s\n' "${report[@]}"
  printf '    %-12s %4ds\n' total $((SECONDS - total_start))
}
for tier in "$@"; do
  echo
  echo "==> tier: $tier"
  start=$SECONDS
  if make --no-print-directory "$tier"; then
    report+=("$(printf '%-12s %4ds  ok' "$tier" $((SECONDS - start)))")
  else
    report+=("$(printf '%-12s %4ds  FAILED' "$tier" $((SECONDS - start)))")
    summary
    echo
    echo "make test: tier '$tier' failed (see its output above); later tiers did not run." >&2
    exit 1
  fi
done
summary
