# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters that turn a kraft.kafka.kafka_cluster_info result into report data.

playbooks/report.yml renders their output into report.md and report.html.
The input ``info`` is the registered result of kafka_cluster_info (see its
RETURN documentation). The documentation of each filter lives next to this
file in ``<filter name>.yml``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

from ansible.errors import AnsibleFilterError

DEFAULT_SKEW_THRESHOLD = 0.1
DEFAULT_TOP_GROUPS = 10

CRITICAL = 'critical'
WARNING = 'warning'
HEALTHY = 'healthy'

# Bar chart geometry (SVG user units, which are CSS pixels at 100 % zoom).
CHART_HEIGHT = 300
CHART_MARGIN = dict(left=52, right=20, top=44, bottom=48)
CHART_GROUP_WIDTH = 140
CHART_BAR_WIDTH = 40
CHART_MIN_WIDTH = 520
CHART_BAR_GAP = 8
CHART_GRID_LINES = 4
CHART_COLORS = dict(leaders='#2563eb', replicas='#a5c8f5', preferred='#0f172a', grid='#e2e8f0',
                    text='#334155', muted='#64748b', fenced='#b91c1c')


# ------------------------------------------------------------------- input

def _require_info(info, filter_name):
    if not isinstance(info, Mapping):
        raise AnsibleFilterError('%s expects the registered result of kraft.kafka.kafka_cluster_info, got %s'
                                 % (filter_name, type(info).__name__))
    if info.get('failed'):
        raise AnsibleFilterError('%s: the kafka_cluster_info task failed: %s' % (filter_name, info.get('msg')))
    missing = [key for key in ('brokers', 'topics') if key not in info]
    if missing:
        raise AnsibleFilterError('%s: the input has no %s; pass the registered result of '
                                 'kraft.kafka.kafka_cluster_info' % (filter_name, ' or '.join(missing)))
    return info


def _number(value, name, filter_name, minimum=0):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError('%s: %s must be a number, got %r' % (filter_name, name, value))
    if number < minimum:
        raise AnsibleFilterError('%s: %s must be %s or more, got %r' % (filter_name, name, minimum, value))
    return number


def _share(part, whole):
    return round(float(part) / whole, 4) if whole else 0.0


# ----------------------------------------------------------------- brokers

def kafka_report_brokers(info):
    """One row per broker with leader and replica counts and shares, sorted by id."""
    info = _require_info(info, 'kafka_report_brokers')
    partitions = sum(t.get('partition_count', 0) for t in info['topics'])
    replicas = sum(b.get('replicas', 0) for b in info['brokers'])
    rows = []
    for broker in sorted(info['brokers'], key=lambda b: b['id']):
        leaders = broker.get('leaders', 0)
        preferred = broker.get('preferred_leaders', 0)
        rows.append(dict(
            id=broker['id'], host=broker.get('host'), port=broker.get('port'), rack=broker.get('rack'),
            fenced=bool(broker.get('fenced')), registered=broker.get('registered', True),
            leaders=leaders, preferred_leaders=preferred, replicas=broker.get('replicas', 0),
            leader_share=_share(leaders, partitions), replica_share=_share(broker.get('replicas', 0), replicas),
            leader_excess=leaders - preferred,
        ))
    return rows


# -------------------------------------------------------------------- skew

def kafka_report_skew(info, threshold=DEFAULT_SKEW_THRESHOLD):
    """The module's skew numbers plus spread, busiest broker and a verdict against threshold."""
    info = _require_info(info, 'kafka_report_skew')
    threshold = _number(threshold, 'threshold', 'kafka_report_skew')
    skew = dict(info.get('skew') or {})
    live = [b for b in kafka_report_brokers(info) if b['registered'] and not b['fenced']]
    counts = [b['leaders'] for b in live]
    busiest = max(live, key=lambda b: (b['leaders'], -b['id'])) if live else None
    skew.update(
        threshold=threshold,
        skewed=skew.get('ratio', 0.0) > threshold,
        leader_spread=(max(counts) - min(counts)) if counts else 0,
        busiest_broker=busiest['id'] if busiest else None,
        busiest_leaders=busiest['leaders'] if busiest else 0,
    )
    return skew


