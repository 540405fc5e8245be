# kraft.kafka developer entry points. See README.md.
.PHONY: up status down test unit integration molecule venv bench changelog

# make up KAFKA_VERSION=4.0.0: the lab at another release (README: "Rehearse an upgrade").
KAFKA_VERSION ?=

up:            ## bring up a three-node KRaft cluster in local containers with site.yml
	KAFKA_VERSION="$(KAFKA_VERSION)" bash tools/up.sh

status:        ## print quorum status and brokers of the local cluster
	bash tools/up.sh status

down:          ## remove the local cluster's containers
	bash tools/up.sh down

test:          ## the whole test suite (what CI runs)
	bash tools/test.sh

unit:
	KRAFT_TEST_STAGES="venv unit" bash tools/test.sh

integration:
	KRAFT_TEST_STAGES="venv standin smoke integration" bash tools/test.sh

molecule:
	KRAFT_TEST_STAGES="venv docker image standin molecule" bash tools/test.sh

venv:
	bash tools/venv.sh

changelog:     ## fold changelogs/fragments into the version of galaxy.yml and regenerate CHANGELOG.rst
	bash tools/changelog.sh release

bench:         ## the benchmarks of bench/ (BENCH="deploy rolling throughput topics" picks some), results in bench/results/
	bash bench/run.sh
