#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make series`: commit patches/series onto the pristine 6.12 tree in a
# cached git repository and write it to out/series/ as `git format-patch`
# mails with a cover letter, authored and signed off by your git identity.
#
# `make series-check` (--check) then proves the mails: git am onto the
# pristine tree, the result equal to the tree `make test` builds,
# checkpatch --strict in-tree on every patch, the MAINTAINERS patterns
# (get_maintainer's self-test unless --quick), every kernel-doc directive
# with its file at every step, and, unless --quick, scripts/series-build.sh:
# the directories each patch touches with DMA_API_DEBUG on and off, sparse
# and W=1 on every object the series adds or changes against the same
# objects before it, and the whole kernel at the end. `make test` runs
# --check --quick.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

check=0
quick=0
for a in "$@"; do
	case $a in
	--check) check=1 ;;
	--quick) quick=1 ;;
	*) echo "usage: $0 [--check [--quick]]" >&2; exit 2 ;;
	esac
done
version=${SERIES_VERSION:-1}
out=${DMA_IOVA_OUT:-$repo/out}/series
final=$("$repo/scripts/prepare-tree.sh" | tail -n 1)
pristine=$CACHE/pristine-$ver
src=$CACHE/series-$ver

if [ -z "$(git config user.name)" ] || [ -z "$(git config user.email)" ]; then
	if [ $check -eq 0 ]; then
		echo "no git identity: git config --global user.name/user.email" >&2
		exit 1
	fi
	# A check needs some identity; mails made this way are not for sending.
	export GIT_AUTHOR_NAME="series check" GIT_AUTHOR_EMAIL="check@localhost"
	export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME
	export GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
fi

if [ ! -f "$src/.git/dma-iova-base" ]; then
	echo ">> importing the pristine tree into git at $src" >&2
	rm -rf "$src"
	cp -a "$pristine" "$src"
	rm -f "$src/.unpacked"
	# Debian's linux-source ships a top-level .gitignore ending in "/*":
	# without -f, git add commits nothing.
	(cd "$src" && git init -q -b dma-iova && git add -f -A &&
		GIT_AUTHOR_NAME=linux-source-6.12 GIT_AUTHOR_EMAIL=debian-kernel@lists.debian.org \
		GIT_COMMITTER_NAME=linux-source-6.12 GIT_COMMITTER_EMAIL=debian-kernel@lists.debian.org \
		GIT_AUTHOR_DATE="@0 +0000" GIT_COMMITTER_DATE="@0 +0000" \
		git commit -q -m "Linux $ver (Debian linux-source-6.12)" &&
		git tag -f base >/dev/null && touch .git/dma-iova-base)
fi
cd "$src"
git checkout -q -f -B dma-iova base
git clean -q -fdx
python3 "$repo/scripts/series.py" build "$src"
n=$(git rev-list --count base..dma-iova)

