#!/usr/bin/env bash
# The main job: a three-node KRaft cluster in local containers, deployed by
# site.yml, then its quorum status and broker list.
#   tools/up.sh          bring it up (re-running is safe: changed=0)
#   tools/up.sh status   print quorum status and brokers again
#   tools/up.sh down     remove the containers
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit
export PATH="$VENV_DIR/bin:$PATH"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
INVENTORY="$REPO_ROOT/inventories/local"

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
    bash tools/kafka-standin/build.sh "$(default_kafka_version)"
    ansible-playbook tools/local/containers.yml
    ansible-playbook -i "$INVENTORY" site.yml
    status
    ;;
  *) die "usage: $0 [up|status|down]" ;;
esac
