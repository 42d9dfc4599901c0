#!/usr/bin/python3
"""The Debian package: debian/ builds with dpkg-buildpackage from a copy of
the source tree; the .deb puts the plugin beside Debian's own
mosquitto_dynamic_security.so and its snippet in /etc/mosquitto/conf.d/; once
installed, a mosquitto started from /etc/mosquitto/mosquitto.conf (on a free
port: the system's own broker and port 1883 are left alone) loads it and a
request gets its receipt.

The test installs the package on this machine and, unless it was installed
before, purges it again, restoring a plugin that `meson install` had put
there.

The broker that runs the system configuration is RCPT_MOSQUITTO's when set
(the version matrix): the package's files and its conf.d snippet do not
depend on the release, so a system whose mosquitto is another 2.0 release
must work with them as they are. Only the package's location for the plugin
comes from Debian's mosquitto package."""

import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile

from rcpt_interop import (SOURCE_DIR, Broker, Program, check, check_eq, free_port, main, run)

PACKAGE = 'mosquitto-receipts'
SYSTEM_CONF = '/etc/mosquitto/mosquitto.conf'
SNIPPET = '/etc/mosquitto/conf.d/receipts.conf'
BUILD_TIMEOUT_S = 110
APT = ['apt-get', '-y', '-q', '-o', 'DPkg::Lock::Timeout=60']

LEFTOVERS = ('obj-', 'debian/.debhelper/', 'debian/%s/' % PACKAGE, 'debian/%s-dbgsym/' % PACKAGE, 'debian/tmp/')

built = {}


def dynsec_dir():
    rc, out, _ = run(['dpkg', '-L', 'mosquitto'])
    check_eq(rc, 0, 'dpkg -L mosquitto')
    paths = [p for p in out.splitlines() if p.endswith('/mosquitto_dynamic_security.so')]
    check_eq(len(paths), 1, 'mosquitto_dynamic_security.so in the mosquitto package')
    return os.path.dirname(paths[0])


def source_copy(dest):
    """The files a fresh clone would have: tracked ones and new ones that
    .gitignore does not exclude (no build directories)."""
    out = subprocess.run(['git', '-C', SOURCE_DIR, 'ls-files', '-z', '-co', '--exclude-standard'],
                         capture_output=True, check=True).stdout
    for rel in filter(None, out.decode().split('\0')):
        # Left by an earlier dpkg-buildpackage in the tree itself.
        if rel.startswith(LEFTOVERS):
            continue
        src = os.path.join(SOURCE_DIR, rel)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))


