"""Documentation checks for tools/check-docs.sh (run with the project venv).

  python tools/check_docs.py role-defaults [ROLES_DIR]
      Every variable in roles/<role>/defaults/main.yml is an option of the
      role's argument spec (meta/argument_specs.yml, entry point main), so
      ansible-doc -t role documents every knob a user can set. Prints the
      missing ones per role; exit 1 if any.

  python tools/check_docs.py filters [FILTER_DIR]
      The filters the plugins export (the keys of FilterModule().filters() in
      FILTER_DIR/*.py), one per line, for the caller to render with
      ansible-doc. Fails (exit 1, names on stderr) for an exported filter
      without its FILTER_DIR/<name>.yml, and for a .yml that documents no
      exported filter (a renamed or removed filter whose doc was left behind).
"""
import glob
import importlib.util
import os
import sys

import yaml


def _load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def role_defaults(roles_dir):
    failures = []
    for role_dir in sorted(glob.glob(os.path.join(roles_dir, "*", ""))):
        role = os.path.basename(os.path.dirname(role_dir))
        defaults_file = os.path.join(role_dir, "defaults", "main.yml")
        if not os.path.isfile(defaults_file):
            continue
        defaults = _load_yaml(defaults_file) or {}
        if not isinstance(defaults, dict):
            failures.append("%s: %s is not a mapping" % (role, defaults_file))
            continue
        spec_file = os.path.join(role_dir, "meta", "argument_specs.yml")
        if not os.path.isfile(spec_file):
            failures.append("%s: no meta/argument_specs.yml for its %d defaults" % (role, len(defaults)))
            continue
        main = ((_load_yaml(spec_file) or {}).get("argument_specs") or {}).get("main")
        if not isinstance(main, dict):
            failures.append("%s: meta/argument_specs.yml has no entry point main" % role)
            continue
        options = main.get("options") or {}
        missing = [name for name in defaults if name not in options]
        if missing:
            failures.append("%s: defaults/main.yml variables not in argument spec main: %s" % (role, ", ".join(missing)))
        else:
            print("role defaults %s: ok (%d variables documented)" % (role, len(defaults)), file=sys.stderr)
    for failure in failures:
        print("role defaults " + failure, file=sys.stderr)
    return 1 if failures else 0


def exported_filters(filter_dir):
    """Map filter name -> plugin file, from each plugin's FilterModule."""
    exported = {}
    # Filters may import the collection's module_utils (ansible_collections.kraft.kafka...):
    # tools/venv.sh links this checkout there.
    collections_root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache", "collections")
    if os.path.isdir(collections_root) and collections_root not in sys.path:
        sys.path.insert(0, collections_root)
    for path in sorted(glob.glob(os.path.join(filter_dir, "*.py"))):
        name = "_check_docs_filter_" + os.path.basename(path)[:-3]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        filter_module = getattr(module, "FilterModule", None)
        if filter_module is None:
            continue  # a helper file, not a filter plugin
        for filter_name in filter_module().filters():
            exported[filter_name] = path
    return exported


def filters(filter_dir):
    exported = exported_filters(filter_dir)
    failures = []
    if not exported:
        failures.append("no filters exported by %s/*.py" % filter_dir)
    for name, path in sorted(exported.items()):
        if not os.path.isfile(os.path.join(filter_dir, name + ".yml")):
            failures.append("%s (from %s) has no docs file %s/%s.yml" % (name, path, filter_dir, name))
    for doc in sorted(glob.glob(os.path.join(filter_dir, "*.yml"))):
        name = os.path.basename(doc)[:-4]
        if name not in exported:
            failures.append("%s documents %s, which no plugin exports" % (doc, name))
    for failure in failures:
        print("filter docs: " + failure, file=sys.stderr)
    for name in sorted(exported):
        print(name)
    return 1 if failures else 0


def main(argv):
    if len(argv) < 2 or argv[1] not in ("role-defaults", "filters"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "role-defaults":
        return role_defaults(argv[2] if len(argv) > 2 else "roles")
    return filters(argv[2] if len(argv) > 2 else "plugins/filter")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
