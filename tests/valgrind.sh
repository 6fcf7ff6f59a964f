#!/bin/sh
# Runs one test program under valgrind memcheck: the test launcher of the
# TOU_VALGRIND build (`make valgrind`). ctest puts it before every test
# program; the shell-script tests find it in TOU_TEST_WRAP and put it before
# each program they start.
#
# Fails (exit 1) on any memory error and on definite or indirect leaks. Only
# those leak kinds are shown, so any valgrind output at all is a finding:
# the scripted tests also look for it in the logs of processes they kill.
# Suppressions: tests/valgrind.supp (third-party code only).
#
# Valgrind runs a program 20-50 times slower: tests that move a lot of data
# read TOU_TEST_SMALL=1 and move less (each says how much less; `make
# valgrind-full` sets TOU_TEST_SMALL=0), and hang guards (harness.h, the
# scripts' waits) wait TOU_TEST_TIMEOUT_SCALE times longer.
# TOU_VALGRIND_OPTS adds options, e.g. --track-origins=yes to find where an
# uninitialised value came from.
# Usage: tests/valgrind.sh PROGRAM [ARGS...]
export TOU_TEST_SMALL="${TOU_TEST_SMALL:-1}"
export TOU_TEST_TIMEOUT_SCALE="${TOU_TEST_TIMEOUT_SCALE:-5}"
exec valgrind --quiet --error-exitcode=1 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
  --suppressions="$(dirname "$0")/valgrind.supp" ${TOU_VALGRIND_OPTS:-} "$@"
