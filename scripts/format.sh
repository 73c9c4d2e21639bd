#!/usr/bin/env bash
# Formats every C++ source of the tree with the root .clang-format (clang-format 14,
# Debian 12's). With --check it changes nothing and fails naming each file that is not
# formatted.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
clang_format=${CLANG_FORMAT:-clang-format}
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
else
  mapfile -t files < <(find . -path ./build -prune -o -path './build-*' -prune -o \
    \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) -print | sed 's|^\./||' | sort)
fi
if [[ "${1:-}" == --check ]]; then
  if "$clang_format" --dry-run -Werror "${files[@]}" >/dev/null 2>&1; then
    echo "format: ${#files[@]} files formatted"
    exit 0
  fi
  unformatted=()  # name each one
  for f in "${files[@]}"; do
    "$clang_format" --dry-run -Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
  done
  if ((${#unformatted[@]})); then
    echo "not formatted (run scripts/format.sh):" >&2
    printf '  %s\n' "${unformatted[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files formatted"
else
  "$clang_format" -i "${files[@]}"
fi
