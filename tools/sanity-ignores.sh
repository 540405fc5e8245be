#!/usr/bin/env bash
# Regenerate tests/sanity/ignore-*.txt: one line per module for the only
# check this collection cannot pass by design (see the reason on each line).
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit
for version in 2.16 2.17 2.18 2.19; do
  out="tests/sanity/ignore-$version.txt"
  : >"$out"
  for module in plugins/modules/*.py; do
    echo "$module validate-modules:missing-gplv3-license # kraft.kafka is Apache-2.0 (galaxy.yml, LICENSE); this check asks for a GPLv3 header" >>"$out"
  done
  # The stand-in launchers split their option variables into words exactly as
  # Kafka's own bin/ scripts do (unquoted); read -a would behave differently.
  echo "tools/kafka-standin/bin/kafka-run-class.sh shellcheck:SC2206 # KAFKA_*_OPTS hold several JVM flags, split into words as in Kafka's kafka-run-class.sh" >>"$out"
  echo "tools/kafka-standin/bin/kafka-server-start.sh shellcheck:SC2206 # EXTRA_ARGS holds several launcher flags, split into words as in Kafka's kafka-server-start.sh" >>"$out"
done
