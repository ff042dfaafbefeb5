#!/usr/bin/env bash
# Writes an .env for docker compose to standard output: .env.example with every required secret
# filled in with a fresh random value (the app lists, which are yours to set, stay empty).
#   scripts/secrets.sh > .env      then set IMARCHIVE_NETEASE_APPS (or the iLink or Maxim apps) in it
set -euo pipefail
cd "$(dirname "$0")/.."
rand() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
while IFS= read -r line; do
	case "$line" in
	IMARCHIVE_RECORD_KEYS=) echo "IMARCHIVE_RECORD_KEYS=k1=$(rand)" ;;
	*PASSWORD=) echo "$line$(rand)" ;;
	*) echo "$line" ;;
	esac
done < .env.example
