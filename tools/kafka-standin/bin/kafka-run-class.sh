#!/usr/bin/env bash
# kraft.kafka test stand-in launcher (not the Apache script): runs a Kafka
# main class with libs/*.jar on the classpath, honouring the environment
# variables of the official launcher: JAVA_HOME, KAFKA_HEAP_OPTS,
# KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_GC_LOG_OPTS, KAFKA_JMX_OPTS, JMX_PORT,
# KAFKA_LOG4J_OPTS, LOG_DIR, KAFKA_OPTS, KAFKA_DEBUG.
#
# usage: kafka-run-class.sh [-daemon] [-name NAME] [-loggc] CLASS [ARGS...]
if [[ $# -lt 1 ]]; then
  echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2
  exit 1
fi

base_dir=$(cd "$(dirname "$0")/.." && pwd)

daemon_mode=false
daemon_name=""
gc_log_enabled=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    -daemon) daemon_mode=true; shift ;;
    -name) daemon_name="$2"; shift 2 ;;
    -loggc) gc_log_enabled=true; shift ;;
    *) break ;;
  esac
done

classpath="${CLASSPATH:-}"
for jar in "$base_dir"/libs/*.jar; do
  classpath="${classpath:+$classpath:}$jar"
done

LOG_DIR="${LOG_DIR:-$base_dir/logs}"
mkdir -p "$LOG_DIR" 2>/dev/null || true

if [[ -z "${KAFKA_LOG4J_OPTS:-}" ]]; then
  KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$base_dir/config/tools-log4j2.yaml"
fi
KAFKA_LOG4J_OPTS="-Dkafka.logs.dir=$LOG_DIR $KAFKA_LOG4J_OPTS"

if [[ -z "${KAFKA_JMX_OPTS:-}" ]]; then
  KAFKA_JMX_OPTS="-Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false"
fi
if [[ -n "${JMX_PORT:-}" ]]; then
  KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.port=$JMX_PORT -Dcom.sun.management.jmxremote.rmi.port=${JMX_RMI_PORT:-$JMX_PORT}"
fi

KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx256M}"
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"

if [[ "${KAFKA_DEBUG:-}" != "" ]]; then
  KAFKA_OPTS="-agentlib:jdwp=transport=dt_socket,server=y,suspend=${DEBUG_SUSPEND_FLAG:-n},address=${JAVA_DEBUG_PORT:-5005} ${KAFKA_OPTS:-}"
fi

if [[ "$gc_log_enabled" == true && -z "${KAFKA_GC_LOG_OPTS:-}" ]]; then
  KAFKA_GC_LOG_OPTS="-Xlog:gc*:file=$LOG_DIR/${daemon_name:-kafka}-gc.log:time,tags:filecount=10,filesize=100M"
fi

if [[ -n "${JAVA_HOME:-}" ]]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA="java"
fi

# Word splitting of the *_OPTS variables is intended: they hold JVM flags.
# shellcheck disable=SC2086
cmd=("$JAVA" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS ${KAFKA_GC_LOG_OPTS:-} $KAFKA_JMX_OPTS $KAFKA_LOG4J_OPTS -cp "$classpath" ${KAFKA_OPTS:-} "$@")

if [[ "$daemon_mode" == true ]]; then
  nohup "${cmd[@]}" >"$LOG_DIR/${daemon_name:-kafka}.out" 2>&1 </dev/null &
else
  exec "${cmd[@]}"
fi
