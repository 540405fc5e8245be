# -*- coding: utf-8 -*-
"""The controller-side archive refusals of the kafka_install and java roles.

Both roles run with connection local against directories under tmp_path:

* kraft.kafka.kafka_install, only its fetch step (tasks_from: fetch). The
  rest of the role creates the kafka system user and group on the machine,
  so it is not run here; fetch.yml is what verifies the archive before any
  host sees it, from a local file (kafka_archive_src) or from a URL
  (kafka_archive_url, served by an http.server thread on 127.0.0.1).
* kraft.kafka.java, the whole role on its archive path: fake JDK tarballs
  whose bin/java is a shell script printing what `java -version` prints.
  java_archive_install_root points into tmp_path; nothing else is written.
"""

import functools
import hashlib
import http.server
import io
import json
import shutil
import tarfile
import threading

import pytest

from kafka_local_cluster import SCALA_VERSION, kafka_archive, kafka_version, write_inventory
from playbook_runner import run_playbook

# The json callback names role tasks "<role FQCN> : <task name>".
FETCH_VERIFY = 'kraft.kafka.kafka_install : Verify the archive before copying it to any host'
FETCH_DOWNLOAD = 'kraft.kafka.kafka_install : Download the Kafka archive and check its SHA-512'
# The rescue that turns get_url's message (about a temporary file) into one naming the URL.
FETCH_DOWNLOAD_FAILED = 'kraft.kafka.kafka_install : Explain the failed download'
JAVA_VERIFY = 'kraft.kafka.java : Verify the JDK archive'
JAVA_VERSION_ASSERT = 'kraft.kafka.java : Assert that Java is recent enough for Kafka'


def sha512_of(path):
    digest = hashlib.sha512()
    with open(str(path), 'rb') as handle:
        for block in iter(functools.partial(handle.read, 1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def wrong_digest(digest):
    """The real digest with its last hex digit changed: a near miss, still a well-formed SHA-512."""
    return digest[:-1] + ('0' if digest[-1] != '0' else '1')


def run_role(tmp_path, play, extra_vars):
    """ansible-playbook on a play written to tmp_path (localhost, connection local)."""
    playbook = tmp_path / 'play.json'
    playbook.write_text(json.dumps(play))
    # An absolute path: run_playbook's REPO_ROOT/playbooks/<name> then is this file.
    return run_playbook(tmp_path, str(playbook), extra_vars=extra_vars, inventory=write_inventory(tmp_path))


def failed_results(run):
    """[(task name, msg)] of every failed host result of the run."""
    found = []
    for play in run.output.get('plays') or []:
        for task in play.get('tasks') or []:
            for result in task['hosts'].values():
                if result.get('failed'):
                    found.append((task['task']['name'], result.get('msg', '')))
    return found


def files_under(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob('*')) if path.exists() else []


# ------------------------------------------------------------------ kafka_install: fetch

FETCH_PLAY = [{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
    {'name': 'Run the fetch step of kafka_install', 'ansible.builtin.include_role': {
        'name': 'kraft.kafka.kafka_install', 'tasks_from': 'fetch'}},
    {'name': 'Report the verified digest', 'ansible.builtin.debug': {
        'msg': '{{ _kafka_install_archive_sha512 }}'}},
]}]


@pytest.fixture(scope='module')
def kafka_dist(tmp_path_factory):
    """A copy of the stand-in archive and its published .sha512 in a directory of their own."""
    source = kafka_archive()
    assert source.is_file(), '%s is missing: run bash tools/kafka-standin/build.sh %s' % (source, kafka_version())
    dist = tmp_path_factory.mktemp('kafka-dist')
    archive = dist / source.name
    shutil.copyfile(str(source), str(archive))
    published = source.parent / (source.name + '.sha512')
    shutil.copyfile(str(published), str(dist / published.name))
    digest = sha512_of(archive)
    # The published file (Apache's gpg --print-md format) names this very archive.
    assert digest == ''.join(published.read_text().split(':', 1)[1].split()).lower()
    return archive, digest


class ArchiveServer(object):
    """http.server on 127.0.0.1 serving one directory; remembers the requested paths."""

    def __init__(self, directory):
        self.requests = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                requests.append(self.path)

        self.server = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0), functools.partial(Handler, directory=str(directory)))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, name):
        return 'http://127.0.0.1:%d/%s' % (self.server.server_address[1], name)


@pytest.fixture
def archive_server(tmp_path, kafka_dist):
    """Serves the archive from a web root of this test (tests write their own .sha512 into it)."""
    archive, _digest = kafka_dist
    root = tmp_path / 'www'
    root.mkdir()
    # A hard link: same bytes as the copy, without 50 MB more per test.
    (root / archive.name).hardlink_to(archive)
    server = ArchiveServer(root)
    server.thread.start()
    try:
        yield server, root
    finally:
        server.server.shutdown()
        server.server.server_close()


