#!/usr/bin/env bash
# kraft.kafka test stand-in launcher: asks running Kafka servers of this host
# to shut down gracefully (SIGTERM, never SIGKILL).
# usage: kafka-server-stop.sh [--process-role=broker|controller] [--node-id=N]
role=""
node_id=""
for arg in "$@"; do
  case "$arg" in
    --process-role=*) role="${arg#*=}" ;;
    --node-id=*) node_id="${arg#*=}" ;;
    *) echo "unknown argument: $arg" >&2; exit 1 ;;
  esac
done

pids=()
for pid in $(pgrep -f 'java.*kafka\.Kafka' || true); do
  if [[ -n "$role" || -n "$node_id" ]]; then
    config=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -E '\.properties$' | tail -1)
    [[ -r "$config" ]] || continue
    if [[ -n "$role" ]] && ! grep -Eq "^process\.roles=.*\b$role\b" "$config"; then continue; fi
    if [[ -n "$node_id" ]] && ! grep -Eq "^node\.id=$node_id\s*$" "$config"; then continue; fi
  fi
  pids+=("$pid")
done

if [[ ${#pids[@]} -eq 0 ]]; then
  echo "No kafka server to stop"
  exit 1
fi
kill -s TERM "${pids[@]}"
