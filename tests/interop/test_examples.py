#!/usr/bin/python3
"""The examples: examples/requester.py and examples/responder.py (paho) take
the same command line as the C ones and print the same lines, and every
requester works with every responder. Also: mosquitto.conf.example and
packaging/receipts.conf name every option of include/receipts.h with its
README default."""

import os
import re

from rcpt_interop import (BUILD_DIR, SOURCE_DIR, Broker, Paho, check, check_eq, check_request,
                          example_responder, main, option_names, run)

PY = '/usr/bin/python3'
C_REQUESTER = os.path.join(BUILD_DIR, 'examples', 'requester')
C_RESPONDER = os.path.join(BUILD_DIR, 'examples', 'responder')
PY_REQUESTER = [PY, os.path.join(SOURCE_DIR, 'examples', 'requester.py')]
PY_RESPONDER = [PY, os.path.join(SOURCE_DIR, 'examples', 'responder.py')]
REQUESTERS = {'c': [C_REQUESTER], 'python': PY_REQUESTER}
RESPONDERS = {'c': [C_RESPONDER], 'python': PY_RESPONDER}


def responder(fx, b, lang, cid, area):
    return example_responder(fx, b, RESPONDERS[lang], cid, area)


def request(b, lang, cid, *args):
    return run(REQUESTERS[lang] + ['-p', str(b.port), '-i', cid] + list(args))


def answered_by_each_responder(fx, args, expected_line, return_topic):
    """Every requester with every responder: the same receipt line, and the
    responder's own line naming the requester the broker vouched for."""
    b = fx.add(Broker())
    n = 0
    for resp_lang in RESPONDERS:
        for req_lang in REQUESTERS:
            n += 1
            rid, qid = 'resp-%d' % n, 'alice-%d' % n
            resp = responder(fx, b, resp_lang, rid, 'echo')
            got = request(b, req_lang, qid, *args)
            check_eq(got, (0, expected_line % qid + '\n', ''),
                     '%s requester, %s responder: exit, stdout, stderr' % (req_lang, resp_lang))
            check_eq(resp.line(), 'responder: answered %s for %s' % (return_topic % qid, qid),
                     '%s responder output' % resp_lang)
            resp.quiet()
            resp.stop()


def examples_answer_each_other(fx):
    answered_by_each_responder(fx, ['echo', 'hello'], 'ret/%s/replies receipt: ok payload: HELLO',
                               'ret/%s/replies')


def examples_return_area_and_subject_area_properties(fx):
    answered_by_each_responder(fx, ['-r', 'inbox', '-o', 'devices/42/config', 'echo', 'get config'],
                               'ret/%s/inbox receipt: ok payload: GET CONFIG', 'ret/%s/inbox')


def verdict_in_each_language(fx, args, expected_line, silent_area=None):
    """A broker's verdict, printed alike by both requesters, exit status 1;
    a silent subscriber, when there is one, got each request once."""
    b = fx.add(Broker())
    silent = fx.add(Paho(b.port, 'silent')) if silent_area else None
    if silent:
        check_eq(silent.sub('req/%s' % silent_area), 1, 'SUBACK of the silent subscriber')
    for req_lang in REQUESTERS:
        qid = 'alice-' + req_lang
        check_eq(request(b, req_lang, qid, *args), (1, expected_line % qid + '\n', ''),
                 '%s requester: exit, stdout, stderr' % req_lang)
        if silent:
            check_request(silent.wait(), 'req/%s' % silent_area, args[-1].encode(), qid, b'1',
                          'ret/%s/replies' % qid)
    if silent:
        silent.quiet()


def examples_print_timeout(fx):
    verdict_in_each_language(fx, ['-T', '300', 'silent', 'anyone?'],
                             'ret/%s/replies receipt: timeout (deadline-passed)', 'silent')


def examples_print_no_responders(fx):
    verdict_in_each_language(fx, ['nobody', '?'], 'ret/%s/replies receipt: no-responders (no-subscriber)')


def examples_print_rejected(fx):
    verdict_in_each_language(fx, ['-T', 'abc', 'echo', '?'], 'ret/%s/replies receipt: rejected (bad-timeout)')


def examples_reject_bad_usage_alike(fx):
    for lang in REQUESTERS:
        rc, out, err = run(REQUESTERS[lang] + ['only-area'])
        check_eq((rc, out), (2, ''), '%s requester without MESSAGE: exit, stdout' % lang)
        check('usage: requester' in err, '%s requester usage on stderr: %r' % (lang, err))


# --------------------------------------------------------------------------
# Configuration files against include/receipts.h and README

def option_defaults():
    """{option: default} from README's options table, for every
    RECEIPTS_OPT_* of include/receipts.h."""
    with open(os.path.join(SOURCE_DIR, 'README.md')) as f:
        table = dict(re.findall(r'^\| `(\w+)` \| `?([^|`]+?)`? \|', f.read(), re.M))
    return {n: table.get(n) for n in option_names()}


def check_conf_names_every_option(path):
    with open(os.path.join(SOURCE_DIR, path)) as f:
        text = f.read()
    missing = []
    for name, default in option_defaults().items():
        lines = re.findall(r'^#?plugin_opt_%s\b(.*)$' % name, text, re.M)
        if not lines:
            missing.append('%s: absent' % name)
        elif default is not None and not default.startswith('(') and \
                not any(v.strip() == default for v in lines):
            missing.append('%s: no line with the default %s (%r)' % (name, default, lines))
    check_eq(missing, [], '%s: options' % path)


def conf_example_names_every_option_with_its_default(fx):
    check_conf_names_every_option('mosquitto.conf.example')


def confd_snippet_names_every_option_with_its_default(fx):
    check_conf_names_every_option('packaging/receipts.conf')


if __name__ == '__main__':
    main([
        examples_answer_each_other,
        examples_return_area_and_subject_area_properties,
        examples_print_timeout,
        examples_print_no_responders,
        examples_print_rejected,
        examples_reject_bad_usage_alike,
        conf_example_names_every_option_with_its_default,
        confd_snippet_names_every_option_with_its_default,
    ])
