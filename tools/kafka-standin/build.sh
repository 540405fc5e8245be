#!/usr/bin/env bash
# Build the kraft.kafka TEST STAND-IN for the Apache Kafka binary tarball:
# official jars from Maven Central + launchers written by this project, laid
# out like kafka_2.13-V.tgz (bin/, config/, libs/). Writes
#   $CACHE_DIR/dist/kafka_2.13-V.tgz and kafka_2.13-V.tgz.sha512 (Apache's format)
# and reuses them while this recipe is unchanged.
#
# usage: tools/kafka-standin/build.sh VERSION [VERSION...]
source "$(dirname "$0")/../lib.sh"
HERE="$REPO_ROOT/tools/kafka-standin"
DIST="$CACHE_DIR/dist"
SCALA=2.13
LOG4J_VERSION="${LOG4J_VERSION:-2.25.5}"
mkdir -p "$DIST"

[[ $# -ge 1 ]] || die "usage: $0 VERSION [VERSION...]"

# A fresh Debian machine has neither Maven, Java nor unzip (the smoke and integration
# tests need Java 17+ too): install them from Debian's archive, as
# tools/docker-up.sh does with docker.io. Only when missing, and only as root.
install_build_tools() {
  local missing=()
  command -v mvn >/dev/null || missing+=(maven)
  command -v java >/dev/null || missing+=(default-jdk-headless)  # Java 17 on Debian 12, 21 on 13
  command -v unzip >/dev/null || missing+=(unzip)  # finds the tools' main classes in the jars
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if ! command -v apt-get >/dev/null || [[ $EUID -ne 0 ]]; then
    die "needs ${missing[*]} (Java 17+ and Maven, to fetch Kafka's jars from Maven Central); install them, or run as root on Debian"
  fi
  log "installing Debian's ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  local tool
  for tool in mvn java unzip; do
    command -v "$tool" >/dev/null || die "$tool still missing after installing ${missing[*]}"
  done
}
install_build_tools

# Apache publishes `gpg --print-md SHA512` output: "NAME: " then the digest in
# upper-case groups of eight, wrapped and indented.
write_apache_sha512() {
  local file="$1" name digest
  name=$(basename "$file")
  digest=$(sha512sum "$file" | cut -d' ' -f1 | tr 'a-f' 'A-F')
  python3 - "$name" "$digest" >"$file.sha512" <<'PY'
import sys
name, digest = sys.argv[1], sys.argv[2]
groups = [digest[i:i + 8] for i in range(0, len(digest), 8)]
prefix = name + ": "
lines = [" ".join(groups[i:i + 6]) for i in range(0, len(groups), 6)]
print(prefix + ("\n" + " " * len(prefix)).join(lines))
PY
}

write_pom() {
  local version="$1" dir="$2"
  cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kraft.kafka</groupId>
  <artifactId>kafka-standin</artifactId>
  <version>$version</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$SCALA</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-storage</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-1.2-api</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>com.fasterxml.jackson.dataformat</groupId><artifactId>jackson-dataformat-yaml</artifactId><version>2.18.2</version></dependency>
  </dependencies>
</project>
POM
}

# first_class_present LIBDIR CLASS...: the first class found in the jars.
first_class_present() {
  local libs="$1"; shift
  local cls path jar
  for cls in "$@"; do
    path="${cls//.//}.class"
    for jar in "$libs"/*.jar; do
      if unzip -Z1 "$jar" "$path" >/dev/null 2>&1; then
        echo "$cls"
        return 0
      fi
    done
  done
  return 1
}

write_tool_scripts() {
  local libs="$1" bin="$2" script classes cls
  while IFS=$'\t' read -r script classes; do
    [[ -z "$script" || "$script" == \#* ]] && continue
    # shellcheck disable=SC2086
    cls=$(first_class_present "$libs" $classes) || die "none of [$classes] in $libs for $script"
    cat >"$bin/$script" <<SH
#!/usr/bin/env bash
# kraft.kafka test stand-in launcher: $script runs $cls.
exec "\$(dirname "\$0")/kafka-run-class.sh" $cls "\$@"
SH
    chmod 0755 "$bin/$script"
  done <"$HERE/tools.tsv"
}

build_one() {
  local version="$1"
  local name="kafka_$SCALA-$version"
  local tgz="$DIST/$name.tgz"
  local stamp="$DIST/$name.recipe"
  local want
  want=$(cd "$HERE" && cat build.sh tools.tsv bin/* config/* | sha256sum | cut -c1-16)
  if [[ -f "$tgz" && -f "$tgz.sha512" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
    log "stand-in $name.tgz is up to date (cached)"
    return 0
  fi
  local work="$CACHE_DIR/standin-build/$name"
  rm -rf "$work"
  mkdir -p "$work/$name"/{bin,config,libs,licenses}
  write_pom "$version" "$work"
  log "resolving org.apache.kafka:kafka_$SCALA:$version runtime classpath from Maven Central"
  (cd "$work" && mvn -B -q dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$work/$name/libs") >"$work/mvn.log" 2>&1 || {
    tail -30 "$work/mvn.log" >&2
    die "could not resolve Kafka $version from Maven Central"
  }
  install -m 0755 "$HERE"/bin/*.sh "$work/$name/bin/"
  write_tool_scripts "$work/$name/libs" "$work/$name/bin"
  install -m 0644 "$HERE"/config/* "$work/$name/config/"
  cat >"$work/$name/README.kraft-standin" <<TXT
This is NOT the Apache Kafka release tarball. It is the kraft.kafka test
stand-in: the official Apache Kafka $version jars from Maven Central with
launcher scripts written by the kraft.kafka project, in the layout of
kafka_$SCALA-$version.tgz. Real deployments use the official tarball.
TXT
  # Deterministic archive: same inputs, same bytes, same sha512.
  tar --sort=name --mtime='2020-01-01 00:00Z' --owner=0 --group=0 --numeric-owner \
    -C "$work" -cf - "$name" | gzip -n >"$tgz.tmp"
  mv "$tgz.tmp" "$tgz"
  write_apache_sha512 "$tgz"
  echo "$want" >"$stamp"
  rm -rf "$work"
  log "built $tgz ($(du -h "$tgz" | cut -f1))"
}

for v in "$@"; do
  build_one "$v"
done
