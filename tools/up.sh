#!/usr/bin/env bash
# The main job: a three-node KRaft cluster in local containers, deployed by
# site.yml, then its quorum status and broker list.
#   tools/up.sh          bring it up (re-running is safe: changed=0)
#   KAFKA_VERSION=4.0.0 tools/up.sh   the lab at another Kafka release (make up KAFKA_VERSION=4.0.0),
#                        to rehearse an upgrade: the stand-ins of that release and of the
#                        default one are built, so playbooks/upgrade.yml can move between them
#   tools/up.sh status   print quorum status and brokers again
#   tools/up.sh down     remove the containers
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit
export PATH="$VENV_DIR/bin:$PATH"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
INVENTORY="$REPO_ROOT/inventories/local"
DEFAULT_VERSION="$(default_kafka_version)"
LAB_VERSION="${KAFKA_VERSION:-$DEFAULT_VERSION}"
[[ $LAB_VERSION =~ ^4\.[0-9]+\.[0-9]+$ ]] || die "KAFKA_VERSION must be a Kafka 4.x release such as 4.0.0; got '$LAB_VERSION'"

status() {
  ansible-playbook -i "$INVENTORY" playbooks/cluster_status.yml
}

case "${1:-up}" in
  down)
    ansible-playbook tools/local/containers.yml -e lab_state=absent
    ;;
  status)
    status
    ;;
  up)
    bash tools/venv.sh
    bash tools/docker-up.sh
    bash tools/images/debian.sh bookworm >/dev/null
    # shellcheck disable=SC2046 # one or two versions, word splitting wanted
    bash tools/kafka-standin/build.sh $(printf '%s\n' "$LAB_VERSION" "$DEFAULT_VERSION" | sort -u)
    ansible-playbook tools/local/containers.yml
    ansible-playbook -i "$INVENTORY" site.yml -e kafka_version="$LAB_VERSION"
    status
    ;;
  *) die "usage: $0 [up|status|down]" ;;
esac