def fetch_vars(tmp_path, **overrides):
    """Every path the role could write to is under tmp_path."""
    extra = dict(kafka_version=kafka_version(), kafka_scala_version=SCALA_VERSION,
                 kafka_install_root=str(tmp_path / 'opt-kafka'), kafka_download_dir=str(tmp_path / 'download'),
                 kafka_data_dirs=[str(tmp_path / 'data')], kafka_log_dir=str(tmp_path / 'log'))
    extra.update(overrides)
    return extra


def assert_nothing_installed(tmp_path):
    for name in ('opt-kafka', 'data', 'log'):
        assert not (tmp_path / name).exists(), files_under(tmp_path / name)


def test_local_archive_with_wrong_sha512_is_refused(tmp_path, kafka_dist):
    archive, digest = kafka_dist
    expected = wrong_digest(digest)
    run = run_role(tmp_path, FETCH_PLAY, fetch_vars(tmp_path, kafka_archive_src=str(archive),
                                                    kafka_archive_sha512=expected))
    assert run.rc != 0, run.log()
    failures = failed_results(run)
    assert [name for name, _msg in failures] == [FETCH_VERIFY], run.log()
    message = failures[0][1]
    # Names the file, the digest it has and the one that was expected, and that it went nowhere.
    assert str(archive) in message
    assert 'has SHA-512 %s, expected %s: it does not match the published digest' % (digest, expected) in message
    assert 'Nothing was copied to the Kafka hosts' in message
    # The failed step ends the host: nothing after it ran.
    assert not run.tasks('Report the verified digest'), run.log()
    assert_nothing_installed(tmp_path)
    assert sha512_of(archive) == digest


@pytest.mark.parametrize('source', ['variable', 'file next to the archive'])
def test_local_archive_with_published_sha512_passes(tmp_path, kafka_dist, source):
    """Positive control of the refusal above: the same step with the published digest."""
    archive, digest = kafka_dist
    extra = fetch_vars(tmp_path, kafka_archive_src=str(archive))
    if source == 'variable':
        # Apache's multi-line "NAME: HEX GROUPS" text as it is, not a bare digest.
        extra['kafka_archive_sha512'] = (archive.parent / (archive.name + '.sha512')).read_text()
    run = run_role(tmp_path, FETCH_PLAY, extra)
    assert run.rc == 0 and run.failed == 0, run.log()
    assert run.result('Report the verified digest')['msg'] == digest
    # Verifying changes nothing: the archive is read where it is, not cached or copied.
    assert run.changed == 0, run.log()
    assert not (tmp_path / 'download').exists()
    assert_nothing_installed(tmp_path)


@pytest.mark.parametrize('checksum_from', ['kafka_archive_sha512', 'published .sha512 URL'])
def test_downloaded_archive_with_wrong_sha512_is_refused(tmp_path, kafka_dist, archive_server, checksum_from):
    archive, digest = kafka_dist
    server, root = archive_server
    expected = wrong_digest(digest)
    extra = fetch_vars(tmp_path, kafka_archive_url=server.url(archive.name))
    if checksum_from == 'kafka_archive_sha512':
        extra['kafka_archive_sha512'] = expected
    else:
        # sha512sum's "HEX  NAME" format, served at kafka_archive_sha512_url (<url>.sha512).
        (root / (archive.name + '.sha512')).write_text('%s  %s\n' % (expected.upper(), archive.name))
    run = run_role(tmp_path, FETCH_PLAY, extra)
    assert run.rc != 0, run.log()
    failures = failed_results(run)
    assert [name for name, _msg in failures] == [FETCH_DOWNLOAD, FETCH_DOWNLOAD_FAILED], run.log()
    message = failures[1][1]
    assert 'did not match' in message and expected in message and digest in message, message
    assert 'Could not get a verified copy of %s' % server.url(archive.name) in message
    assert 'Nothing was copied to the Kafka hosts' in message
    # The archive was really downloaded (and then refused), not skipped.
    assert '/' + archive.name in server.requests
    if checksum_from != 'kafka_archive_sha512':
        assert '/%s.sha512' % archive.name in server.requests
    # get_url verifies its temporary file: no archive lands in the download cache.
    assert files_under(tmp_path / 'download') == []
    assert_nothing_installed(tmp_path)


def test_downloaded_archive_with_published_sha512_passes(tmp_path, kafka_dist, archive_server):
    """Positive control of the download path: checksum from the published .sha512 URL."""
    archive, digest = kafka_dist
    server, root = archive_server
    shutil.copyfile(str(archive.parent / (archive.name + '.sha512')), str(root / (archive.name + '.sha512')))
    run = run_role(tmp_path, FETCH_PLAY, fetch_vars(tmp_path, kafka_archive_url=server.url(archive.name)))
    assert run.rc == 0 and run.failed == 0, run.log()
    assert run.result('Report the verified digest')['msg'] == digest
    assert run.result(FETCH_DOWNLOAD)['changed'] is True
    assert files_under(tmp_path / 'download') == [archive.name]
    assert sha512_of(tmp_path / 'download' / archive.name) == digest
    assert_nothing_installed(tmp_path)


