#!/usr/bin/env bash
# kraft.kafka test stand-in launcher: starts a KRaft broker/controller.
# usage: kafka-server-start.sh [-daemon] server.properties [--override property=value]*
if [[ $# -lt 1 ]]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*" >&2
  exit 1
fi
base_dir=$(cd "$(dirname "$0")" && pwd)

if [[ -z "${KAFKA_LOG4J_OPTS:-}" ]]; then
  export KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$base_dir/../config/log4j2.yaml"
fi
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}"

extra_args=(${EXTRA_ARGS--name kafkaServer -loggc})
if [[ "$1" == "-daemon" ]]; then
  extra_args=(-daemon "${extra_args[@]}")
  shift
fi
exec "$base_dir/kafka-run-class.sh" "${extra_args[@]}" kafka.Kafka "$@"