def deb_package_builds_with_plugin_and_snippet(fx):
    tmp = tempfile.mkdtemp(prefix='rcpt-deb-')
    # apt reads the .deb later as its sandbox user.
    os.chmod(tmp, 0o755)
    fx.add(lambda: shutil.rmtree(tmp, ignore_errors=True) if 'deb' not in built else None)
    src = os.path.join(tmp, 'src')
    source_copy(src)
    env = dict(os.environ, DEB_BUILD_OPTIONS='nocheck parallel=%d' % (os.cpu_count() or 1))
    p = subprocess.run(['dpkg-buildpackage', '-b', '-us', '-uc'], cwd=src, env=env, capture_output=True,
                       text=True, timeout=BUILD_TIMEOUT_S, stdin=subprocess.DEVNULL)
    check(p.returncode == 0, 'dpkg-buildpackage exit %d:\n%s%s' % (p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
    debs = glob.glob(os.path.join(tmp, '%s_*.deb' % PACKAGE))
    check_eq(len(debs), 1, 'packages built (%r)' % os.listdir(tmp))
    rc, out, err = run(['dpkg-deb', '-c', debs[0]])
    files = sorted(line.split()[-1][1:] for line in out.splitlines() if not line.startswith('d'))
    expected = [SNIPPET, os.path.join(dynsec_dir(), 'mosquitto_receipts.so')]
    check_eq([f for f in files if not f.startswith('/usr/share/doc/')], sorted(expected),
             'files outside /usr/share/doc')
    examples = '/usr/share/doc/%s/examples/' % PACKAGE
    check_eq(sorted(f[len(examples):] for f in files if f.startswith(examples)),
             ['bridged/core.conf', 'bridged/edge-a.conf', 'bridged/edge-b.conf', 'bridged/peers.passwd',
              'dynsec/make-dynsec.py', 'dynsec/mosquitto.conf',
              'requester.c', 'requester.py', 'responder.c', 'responder.py',
              'secure/acl', 'secure/make-passwords.sh', 'secure/mosquitto.conf'], 'examples')
    rc, out, err = run(['dpkg-deb', '-I', debs[0], 'conffiles'])
    check_eq((rc, out), (0, SNIPPET + '\n'), 'conffiles')
    built['deb'], built['dir'] = debs[0], tmp


def installed_status():
    rc, out, _ = run(['dpkg-query', '-W', '-f=${Status}', PACKAGE])
    return out if rc == 0 else ''


def install(fx, deb):
    """Installs the package; the fixture undoes it (purge, and the plugin a
    `meson install` had left is put back) unless it was installed before."""
    before = installed_status()
    plugin = os.path.join(dynsec_dir(), 'mosquitto_receipts.so')
    backup = None
    if 'ok installed' not in before and os.path.exists(plugin):
        backup = os.path.join(built['dir'], 'plugin-before-install.so')
        shutil.copy2(plugin, backup)

    def undo():
        if 'ok installed' not in before:
            run(APT + ['purge', PACKAGE], timeout=120)
            if backup:
                shutil.copy2(backup, plugin)
        shutil.rmtree(built['dir'], ignore_errors=True)
    fx.add(undo)
    rc, out, err = run(APT + ['install', '--no-install-recommends', deb], timeout=120)
    check(rc == 0, 'apt-get install exit %d: %s %s' % (rc, out[-2000:], err[-2000:]))
    check_eq(installed_status(), 'install ok installed', 'package status')
    return plugin


def system_conf_on_free_port(tmp, port):
    """/etc/mosquitto/mosquitto.conf as it is, conf.d included, except what
    would touch the system broker's files: its pid file, its persistence
    folder and its log file; and a listener on a free loopback port."""
    with open(SYSTEM_CONF) as f:
        conf = f.read()
    check(re.search(r'^include_dir /etc/mosquitto/conf.d$', conf, re.M), 'include_dir in ' + SYSTEM_CONF)
    db = os.path.join(tmp, 'db')
    os.makedirs(db)
    os.chown(db, pwd.getpwnam('mosquitto').pw_uid, -1)
    conf = re.sub(r'^pid_file .*$', '', conf, flags=re.M)
    conf = re.sub(r'^persistence_location .*$', 'persistence_location %s/' % db, conf, flags=re.M)
    conf = re.sub(r'^log_dest .*$', 'log_dest stderr', conf, flags=re.M)
    return 'listener %d 127.0.0.1\nallow_anonymous true\n%s' % (port, conf)


def deb_installed_plugin_gives_receipt_through_system_config(fx):
    check('deb' in built, 'no package was built')
    plugin = install(fx, built['deb'])
    check(os.path.exists(SNIPPET), SNIPPET + ' installed')
    tmp = tempfile.mkdtemp(prefix='rcpt-deb-broker-')
    os.chmod(tmp, 0o755)
    port = free_port()
    b = fx.add(Broker(conf=system_conf_on_free_port(tmp, port), port=port, tmpdir=tmp))
    check_eq(len(b.log_lines('Loading plugin: %s' % plugin)), 1, 'plugin loaded from conf.d')
    check_eq(len(b.log_lines('receipts: started: request_prefix=req return_prefix=ret '
                             'default_timeout_ms=30000 ')), 1, 'start-up line with the defaults')
    # The packaged Python example answers; mosquitto_rr asks.
    responder = '/usr/share/doc/%s/examples/responder.py' % PACKAGE
    resp = fx.add(Program(['/usr/bin/python3', responder, '-p', str(port), '-i', 'deb-worker', 'echo']))
    check_eq(resp.line(), 'responder: answering requests on req/echo', 'responder banner')
    got = run(['mosquitto_rr', '-V', '5', '-p', str(port), '-i', 'deb-alice', '-t', 'req/echo',
               '-e', 'ret/deb-alice/replies', '-m', 'hello', '-F', '%p %P', '-W', '5'])
    check_eq(got, (0, 'HELLO receipt:ok\n', ''), 'mosquitto_rr exit, stdout, stderr')
    check_eq(resp.line(), 'responder: answered ret/deb-alice/replies for deb-alice', 'responder output')
    resp.quiet()


if __name__ == '__main__':
    if os.geteuid() != 0:
        print('deb: installing a package needs root; skipped')
        raise SystemExit(77)   # meson's "skipped"
    main([
        deb_package_builds_with_plugin_and_snippet,
        deb_installed_plugin_gives_receipt_through_system_config,
    ])
