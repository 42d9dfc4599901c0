#!/usr/bin/python3
# Stand-in for Mosquitto's own test suite: scripts/broker-suite.sh copies it to
# <tree>/src/mosquitto, the path the suite's tests start their broker from
# (../../src/mosquitto). It execs Debian's /usr/sbin/mosquitto (exec, not a
# child: the test's Popen handle, terminate() and SIGHUP must reach the broker
# itself), loading our plugin into every broker the suite starts.
#
# Its settings are one file beside it, src/mosquitto.standin, written by the
# runner: line 1 the plugin's path (empty: plain mode, arguments passed on
# untouched), line 2 the folder for the modified configs.
#
# The test's own config is never edited (tests rewrite or delete it): a copy
# with the plugin lines goes into that folder and the broker gets the copy.
# Relative paths in a config (acl_file, password_file, ...) are opened from
# the broker's working folder, not the config's, so the copy can live anywhere.
import os
import re
import sys

BROKER = "/usr/sbin/mosquitto"


def extra_plugin_options(config_lines):
    """plugin_opt_... lines to give our plugin for this test's config.

    The one place to choose options per test: config_lines is the test's
    config as a list of lines ([] for a `-p PORT` broker). The README tells
    an operator to load the plugin first and set no options: its default,
    acl_fallback auto, reads the broker's configuration (acl_file,
    auth_plugin, other plugin lines, per listener with
    per_listener_settings) and defers to other access control where there is
    any. So none, whatever the config holds."""
    return []


def plugin_block(plugin, config_lines):
    return ["plugin %s\n" % plugin] + [
        line if line.endswith("\n") else line + "\n"
        for line in extra_plugin_options(config_lines)]


def has_ipv6_loopback():
    # `mosquitto -p PORT` without a config listens on 127.0.0.1 and, where the
    # host has it, ::1; a config listener that cannot bind stops the broker,
    # so ::1 is named only when it exists.
    try:
        with open("/proc/net/if_inet6") as f:
            return any(l.split()[0] == "0" * 31 + "1" for l in f if l.strip())
    except OSError:
        return False


def config_for_ports(plugin, ports):
    # What `mosquitto -p PORT` does without -c (src/mosquitto.c local-only
    # mode): loopback listeners per port, anonymous clients allowed.
    lines = []
    for port in ports:
        lines.append("listener %s 127.0.0.1\n" % port)
        if has_ipv6_loopback():
            lines.append("listener %s ::1\n" % port)
    lines.append("allow_anonymous true\n")
    return lines + plugin_block(plugin, [])


def config_with_plugin(plugin, lines):
    # Without per_listener_settings the plugin goes first: before the test's
    # own plugins (ours should decide first, as the README tells users to load
    # it) and before anything that could follow. With per_listener_settings
    # true each listener has its own plugins: the block follows every
    # `listener` line, and the per_listener_settings line if the default
    # listener (`port N`) is used; naming a plugin for a default listener the
    # config does not use would open an extra one on port 1883.
    words = [l.split() for l in lines]
    lines = [l if l.endswith("\n") else l + "\n" for l in lines]
    per_listener = any(w[:2] == ["per_listener_settings", "true"] for w in words)
    if not per_listener:
        return plugin_block(plugin, lines) + lines
    uses_default = any(w[:1] == ["port"] for w in words)
    out, seen = [], set()
    for line, w in zip(lines, words):
        out.append(line)
        if w[:1] == ["per_listener_settings"] and uses_default:
            out += plugin_block(plugin, lines)
        elif w[:1] == ["listener"] and tuple(w[1:3]) not in seen:
            seen.add(tuple(w[1:3]))  # a repeated `listener` reopens the same one
            out += plugin_block(plugin, lines)
    return out


def main():
    here = os.path.dirname(os.path.abspath(sys.argv[0]))
    with open(os.path.join(here, "mosquitto.standin")) as f:
        settings = f.read().split("\n")
    plugin, conf_dir = settings[0].strip(), settings[1].strip()
    args = sys.argv[1:]
    if not plugin:
        os.execv(BROKER, [BROKER] + args)

    conf_at = None
    ports = []
    for i, a in enumerate(args):
        if a in ("-c", "--config-file") and i + 1 < len(args):
            conf_at = i + 1
        elif a in ("-p", "--port") and i + 1 < len(args):
            ports.append(i + 1)

    if conf_at is not None:
        with open(args[conf_at]) as f:
            new = config_with_plugin(plugin, f.readlines())
        name = os.path.basename(args[conf_at])
        rest = args
    else:
        # -p only: a config stands for the ports; -p is dropped (the broker
        # ignores -p when its config has listeners anyway).
        new = config_for_ports(plugin, [args[i] for i in ports])
        name = "ports-" + "-".join(args[i] for i in ports) + ".conf"
        drop = set(ports) | {i - 1 for i in ports}
        rest = [a for i, a in enumerate(args) if i not in drop]
        rest += ["-c", None]
        conf_at = len(rest) - 1

    # One copy per broker process (exec keeps the pid); the broker reads it
    # again at SIGHUP, so it stays.
    path = os.path.join(conf_dir, "%d-%s" % (os.getpid(), re.sub(r"[^\w.-]", "_", name)))
    with open(path, "w") as f:
        f.writelines(new)
    os.chmod(path, 0o644)
    rest = list(rest)
    rest[conf_at] = path
    os.execv(BROKER, [BROKER] + rest)


main()
