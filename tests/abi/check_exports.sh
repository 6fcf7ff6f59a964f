#!/usr/bin/env bash
# Checks the export list of the shared library:
#   1. every exported (defined, dynamic) symbol starts with tou_;
#   2. the SONAME is the expected one (libtou.so.<major>);
#   3. every function declared in the public header is exported.
# Usage: check_exports.sh LIBRARY EXPECTED_SONAME [PUBLIC_HEADER]
# The header check is skipped (with a note) when the header does not exist.
set -euo pipefail

lib=$1
want_soname=$2
header=${3:-}
fail=0

[ -f "$lib" ] || { echo "FAIL: no library at $lib"; exit 1; }

exports=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u)
echo "exported symbols: $(printf '%s\n' "$exports" | grep -c . || true)"

# 1. the prefix rule
while IFS= read -r sym; do
  [ -z "$sym" ] && continue
  case "$sym" in
    tou_*) ;;
    *) echo "FAIL: exported symbol without tou_ prefix: $sym"; fail=1 ;;
  esac
done <<< "$exports"

# 2. SONAME
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" != "$want_soname" ]; then
  echo "FAIL: SONAME is '${soname}', expected '${want_soname}'"
  fail=1
else
  echo "SONAME: $soname"
fi

# 3. every function of the public header is exported
if [ -n "$header" ] && [ -f "$header" ]; then
  # Strip comments and preprocessor lines (macros are not exported), join the
  # lines, blank out function-pointer names ("(*tou_x_cb)("), cut at ; { }, then
  # take identifiers tou_* followed by "(" outside static inline functions.
  declared=$(sed -e 's://.*$::' -e '/^[[:space:]]*#/d' "$header" | tr '\n' ' ' \
             | sed -e 's:/\*[^*]*\*\+\([^/*][^*]*\*\+\)*/: :g' \
             | sed -E 's/\([[:space:]]*\*[[:space:]]*tou_[A-Za-z0-9_]+[[:space:]]*\)/(*)/g' \
             | tr ';{}' '\n\n\n' | grep -v 'static[[:space:]]\+inline' \
             | grep -oE '(^|[^A-Za-z0-9_])tou_[A-Za-z0-9_]+[[:space:]]*\(' \
             | grep -oE 'tou_[A-Za-z0-9_]+' | sort -u || true)
  n=0
  while IFS= read -r fn; do
    [ -z "$fn" ] && continue
    n=$((n + 1))
    if ! grep -qx "$fn" <<< "$exports"; then
      echo "FAIL: $fn is declared in $(basename "$header") but not exported"
      fail=1
    fi
  done <<< "$declared"
  echo "functions declared in $(basename "$header"): $n"
else
  echo "note: no public header at '${header}', declaration check skipped"
fi

[ $fail -eq 0 ] && echo "OK"
exit $fail
