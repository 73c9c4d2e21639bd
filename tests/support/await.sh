# Sourced by the test scripts that drive real processes (tests/e2e/readme_cli.sh,
# tests/cmake_consumer/run_against_server.sh).
# await FILE PATTERN: waits, for at most 20 s, until FILE has a line matching PATTERN
# (grep's basic regex): the event the next step depends on, such as "listening on".
# On a timeout it prints the file and exits 1.
await() {
  local file=$1 pattern=$2
  for _ in $(seq 200); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$pattern' in $file:" >&2
  cat "$file" >&2 || true
  exit 1
}

# await_port FILE: waits for herald-server's "listening on 127.0.0.1:PORT" line in FILE
# (its standard output) and prints PORT.
await_port() {
  await "$1" "listening on 127.0.0.1:"
  sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | head -n1
}
