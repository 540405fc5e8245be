# -*- coding: utf-8 -*-
"""Unit tests for plugins/filter/kafka_report.py and the report templates.

The input is shaped like a kraft.kafka.kafka_cluster_info result (see its
RETURN documentation); tests/integration/test_report_playbook.py runs the
same filters on a real cluster's result through ansible-playbook.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import xml.etree.ElementTree as ET

import jinja2
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kraft.kafka.plugins.filter import kafka_report as kr

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
TEMPLATES = os.path.join(REPO_ROOT, 'playbooks', 'templates')
SVG = '{http://www.w3.org/2000/svg}'


def broker(broker_id, leaders, preferred, replicas, fenced=False, registered=True):
    return dict(id=broker_id, host='10.0.0.%d' % broker_id, port=9092, rack=None, fenced=fenced,
                registered=registered, leaders=leaders, preferred_leaders=preferred, replicas=replicas)


def topic(name, partitions, under=0, offline=0, not_preferred=0, internal=False):
    return dict(name=name, topic_id='id-' + name, internal=internal, partition_count=partitions,
                replication_factor=3, under_replicated=under, offline=offline, not_preferred=not_preferred)


@pytest.fixture
def info():
    """A healthy-looking three-broker cluster after broker 3 restarted: its leaders moved to 1."""
    return dict(
        changed=False, cluster_id='MkU3OEVBNTcwNTJENDM2Qk', controller_id=1,
        brokers=[broker(2, 4, 4, 12), broker(1, 8, 4, 12), broker(3, 0, 4, 12)],
        topics=[topic('orders', 6, not_preferred=2), topic('payments', 6, not_preferred=2),
                topic('__consumer_offsets', 0, internal=True)],
        under_replicated=[], offline=[],
        skew=dict(partitions=12, not_preferred=4, offline=0, ratio=0.3333, electable=4, max_leader_excess=4),
        quorum=dict(leader_id=1, leader_epoch=3, high_watermark=4711, max_follower_lag=0,
                    max_follower_lag_time_ms=0, observers=[],
                    voters=[dict(id=1, status='Leader', lag=0, lag_time_ms=0),
                            dict(id=2, status='Follower', lag=0, lag_time_ms=0),
                            dict(id=3, status='Follower', lag=0, lag_time_ms=0)]),
        features={'metadata.version': 33, 'kraft.version': 0},
        groups=[dict(group_id='billing', state='Empty', type='classic', members=0, partitions=6,
                     topics=['orders'], lag=120),
                dict(group_id='audit', state='Stable', type='consumer', members=None, partitions=6,
                     topics=['payments'], lag=0),
                dict(group_id='shipping', state='Empty', type='classic', members=0, partitions=6,
                     topics=['orders'], lag=16066218)],
        summary=dict(brokers=3, fenced_brokers=0, topics=3, partitions=12, replicas=36, under_replicated=0,
                     offline=0, groups=3, total_lag=16066338),
    )


# --------------------------------------------------------------- brokers

def test_broker_rows_are_sorted_with_shares_and_excess(info):
    rows = kr.kafka_report_brokers(info)
    assert [r['id'] for r in rows] == [1, 2, 3]
    first = rows[0]
    assert (first['leaders'], first['preferred_leaders'], first['leader_excess']) == (8, 4, 4)
    # 8 of the 12 partitions, 12 of the 36 replicas.
    assert first['leader_share'] == pytest.approx(0.6667, abs=1e-4)
    assert first['replica_share'] == pytest.approx(0.3333, abs=1e-4)
    assert rows[2]['leader_excess'] == -4


def test_broker_rows_of_an_empty_cluster_do_not_divide_by_zero():
    rows = kr.kafka_report_brokers(dict(brokers=[broker(1, 0, 0, 0)], topics=[]))
    assert rows[0]['leader_share'] == 0.0 and rows[0]['replica_share'] == 0.0


# ------------------------------------------------------------------ skew

def test_skew_verdict_spread_and_busiest_broker(info):
    skew = kr.kafka_report_skew(info)
    assert skew['ratio'] == 0.3333 and skew['skewed'] is True
    assert skew['leader_spread'] == 8
    assert (skew['busiest_broker'], skew['busiest_leaders']) == (1, 8)
    assert kr.kafka_report_skew(info, threshold=0.5)['skewed'] is False


def test_skew_ignores_fenced_brokers_for_the_spread(info):
    info['brokers'][2]['fenced'] = True
    skew = kr.kafka_report_skew(info)
    assert skew['leader_spread'] == 4  # brokers 1 (8) and 2 (4); fenced broker 3 leads nothing by definition


def test_skew_threshold_must_be_a_number(info):
    with pytest.raises(AnsibleFilterError, match='threshold must be a number'):
        kr.kafka_report_skew(info, threshold='lots')


# ---------------------------------------------------------------- groups

def test_lagging_groups_largest_first_without_idle_groups(info):
    groups = kr.kafka_report_lagging_groups(info)
    assert [g['group_id'] for g in groups] == ['shipping', 'billing']
    assert groups[0]['lag_share'] == pytest.approx(16066218 / 16066338.0, abs=1e-4)


def test_lagging_groups_top_and_min_lag(info):
    assert [g['group_id'] for g in kr.kafka_report_lagging_groups(info, top=1)] == ['shipping']
    assert [g['group_id'] for g in kr.kafka_report_lagging_groups(info, min_lag=1000)] == ['shipping']
    everything = kr.kafka_report_lagging_groups(info, min_lag=0)
    assert [g['group_id'] for g in everything] == ['shipping', 'billing', 'audit']


def test_lagging_groups_without_group_data(info):
    del info['groups']
    assert kr.kafka_report_lagging_groups(info) == []
    assert kr.kafka_report(info)['groups_included'] is False


# ---------------------------------------------------------------- report

def test_report_of_a_skewed_cluster_is_a_warning_naming_the_busy_broker(info):
    report = kr.kafka_report(info)
    assert report['status'] == kr.WARNING
    assert len(report['findings']) == 1
    assert 'broker 1 leads 8' in report['findings'][0]['text']
    assert 'leader_rebalance.yml' in report['findings'][0]['text']
    assert [t['name'] for t in report['topics']] == ['orders', 'payments', '__consumer_offsets']
    assert report['lagging_groups'][0]['group_id'] == 'shipping'


def test_report_of_a_balanced_cluster_is_healthy(info):
    info['skew'].update(not_preferred=0, ratio=0.0)
    assert kr.kafka_report(info)['status'] == kr.HEALTHY
    assert kr.kafka_report(info)['findings'] == []


def test_offline_partitions_make_the_report_critical(info):
    info['offline'] = [dict(topic='orders', partition=p, leader=None, replicas=[3, 1], isr=[3], offline_replicas=[3])
                       for p in range(7)]
    report = kr.kafka_report(info, skew_threshold=0.9)
    assert report['status'] == kr.CRITICAL
    text = report['findings'][0]['text']
    assert text.startswith('7 partition(s) are offline')
    assert 'orders-0, orders-1, orders-2, orders-3, orders-4 and 2 more' in text


def test_fenced_broker_under_replication_and_quorum_problems(info):
    info['brokers'][0]['fenced'] = True
    info['under_replicated'] = [dict(topic='orders', partition=1, leader=1, replicas=[2, 1, 3], isr=[1, 3],
                                     offline_replicas=[])]
    info['quorum']['voters'][2]['lag'] = 500
    texts = [f['text'] for f in kr.kafka_report(info, skew_threshold=0.9)['findings']]
    assert 'Controller 3 is 500 metadata records behind the quorum leader.' in texts
    assert 'Broker 2 is fenced (stopped or not heartbeating).' in texts
    assert '1 partition(s) are under-replicated: orders-1.' in texts


def test_quorum_without_leader_is_critical(info):
    info['quorum']['leader_id'] = None
    report = kr.kafka_report(info, skew_threshold=0.9)
    assert report['status'] == kr.CRITICAL
    assert 'no leader' in report['findings'][0]['text']


@pytest.mark.parametrize('bad, message', [
    ('not a result', 'expects the registered result'),
    ({'failed': True, 'msg': 'Cannot reach any bootstrap server'}, 'Cannot reach any bootstrap server'),
    ({'cluster_id': 'x'}, 'has no brokers or topics'),
])
def test_wrong_input_is_explained(bad, message):
    with pytest.raises(AnsibleFilterError, match=message):
        kr.kafka_report(bad)


# ----------------------------------------------------------------- chart

def bars(svg, fill):
    root = ET.fromstring(svg)
    return [r for r in root.iter(SVG + 'rect') if r.get('fill') == fill and r.find(SVG + 'title') is not None]


def test_chart_is_valid_svg_with_a_leader_and_a_replica_bar_per_broker(info):
    svg = kr.kafka_report_bar_chart(kr.kafka_report_brokers(info))
    root = ET.fromstring(svg)
    assert root.tag == SVG + 'svg'
    leader_bars = bars(svg, kr.CHART_COLORS['leaders'])
    replica_bars = bars(svg, kr.CHART_COLORS['replicas'])
    assert [b.find(SVG + 'title').text for b in leader_bars] == [
        'broker 1: leads 8 partitions', 'broker 2: leads 4 partitions', 'broker 3: leads 0 partitions']
    assert len(replica_bars) == 3
    # Heights are proportional: broker 1 leads twice what broker 2 leads.
    assert float(leader_bars[0].get('height')) == pytest.approx(2 * float(leader_bars[1].get('height')), abs=0.2)
    assert float(leader_bars[2].get('height')) == 0
    labels = [t.text for t in root.iter(SVG + 'text')]
    assert {'broker 1', 'broker 2', 'broker 3'} <= set(labels)


def test_chart_marks_preferred_leaders_and_fenced_brokers(info):
    info['brokers'][2]['fenced'] = True
    svg = kr.kafka_report_bar_chart(kr.kafka_report_brokers(info))
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter(SVG + 'title')]
    assert 'broker 3: preferred leader of 4 partitions' in titles
    assert 'broker 3 (fenced)' in [t.text for t in root.iter(SVG + 'text')]


def test_chart_tallest_bar_fits_and_grid_uses_round_steps():
    svg = kr.kafka_report_bar_chart([broker(1, 7, 5, 23), broker(2, 3, 5, 23)])
    root = ET.fromstring(svg)
    replica = bars(svg, kr.CHART_COLORS['replicas'])[0]
    assert float(replica.get('y')) >= kr.CHART_MARGIN['top'] - 0.1
    grid_labels = [t.text for t in root.iter(SVG + 'text') if t.get('text-anchor') == 'end']
    assert grid_labels == ['0', '10', '20', '30']


def test_chart_title_is_escaped():
    svg = kr.kafka_report_bar_chart([broker(1, 1, 1, 1)], title='<script>alert(1)</script>')
    assert '<script>' not in svg
    assert ET.fromstring(svg).find(SVG + 'title').text == '<script>alert(1)</script>'


def test_chart_rejects_other_input():
    with pytest.raises(AnsibleFilterError, match='list of broker rows'):
        kr.kafka_report_bar_chart({'brokers': []})


@pytest.mark.parametrize('peak, step', [(1, 1), (4, 1), (7, 2), (23, 10), (100, 50), (1234, 500)])
def test_nice_steps(peak, step):
    assert kr._nice_step(peak, kr.CHART_GRID_LINES) == step


# -------------------------------------------------------- plugin & docs

def test_every_filter_is_registered_and_documented():
    names = sorted(kr.FilterModule().filters())
    assert names == ['kafka_report', 'kafka_report_bar_chart', 'kafka_report_brokers', 'kafka_report_lagging_groups',
                     'kafka_report_skew']
    for name in names:
        doc = os.path.join(REPO_ROOT, 'plugins', 'filter', name + '.yml')
        with open(doc) as handle:
            assert re.search(r'^\s+name: %s$' % name, handle.read(), re.M), doc


# ------------------------------------------------------------- templates

def render(template_name, report):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters['kraft.kafka.kafka_report_bar_chart'] = kr.kafka_report_bar_chart
    return env.get_template(template_name).render(report=report, report_generated_at='2026-11-25 10:00:00 UTC',
                                                  report_bootstrap_servers=['kafka1:9092'],
                                                  report_fingerprint='0' * 40)


def test_html_escapes_names_and_embeds_the_chart(info):
    info['groups'][0]['group_id'] = '<img src=x onerror=alert(1)>'
    html = render('report.html.j2', kr.kafka_report(info))
    assert '<img src=x' not in html
    assert '&lt;img src=x onerror=alert(1)&gt;' in html
    assert html.count('<svg ') == 1
    assert not re.search(r'<script|<link|https?://(?!www\.w3\.org/2000/svg)', html)


def test_markdown_escapes_table_separators(info):
    info['groups'][0]['group_id'] = 'team|billing'
    md = render('report.md.j2', kr.kafka_report(info))
    assert '| team\\|billing | Empty |' in md
    assert '| 1 | 10.0.0.1:9092 | - | up | 8 | 4 | 12 | 66.7 % |' in md


def test_critical_findings_come_first(info):
    info['under_replicated'] = [dict(topic='orders', partition=1, leader=1, replicas=[2, 1, 3], isr=[1, 3],
                                     offline_replicas=[])]
    info['offline'] = [dict(topic='orders', partition=2, leader=None, replicas=[3], isr=[3], offline_replicas=[3])]
    levels = [f['level'] for f in kr.kafka_report(info)['findings']]
    assert levels == [kr.CRITICAL, kr.WARNING, kr.WARNING]


def test_html_cards_shorten_large_numbers_and_keep_the_exact_value(info):
    html = render('report.html.j2', kr.kafka_report(info))
    assert '16.1&#8201;M' in html and '16,066,338 records' in html
    assert '<strong>16,066,218</strong>' in html  # the group row keeps every digit
