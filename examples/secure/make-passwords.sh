#!/bin/sh
# Writes the password file of the secure example (default: beside this script)
# with mosquitto_passwd. Demo passwords: the user's name followed by
# "-secret". Choose your own anywhere else.
#   examples/secure/make-passwords.sh [FILE]
set -eu
file=${1:-$(dirname "$0")/passwords}
rm -f "$file"
mosquitto_passwd -c -b "$file" alice alice-secret
for user in bob worker admin guest; do
  mosquitto_passwd -b "$file" "$user" "$user-secret"
done
# The broker reads it after dropping privileges to the user mosquitto.
if id mosquitto >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  chown mosquitto "$file"
fi
chmod 0600 "$file"
