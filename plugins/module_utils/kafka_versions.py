# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Which Kafka release reads which metadata.version: the one table of the collection.

kraft.kafka.kafka_features (finalisation) and the version guard of
kraft.kafka.kafka_install (filter kafka_version_guard: no downgrade past the
finalized metadata.version) both read it from here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# metadata.version levels of Kafka 4.4.0 (org.apache.kafka.server.common.MetadataVersion, production
# levels only). kafka-python has no such table and the protocol only carries numbers.
METADATA_VERSIONS = (
    (7, '3.3-IV3'), (8, '3.4-IV0'), (9, '3.5-IV0'), (10, '3.5-IV1'), (11, '3.5-IV2'),
    (12, '3.6-IV0'), (13, '3.6-IV1'), (14, '3.6-IV2'), (15, '3.7-IV0'), (16, '3.7-IV1'),
    (17, '3.7-IV2'), (18, '3.7-IV3'), (19, '3.7-IV4'), (20, '3.8-IV0'), (21, '3.9-IV0'),
    (22, '4.0-IV0'), (23, '4.0-IV1'), (24, '4.0-IV2'), (25, '4.0-IV3'), (26, '4.1-IV0'),
    (27, '4.1-IV1'), (28, '4.2-IV0'), (29, '4.2-IV1'), (30, '4.3-IV0'), (31, '4.4-IV0'),
    (32, '4.4-IV1'), (33, '4.4-IV2'),
)

# KIP-1170: from 4.4, kafka-storage format writes the bootstrap metadata into the
# metadata log itself instead of bootstrap.checkpoint, and older brokers cannot read
# such a directory.
KIP_1170_RELEASE = (4, 4)

_VERSION = re.compile(r'^(\d+)\.(\d+)(?:\.(\d+))?')


def release_key(version):
    """(major, minor) of '4.4.0', '4.4' or '4.4-IV2'; None when it is not a version."""
    match = _VERSION.match(str(version or '').strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def version_key(version):
    """(major, minor, patch) for ordering installed and target versions; None when unparsable."""
    match = _VERSION.match(str(version or '').strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def metadata_version_name(level):
    return dict(METADATA_VERSIONS).get(level)


def highest_known_level():
    return METADATA_VERSIONS[-1][0]


def newest_known_release():
    return release_key(METADATA_VERSIONS[-1][1])


def highest_level_read_by(version):
    """Highest metadata.version level the release of `version` reads.

    A release reads every production level up to its own last one. None for a
    release newer than the table: it reads every level the table knows (Kafka
    releases read the levels of older ones), and nothing is claimed beyond that.
    """
    key = release_key(version)
    if key is None:
        raise ValueError("'%s' is not a Kafka version (MAJOR.MINOR.PATCH)" % version)
    levels = [level for level, name in METADATA_VERSIONS if release_key(name) <= key]
    if key > newest_known_release():
        return None
    if not levels:
        raise ValueError("Kafka %s is older than every metadata.version this collection knows (from %s)"
                         % (version, METADATA_VERSIONS[0][1]))
    return max(levels)


def level_text(level):
    name = metadata_version_name(level)
    return '%s (level %s)' % (name, level) if name else 'level %s' % level
