#!/bin/sh
# mcastproxy — every recipe of docs/cookbook.md, run as written there and
# checked (cookbook.py). Runs inside tests/netns-run: one private namespace
# whose loopback carries multicast stands in for both islands, so the
# multicast groups and the SRT port (7001) of the recipes can stay fixed;
# every TCP listener takes port 0. Usage: cookbook.sh [RECIPE...]
exec python3 "$(dirname "$0")/cookbook.py" "$@"