# Who gets it: get_maintainer.pl on the series, as a submitter runs it.
rm -rf "$out"
mkdir -p "$out"
git format-patch -q -o "$out" base..dma-iova
gm() { perl scripts/get_maintainer.pl --nogit --nogit-fallback --norolestats --nokeywords "$@" "$out"/*.patch; }
to=$(gm --m --nor --nol | paste -sd, -)
cc=$(gm --nom --r --l | paste -sd, -)
rm -f "$out"/*.patch
git format-patch -q --cover-letter -n -v"$version" --base=base \
	--to="$to" --cc="$cc" -o "$out" base..dma-iova
cover=$(ls "$out"/*0000-cover-letter.patch)
python3 "$repo/scripts/series-cover.py" "$cover" \
	"${DMA_IOVA_OUT:-$repo/out}/bench/results.json" "$ver" "$n"
echo ">> $((n + 1)) mails in $out (v$version, base: Linux $ver)"
ls "$out" | sed 's/^/   /'
[ $check -eq 1 ] || exit 0

pass=0
fail=0
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
ok() { echo "ok   $*"; pass=$((pass + 1)); }

# 1. The mails apply to the pristine tree and give the same commits.
git checkout -q -f -B series-am base
mails=$(ls "$out"/*.patch | grep -v 0000-cover-letter)
git am -q --whitespace=error-all $mails || true
if [ "$(git rev-list --count base..series-am)" -eq "$n" ] &&
	git diff --quiet dma-iova series-am; then
	ok "git am: $n patches apply to Linux $ver, same tree as the branch"
else
	bad "git am of the mails onto Linux $ver"
	git am --abort 2>/dev/null || true
fi

# 2. The series' tree is the tree `make test` builds.
if differ=$(diff -rq -x .git -x .unpacked -x .ready -x .dma-iova-files \
	"$src" "$final"); then
	ok "final tree equals make test's tree ($final)"
else
	bad "final tree differs from make test's: $(echo "$differ" | wc -l) files"
	echo "$differ" | head
fi

# 3. checkpatch --strict, in-tree, on every mail. A patch adding files
# before the MAINTAINERS patch gets FILE_PATH_CHANGES; that one is allowed
# when MAINTAINERS at the end names a maintainer for every added file.
cp_out=$(perl scripts/checkpatch.pl --strict --terse --show-types \
	$mails 2>&1 || true)
cp_err=$(echo "$cp_out" | grep -c ': ERROR:' || true)
cp_warn=$(echo "$cp_out" | grep -c ': WARNING:' || true)
cp_check=$(echo "$cp_out" | grep -c ': CHECK:' || true)
cp_paths=$(echo "$cp_out" | grep -c 'WARNING:FILE_PATH_CHANGES:' || true)
uncovered=$(git diff --name-only --diff-filter=A base dma-iova | while read -r f; do
	[ -n "$(perl scripts/get_maintainer.pl --nogit --nogit-fallback --m \
		--nor --nol -f "$f")" ] || echo "$f"
done)
summary="$cp_err errors, $cp_warn warnings ($cp_paths FILE_PATH_CHANGES), $cp_check checks in $n patches"
if [ $((cp_err + cp_warn - cp_paths + cp_check)) -eq 0 ] && [ -z "$uncovered" ]; then
	ok "checkpatch --strict (in-tree): $summary; MAINTAINERS covers every added file"
else
	bad "checkpatch --strict (in-tree): $summary"
	echo "$cp_out" | grep -E ': (ERROR|WARNING|CHECK):' | grep -v FILE_PATH_CHANGES | head -20
	[ -z "$uncovered" ] || echo "no maintainer for: $uncovered"
fi

# 4. Every MAINTAINERS pattern the series adds matches a file; the full
# check runs get_maintainer's own self-test over all patterns (minutes).
stale=""
for pat in $(git diff base dma-iova -- MAINTAINERS | sed -n 's/^+F:\t//p'); do
	[ -n "$(git ls-files -- "$pat" | head -n 1)" ] || stale="$stale $pat"
done
if [ -n "$stale" ]; then
	bad "MAINTAINERS patterns matching no file:$stale"
elif [ $quick -eq 1 ]; then
	ok "every MAINTAINERS pattern the series adds matches a file"
else
	gm_out=$(perl scripts/get_maintainer.pl --self-test=patterns 2>&1 || true)
	# 6.12 has stale patterns of its own: only ours count.
	ours=$(echo "$gm_out" | grep -E 'dma[-_]iova|hmm-dma|blk_dma|umem_link|kmemleak_check|lib/tests' || true)
	if [ -z "$ours" ]; then
		ok "get_maintainer.pl --self-test=patterns: none of ours among 6.12's $(echo "$gm_out" | grep -c .) reports"
	else
		bad "get_maintainer.pl --self-test=patterns: $ours"
	fi
fi

# 5. At every step, each kernel-doc directive names a file that exists.
missing=0
for c in $(git rev-list --reverse base..dma-iova); do
	for f in $(git show "$c:Documentation/core-api/dma-iova.rst" 2>/dev/null |
		sed -n 's/^\.\. kernel-doc:: //p'); do
		git cat-file -e "$c:$f" 2>/dev/null ||
			{ bad "$(git log -1 --format=%s "$c"): kernel-doc:: $f before the file"; missing=1; }
	done
done
[ $missing -eq 0 ] && ok "every kernel-doc directive arrives with the file it reads"

git checkout -q -f dma-iova
if [ $quick -eq 0 ]; then
	[ -f "$build/.config" ] || "$repo/scripts/build-kernel.sh" > /dev/null
	while read -r line; do
		echo "$line"
		case $line in
		"ok "*) pass=$((pass + 1)) ;;
		"FAIL "*) fail=$((fail + 1)) ;;
		esac
	done < <("$repo/scripts/series-build.sh" "$src" "$build/.config" 2>&1)
	git checkout -q -f dma-iova
fi

echo "series-check: $pass passed, $fail failed"
[ $fail -eq 0 ]
