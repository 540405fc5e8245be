#!/usr/bin/env bash
# ansible-test sanity (and units) on the collection laid out under
# ansible_collections/kraft/kafka, as ansible-test requires, in local
# virtualenvs (--venv: no container images).
#   tools/sanity.sh [extra ansible-test sanity args]
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit

# ansible-test skips its shellcheck test, and passes, when the program is
# missing: install Debian's package so the tools/ scripts are really checked.
# A fresh machine may have no package lists yet, so update once and retry.
if ! command -v shellcheck >/dev/null 2>&1; then
  [[ $(id -u) -eq 0 ]] || die "shellcheck is missing: apt-get install shellcheck (as root)"
  log "installing shellcheck (Debian package)"
  apt_log="$CACHE_DIR/apt-shellcheck.log"
  mkdir -p "$CACHE_DIR"
  apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
      install -y -q --no-install-recommends shellcheck >>"$apt_log" 2>&1 </dev/null
  }
  : >"$apt_log"
  apt_install || { apt-get -o DPkg::Lock::Timeout=300 update -q >>"$apt_log" 2>&1 && apt_install; } \
    || { cat "$apt_log" >&2; die "cannot install shellcheck with apt-get"; }
fi
command -v shellcheck >/dev/null 2>&1 || die "shellcheck is still missing"
log "shellcheck $(shellcheck --version | sed -n 's/^version: //p')"

# ansible-test's --venv mode fetches a pip bootstrap script from a host this
# machine cannot reach, so sanity runs --local in a venv of its own holding
# ansible-core and ansible-test's pinned sanity requirements (from PyPI).
SANITY_VENV="$CACHE_DIR/sanity-venv"
REQ_DIR="$VENV_DIR/lib/python3.11/site-packages/ansible_test/_data/requirements"
core_version="$("$VENV_DIR/bin/python" -c 'import ansible; print(ansible.__version__)')"
want="$core_version $(cat "$REQ_DIR"/sanity.*.txt | sha256sum | cut -c1-16)"
if [[ "$(cat "$SANITY_VENV/.stamp" 2>/dev/null)" != "$want" ]]; then
  log "preparing $SANITY_VENV for ansible-core $core_version"
  rm -rf "$SANITY_VENV"
  python3 -m venv "$SANITY_VENV"
  "$SANITY_VENV/bin/pip" install -q "ansible-core==$core_version"
  for req in "$REQ_DIR"/sanity.*.txt; do
    "$SANITY_VENV/bin/pip" install -q -r "$req"
  done
  echo "$want" >"$SANITY_VENV/.stamp"
fi

# ansible-test bootstraps pip into per-test venvs with a script it downloads
# from a host we cannot reach; give it our offline equivalent instead.
pip_version="$(sed -n "s/^ *pip='\([0-9.]*\)',.*/\1/p" \
  "$SANITY_VENV"/lib/python3.11/site-packages/ansible_test/_internal/python_requirements.py | head -1)"
[[ -n "$pip_version" ]] || die "cannot find ansible-test's pip version"
mkdir -p "$HOME/.ansible/test/cache"
cp "$REPO_ROOT/tools/get_pip_offline.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

DEST="$CACHE_DIR/sanity/ansible_collections/kraft/kafka"
rm -rf "$DEST"
mkdir -p "$DEST"
# Only what git would ship: tracked files plus new, not-ignored ones.
git ls-files -z --cached --others --exclude-standard | \
  while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done | \
  tar --null -T - -cf - | tar -C "$DEST" -xf -
cd "$DEST" || exit
# ansible-test lists files with git when it finds a repository: give it one.
git init -q . && git add -A >/dev/null 2>&1
export ANSIBLE_CONFIG=/dev/null
export PATH="$SANITY_VENV/bin:$PATH"
"$SANITY_VENV/bin/ansible-test" sanity --local --python 3.11 --color no "$@"