# ------------------------------------------------------------------ java: archive path

JAVA_PLAY = [{'hosts': 'localhost', 'gather_facts': False,
              'roles': ['kraft.kafka.java'],
              'post_tasks': [{'name': 'Report java_home', 'ansible.builtin.debug': {'msg': '{{ java_home }}'}}]}]

JAVA_VERSION_LINES = {
    11: ['openjdk version "11.0.22" 2024-01-16',
         'OpenJDK Runtime Environment (build 11.0.22+7-post-Debian-1deb12u1)',
         'OpenJDK 64-Bit Server VM (build 11.0.22+7-post-Debian-1deb12u1, mixed mode, sharing)'],
    17: ['openjdk version "17.0.10" 2024-01-16',
         'OpenJDK Runtime Environment (build 17.0.10+7-Debian-1deb12u1)',
         'OpenJDK 64-Bit Server VM (build 17.0.10+7-Debian-1deb12u1, mixed mode, sharing)'],
}


def fake_jdk(directory, major):
    """jdk-<major>.tar.gz: one top-level directory whose bin/java prints the version banner on stderr."""
    script = '#!/bin/sh\ncat >&2 <<EOF\n%s\nEOF\n' % '\n'.join(JAVA_VERSION_LINES[major])
    path = directory / ('jdk-%d.tar.gz' % major)
    with tarfile.open(str(path), 'w:gz') as tar:
        for name, data, mode in [('jdk-%d/bin/java' % major, script.encode(), 0o755),
                                 ('jdk-%d/release' % major, b'JAVA_VERSION="%d"\n' % major, 0o644)]:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return path


def java_vars(tmp_path, archive, checksum=''):
    return dict(java_archive_src=str(archive), java_archive_checksum=checksum,
                java_archive_install_root=str(tmp_path / 'opt-java'))


def test_java_11_archive_is_refused_with_found_and_minimum_version(tmp_path):
    archive = fake_jdk(tmp_path, 11)
    run = run_role(tmp_path, JAVA_PLAY, java_vars(tmp_path, archive))
    assert run.rc != 0, run.log()
    failures = failed_results(run)
    assert [name for name, _msg in failures] == [JAVA_VERSION_ASSERT], run.log()
    message = failures[0][1]
    assert str(tmp_path / 'opt-java' / 'jdk-11' / 'bin' / 'java') in message
    assert 'is Java 11.0.22 (major 11)' in message
    assert 'Kafka needs Java 17 or newer' in message
    assert not run.tasks('Report java_home')


def test_java_17_archive_installs_under_the_root_and_reruns_unchanged(tmp_path):
    archive = fake_jdk(tmp_path, 17)
    home = tmp_path / 'opt-java' / 'jdk-17'
    # With a correct checksum: the positive control of the checksum refusal below.
    extra = java_vars(tmp_path, archive, 'sha256:' + hashlib.sha256(archive.read_bytes()).hexdigest())
    first = run_role(tmp_path, JAVA_PLAY, extra)
    assert first.rc == 0 and first.failed == 0, first.log()
    assert first.changed > 0
    assert first.result('Report java_home')['msg'] == str(home)
    assert sorted(files_under(home)) == ['.kraft-kafka-unpacked', 'bin', 'bin/java', 'release']
    assert first.result(JAVA_VERSION_ASSERT).get('failed') is not True
    second = run_role(tmp_path, JAVA_PLAY, extra)
    assert second.rc == 0 and second.failed == 0, second.log()
    assert second.changed == 0, second.stats
    assert second.result('Report java_home')['msg'] == str(home)


@pytest.mark.parametrize('algorithm', ['sha256', 'sha512'])
def test_java_archive_with_wrong_checksum_fails_before_unpacking(tmp_path, algorithm):
    archive = fake_jdk(tmp_path, 17)
    digest = hashlib.new(algorithm, archive.read_bytes()).hexdigest()
    run = run_role(tmp_path, JAVA_PLAY, java_vars(tmp_path, archive, '%s:%s' % (algorithm, wrong_digest(digest))))
    assert run.rc != 0, run.log()
    failures = failed_results(run)
    assert [name for name, _msg in failures] == [JAVA_VERIFY], run.log()
    message = failures[0][1]
    assert '%s has %s %s; it does not match java_archive_checksum' % (archive, algorithm, digest) in message, message
    assert 'Nothing was installed' in message
    # Refused on the controller before the install root was even created.
    assert not (tmp_path / 'opt-java').exists(), files_under(tmp_path / 'opt-java')
