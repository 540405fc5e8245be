#!/usr/bin/env bash
# Fails when a secret of the `secure` scenario appears in LOGFILE, the full
# output of `molecule test -s secure` (converge, idempotence and verify):
#   molecule test -s secure 2>&1 | tee secure.log
#   molecule/secure/check_no_secrets.sh secure.log
# Secrets: every value of a variable whose name ends in _password in
# molecule.yml, and every body line of the private keys (lab CA and nodes)
# kafka_tls kept on the controller. Patterns go to grep through a file, so
# they are never on a command line; the script never prints a secret.
set -euo pipefail

log=${1:?usage: check_no_secrets.sh LOGFILE}
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
tls_dir=${SECURE_TLS_DIR:-$project/.cache/tls/molecule-secure}

[[ -s $log ]] || { echo "check_no_secrets: $log is missing or empty" >&2; exit 2; }

patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
chmod 600 "$patterns"

# Values of *_password: keys in molecule.yml (plain scalars, test-only).
sed -n -E 's/^[[:space:]]+[A-Za-z0-9_]+_password:[[:space:]]*"?([^"#[:space:]]+)"?.*$/\1/p' \
  "$here/molecule.yml" >>"$patterns"
passwords=$(grep -c . "$patterns" || true)
[[ $passwords -ge 3 ]] || { echo "check_no_secrets: found only $passwords password values in molecule.yml" >&2; exit 2; }

# Private key bodies (base64 lines between the PEM armour).
keys=0
while IFS= read -r -d '' key; do
  grep -v -e '-----' "$key" >>"$patterns"
  keys=$((keys + 1))
done < <(find "$tls_dir" -name '*.key' -print0 2>/dev/null)
[[ $keys -ge 4 ]] || { echo "check_no_secrets: expected the CA key and 3 node keys in $tls_dir, found $keys" >&2; exit 2; }

# Sanity check of the check itself: the log must be the real run.
grep -q 'secure' "$log" || { echo "check_no_secrets: $log does not look like a molecule run of secure" >&2; exit 2; }

hits=$(grep -c -F -f "$patterns" "$log" || true)
if [[ $hits -ne 0 ]]; then
  echo "check_no_secrets: FAIL: $hits line(s) of $log contain a secret value (not shown)." >&2
  echo "  line numbers: $(grep -n -F -f "$patterns" "$log" | cut -d: -f1 | head -20 | tr '\n' ' ')" >&2
  exit 1
fi
# Molecule wraps long output lines in its boxes, which could split a secret.
# None of the secrets contains whitespace, so search the log again with ANSI
# colours, box characters and all whitespace removed (one long line).
wrapped=$(LC_ALL=C sed 's/\x1b\[[0-9;]*m//g' "$log" | LC_ALL=C tr -d ' \t\r\n' | LC_ALL=C sed 's/\xe2\x94[\x80-\xbf]//g' \
  | { grep -o -F -f "$patterns" || true; } | wc -l)
if [[ $wrapped -ne 0 ]]; then
  echo "check_no_secrets: FAIL: $log contains $wrapped secret value(s) split across wrapped lines (not shown)." >&2
  exit 1
fi
echo "check_no_secrets: OK: none of $passwords passwords and $keys private keys appears in $log ($(wc -l <"$log") lines)."