# ------------------------------------------------------------------ groups

def kafka_report_lagging_groups(info, top=DEFAULT_TOP_GROUPS, min_lag=1):
    """Consumer groups with lag >= min_lag, largest lag first, at most `top` of them."""
    info = _require_info(info, 'kafka_report_lagging_groups')
    top = int(_number(top, 'top', 'kafka_report_lagging_groups'))
    min_lag = _number(min_lag, 'min_lag', 'kafka_report_lagging_groups')
    groups = [g for g in info.get('groups') or [] if (g.get('lag') or 0) >= min_lag]
    groups.sort(key=lambda g: (-(g.get('lag') or 0), g['group_id']))
    total = sum(g.get('lag') or 0 for g in groups) or 0
    return [dict(g, lag_share=_share(g.get('lag') or 0, total)) for g in groups[:top]]


# ------------------------------------------------------------------ topics

def _topic_rows(info):
    return [dict(name=t['name'], internal=bool(t.get('internal')), partitions=t.get('partition_count', 0),
                 replication_factor=t.get('replication_factor', 0), under_replicated=t.get('under_replicated', 0),
                 offline=t.get('offline', 0), not_preferred=t.get('not_preferred', 0))
            for t in sorted(info['topics'], key=lambda t: (bool(t.get('internal')), t['name']))]


# ---------------------------------------------------------------- findings

def _quorum_findings(quorum):
    if not quorum:
        return []
    if quorum.get('leader_id') is None:
        return [(CRITICAL, 'The metadata quorum has no leader: no metadata change is possible.')]
    lagging = [v for v in quorum.get('voters') or [] if (v.get('lag') or 0) > 10]
    return [(WARNING, 'Controller %d is %d metadata records behind the quorum leader.' % (v['id'], v['lag']))
            for v in lagging]


def _broker_findings(brokers):
    return [(CRITICAL if not b['registered'] else WARNING,
             'Broker %d is %s.' % (b['id'], 'not registered' if not b['registered'] else 'fenced (stopped or not '
                                   'heartbeating)'))
            for b in brokers if b['fenced'] or not b['registered']]


def _partition_findings(info):
    findings = []
    if info.get('offline'):
        findings.append((CRITICAL, '%d partition(s) are offline (no leader): %s.'
                         % (len(info['offline']), _partition_names(info['offline']))))
    if info.get('under_replicated'):
        findings.append((WARNING, '%d partition(s) are under-replicated: %s.'
                         % (len(info['under_replicated']), _partition_names(info['under_replicated']))))
    return findings


def _partition_names(partitions, limit=5):
    names = ['%s-%s' % (p['topic'], p['partition']) for p in partitions[:limit]]
    more = ' and %d more' % (len(partitions) - limit) if len(partitions) > limit else ''
    return ', '.join(names) + more


def _skew_findings(skew):
    if not skew.get('skewed'):
        return []
    return [(WARNING, '%.0f %% of the partitions (%d of %d) are not led by their preferred replica; broker %s leads '
                      '%d. Run playbooks/leader_rebalance.yml.'
             % (skew['ratio'] * 100, skew['not_preferred'], skew['partitions'], skew['busiest_broker'],
                skew['busiest_leaders']))]


def _findings(info, brokers, skew):
    found = (_quorum_findings(info.get('quorum')) + _broker_findings(brokers) + _partition_findings(info)
             + _skew_findings(skew))
    # Critical findings first; within a level, quorum, brokers, partitions, skew (sorted() is stable).
    found = sorted(found, key=lambda finding: finding[0] != CRITICAL)
    return [dict(level=level, text=text) for level, text in found]


def _status(findings):
    levels = set(f['level'] for f in findings)
    return CRITICAL if CRITICAL in levels else WARNING if WARNING in levels else HEALTHY


# ------------------------------------------------------------------ report

