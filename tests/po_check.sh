#!/bin/sh
# po_check.sh PO XGETTEXT "XGETTEXT ARGS" SOURCE...: a translation is complete. The template
# is made afresh from the sources (so a message added without updating po/ fails here), and
# every one of its messages must be translated in PO, none fuzzy, with msgfmt --check clean
# (format strings that match, plural forms, the header).
set -eu
po=$1 xgettext=$2 args=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
"$xgettext" $args -o "$tmp/fresh.pot" "$@"
fail=0
msgfmt --check --statistics -o /dev/null "$po" 2>"$tmp/stats" || fail=1
cat "$tmp/stats"
if grep -Eq 'untranslated|fuzzy' "$tmp/stats"; then
        echo "po_check: $po has untranslated or fuzzy messages" >&2
        fail=1
fi
# Every message of the sources is in the translation (msgcmp: untranslated and fuzzy ones
# count as missing).
msgcmp "$po" "$tmp/fresh.pot" || fail=1
if [ "$fail" = 0 ]; then
        echo "po_check: $po complete"
fi
exit "$fail"