def kafka_report(info, top_groups=DEFAULT_TOP_GROUPS, skew_threshold=DEFAULT_SKEW_THRESHOLD):
    """Everything report.md.j2 and report.html.j2 show, in one dict."""
    info = _require_info(info, 'kafka_report')
    brokers = kafka_report_brokers(info)
    skew = kafka_report_skew(info, skew_threshold)
    findings = _findings(info, brokers, skew)
    summary = dict(info.get('summary') or {})
    return dict(
        cluster_id=info.get('cluster_id'), controller_id=info.get('controller_id'),
        status=_status(findings), findings=findings, summary=summary,
        brokers=brokers, skew=skew, topics=_topic_rows(info),
        under_replicated=list(info.get('under_replicated') or []), offline=list(info.get('offline') or []),
        quorum=dict(info.get('quorum') or {}), features=dict(info.get('features') or {}),
        groups_included=info.get('groups') is not None,
        lagging_groups=kafka_report_lagging_groups(info, top_groups),
        group_count=len(info.get('groups') or []),
    )


# ------------------------------------------------------------------- chart

def _nice_step(maximum, lines):
    """A 1/2/5 x 10^n step so that `lines` steps cover maximum."""
    raw = max(float(maximum) / lines, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)


def _svg(tag, attrs, body=None):
    text = ' '.join('%s=%s' % (k.replace('_', '-'), quoteattr(str(v))) for k, v in attrs)
    return '<%s %s/>' % (tag, text) if body is None else '<%s %s>%s</%s>' % (tag, text, body, tag)


def _chart_bar(x, value, top, scale, color, label):
    height = value * scale
    y = top - height
    return (_svg('rect', [('x', x), ('y', round(y, 1)), ('width', CHART_BAR_WIDTH), ('height', round(height, 1)),
                          ('rx', 3), ('fill', color)], '<title>%s</title>' % escape(label))
            + _svg('text', [('x', x + CHART_BAR_WIDTH / 2.0), ('y', round(y - 6, 1)), ('text-anchor', 'middle'),
                            ('font-size', 12), ('fill', CHART_COLORS['text'])], str(value)))


def _chart_group(index, broker, base, scale, group_width):
    x = CHART_MARGIN['left'] + index * group_width + (group_width - 2 * CHART_BAR_WIDTH - CHART_BAR_GAP) / 2.0
    name = 'broker %d' % broker['id']
    parts = [
        _chart_bar(x, broker['leaders'], base, scale, CHART_COLORS['leaders'],
                   '%s: leads %d partitions' % (name, broker['leaders'])),
        _chart_bar(x + CHART_BAR_WIDTH + CHART_BAR_GAP, broker['replicas'], base, scale, CHART_COLORS['replicas'],
                   '%s: hosts %d partition replicas' % (name, broker['replicas'])),
    ]
    preferred_y = round(base - broker['preferred_leaders'] * scale, 1)
    parts.append(_svg('line', [('x1', x - 4), ('x2', x + CHART_BAR_WIDTH + 4), ('y1', preferred_y),
                               ('y2', preferred_y), ('stroke', CHART_COLORS['preferred']), ('stroke_width', 2),
                               ('stroke_dasharray', '4 3')],
                      '<title>%s</title>' % escape('%s: preferred leader of %d partitions'
                                                   % (name, broker['preferred_leaders']))))
    fenced = broker.get('fenced') or not broker.get('registered', True)
    parts.append(_svg('text', [('x', x + CHART_BAR_WIDTH + CHART_BAR_GAP / 2.0), ('y', base + 20),
                               ('text-anchor', 'middle'), ('font-size', 13), ('font-weight', 600),
                               ('fill', CHART_COLORS['fenced'] if fenced else CHART_COLORS['text'])],
                      escape(name + (' (fenced)' if fenced else ''))))
    return ''.join(parts)


def _chart_grid(width, base, step, lines, scale):
    parts = []
    for i in range(lines + 1):
        y = round(base - i * step * scale, 1)
        parts.append(_svg('line', [('x1', CHART_MARGIN['left']), ('x2', width - CHART_MARGIN['right']),
                                   ('y1', y), ('y2', y), ('stroke', CHART_COLORS['grid'])]))
        parts.append(_svg('text', [('x', CHART_MARGIN['left'] - 8), ('y', y + 4), ('text-anchor', 'end'),
                                   ('font-size', 11), ('fill', CHART_COLORS['muted'])], str(i * step)))
    return ''.join(parts)


CHART_LEGEND = (('leaders', 'leaders', 'rect'), ('replicas', 'partition replicas', 'rect'),
                ('preferred', 'preferred leaders', 'line'))


def _legend_item_width(label):
    # 20 px swatch and gap, about 7 px per character at 12 px, 24 px between items.
    return 20 + 7 * len(label) + 24


def _chart_legend():
    parts, x = [], CHART_MARGIN['left']
    for key, label, shape in CHART_LEGEND:
        if shape == 'rect':
            parts.append(_svg('rect', [('x', x), ('y', 12), ('width', 14), ('height', 14), ('rx', 3),
                                       ('fill', CHART_COLORS[key])]))
        else:
            parts.append(_svg('line', [('x1', x), ('x2', x + 14), ('y1', 19), ('y2', 19),
                                       ('stroke', CHART_COLORS[key]), ('stroke_width', 2),
                                       ('stroke_dasharray', '4 3')]))
        parts.append(_svg('text', [('x', x + 20), ('y', 24), ('font-size', 12), ('fill', CHART_COLORS['text'])],
                          escape(label)))
        x += _legend_item_width(label)
    return ''.join(parts)


def _chart_width(count):
    groups = CHART_MARGIN['left'] + CHART_MARGIN['right'] + CHART_GROUP_WIDTH * max(count, 1)
    legend = CHART_MARGIN['left'] + CHART_MARGIN['right'] + sum(_legend_item_width(l) for _k, l, _s in CHART_LEGEND)
    return max(groups, legend, CHART_MIN_WIDTH)


def _chart_rows(brokers):
    if not isinstance(brokers, (list, tuple)) or not all(isinstance(b, Mapping) and 'id' in b for b in brokers):
        raise AnsibleFilterError('kafka_report_bar_chart expects a list of broker rows (kafka_report_brokers)')
    return [dict(b, leaders=b.get('leaders', 0), replicas=b.get('replicas', 0),
                 preferred_leaders=b.get('preferred_leaders', 0))
            for b in sorted(brokers, key=lambda b: b['id'])]


def _chart_scale(rows, base):
    """(grid step, grid lines, pixels per unit) so the largest value fits under the top margin."""
    peak = max([max(b['leaders'], b['replicas'], b['preferred_leaders']) for b in rows] + [1])
    step = _nice_step(peak, CHART_GRID_LINES)
    lines = int(math.ceil(float(peak) / step))
    return step, lines, float(base - CHART_MARGIN['top']) / (lines * step)


def kafka_report_bar_chart(brokers, title='Leaders and partition replicas per broker'):
    """Self-contained inline SVG: leaders and replicas per broker, preferred leaders as dashed marks.

    Takes the rows of kafka_report_brokers (or kafka_cluster_info's brokers).
    """
    rows = _chart_rows(brokers)
    width = _chart_width(len(rows))
    # Groups share the plot area evenly when the legend makes the chart wider than they need.
    group_width = float(width - CHART_MARGIN['left'] - CHART_MARGIN['right']) / max(len(rows), 1)
    base = CHART_HEIGHT - CHART_MARGIN['bottom']
    step, lines, scale = _chart_scale(rows, base)
    body = (_svg('title', [('id', 'kafka-chart-title')], escape(title)) + _chart_legend()
            + _chart_grid(width, base, step, lines, scale)
            + ''.join(_chart_group(i, b, base, scale, group_width) for i, b in enumerate(rows)))
    return _svg('svg', [('xmlns', 'http://www.w3.org/2000/svg'), ('width', width), ('height', CHART_HEIGHT),
                        ('viewBox', '0 0 %d %d' % (width, CHART_HEIGHT)), ('role', 'img'),
                        ('aria_labelledby', 'kafka-chart-title'), ('font-family', 'system-ui, sans-serif'),
                        ('class', 'kafka-chart')], body)


class FilterModule(object):
    """kraft.kafka report filters."""

    def filters(self):
        return {
            'kafka_report': kafka_report,
            'kafka_report_brokers': kafka_report_brokers,
            'kafka_report_skew': kafka_report_skew,
            'kafka_report_lagging_groups': kafka_report_lagging_groups,
            'kafka_report_bar_chart': kafka_report_bar_chart,
        }
